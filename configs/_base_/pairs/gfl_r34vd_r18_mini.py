# The mini GFL teacher/student pair: GFL R34vd (configs/mini/gfl_r34vd_mini.py, trained first)
# -> GFL R18 (configs/mini/gfl_r18_mini.py). Both record the 5 FPN levels (`fpn`) and the
# head's classification logits (`cls`, bbox_head.gfl_cls, once per level); the teacher runs
# its head's forward for them (teacher_forward='head'). Method configs add their losses.
_base_ = ['../../mini/gfl_r18_mini.py', '../distill/recorders.py']

teacher_ckpt = 'work_dirs/gfl_r34vd_mini/epoch_8.pth'  # tools/train.py's default place
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='DetFpnTeacherDistill',
    architecture={{_base_.model}},
    teacher='{{fileDirname}}/../../mini/gfl_r34vd_mini.py',
    teacher_ckpt=teacher_ckpt,
    teacher_forward='head',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders={{_base_.gfl_fpn_cls_recorders}},
        teacher_recorders={{_base_.gfl_fpn_cls_recorders}}))
