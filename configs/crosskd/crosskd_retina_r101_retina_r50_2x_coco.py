# CrossKD (Wang et al., CVPR 2024) as the authors' crosskd_r50_retinanet_r101_fpn_2x_coco:
# teacher RetinaNet R101 2x (mmdet zoo, 38.9 box AP), student RetinaNet R50 2x: 37.4 -> 39.7
# box AP (the authors'). The cross point after the third of the 4 head convs,
# QualityFocalKDLoss (1) and BoxKDLoss (GIoU, 1); mmdet's 2x recipe (SGD 0.01, batch 16).
#   bash tools/dist_train.sh configs/crosskd/crosskd_retina_r101_retina_r50_2x_coco.py 8
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../_base_/distill/crosskd_retina.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
    'retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')
