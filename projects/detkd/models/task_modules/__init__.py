"""Assigners mmdet lacks, registered in mmdet's ``TASK_UTILS``."""
from .batch_assigners import BatchAssignResult, BatchATSSAssigner, BatchTaskAlignedAssigner

__all__ = ['BatchAssignResult', 'BatchATSSAssigner', 'BatchTaskAlignedAssigner']
