# What the teacher/student pairs under ../pairs/ record, on both models alike, as plain
# variables a pair puts into its distiller (student_recorders and teacher_recorders):
# `fpn`, the 5 FPN levels (the neck's output tuple, level i is data_idx i); for GFL also `cls`,
# the head's classification logits (bbox_head.gfl_cls runs once per level, level i is
# record_idx i; the teacher must run its head: teacher_forward='head').
fpn_recorders = dict(fpn=dict(type='ModuleOutputs', source='neck'))
gfl_fpn_cls_recorders = dict(
    fpn_recorders, cls=dict(type='ModuleOutputs', source='bbox_head.gfl_cls'))
