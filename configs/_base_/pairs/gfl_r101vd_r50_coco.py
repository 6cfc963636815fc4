# A GFL teacher/student pair on COCO: GFL R101vd (../teachers/, trained first: the mmdet model
# zoo has none) -> GFL R50 (ImageNet-pretrained, torchvision://resnet50), trained on the
# teacher's recipe as the seed did (2x, multi-scale 480-800, EMA; see
# ../students/gfl_r50_fpn_ms-480-800-2x-ema_coco.py). Both record the 5 FPN levels (`fpn`) and
# the head's classification logits (`cls`: bbox_head.gfl_cls, once per level); the teacher
# runs its head's forward (teacher_forward='head'). Method configs add their losses.
_base_ = ['../students/gfl_r50_fpn_ms-480-800-2x-ema_coco.py', '../distill/recorders.py']

teacher_ckpt = 'work_dirs/gfl_r101vd_fpn_ms-480-800-2x-ema_coco/epoch_24.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='DetFpnTeacherDistill',
    architecture={{_base_.model}},
    teacher='{{fileDirname}}/../teachers/gfl_r101vd_fpn_ms-480-800-2x-ema_coco.py',
    teacher_ckpt=teacher_ckpt,
    teacher_forward='head',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders={{_base_.gfl_fpn_cls_recorders}},
        teacher_recorders={{_base_.gfl_fpn_cls_recorders}}))
