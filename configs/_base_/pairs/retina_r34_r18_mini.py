# The mini teacher/student pair: RetinaNet R34 (configs/mini/retinanet_r34_mini.py, trained
# first) -> RetinaNet R18 (configs/mini/retinanet_r18_mini.py), the 5 FPN levels of both
# recorded. Method configs inherit it and add their losses (configs/mini/fgd_*, cwd_*).
_base_ = ['../../mini/retinanet_r18_mini.py', '../distill/recorders.py']

teacher_ckpt = 'work_dirs/retinanet_r34_mini/epoch_8.pth'  # tools/train.py's default place
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='DetFpnTeacherDistill',
    architecture={{_base_.model}},
    teacher='{{fileDirname}}/../../mini/retinanet_r34_mini.py',
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders={{_base_.fpn_recorders}},
        teacher_recorders={{_base_.fpn_recorders}}))
