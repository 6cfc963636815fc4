# A teacher/student pair for feature distillation: RetinaNet R101 (mmdet model zoo, 2x) ->
# RetinaNet R50 (the seed's multi-scale 2x student), the 5 FPN levels of both recorded.
# Method configs inherit it and add their losses (configs/fgd_retina_r101_r50.py, ...).
_base_ = ['../students/retinanet_r50_fpn_ms-640-800-2x_coco.py', '../distill/recorders.py']

teacher_ckpt = ('https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
                'retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='DetFpnTeacherDistill',
    architecture={{_base_.model}},  # RetinaNet R50, ImageNet-pretrained (torchvision://resnet50)
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders={{_base_.fpn_recorders}},
        teacher_recorders={{_base_.fpn_recorders}}))
