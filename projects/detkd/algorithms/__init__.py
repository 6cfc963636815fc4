from .fpn_teacher_distill import DetFpnTeacherDistill

__all__ = ['DetFpnTeacherDistill']
