# FGD, the authors' Faster R-CNN R101 -> R50 pair (github.com/yzd-v/FGD,
# configs/distillers/fgd/fgd_faster_rcnn_r101_fpn_2x_distill_faster_rcnn_r50_fpn_2x_coco.py):
# teacher Faster R-CNN R101 2x (39.8 box AP, mmdet zoo), student Faster R-CNN R50 2x (38.4
# alone); the authors publish no result for this pair. FGD on P2-P5 with the two-stage weights,
# neck, RPN and RoI heads inherited (configs/_base_/distill/fgd_two_stage.py); the student's
# recipe is mmdet's 2x (SGD 0.02 for 8 GPUs x 2 images) with the authors' clipping at 35.
#   bash tools/dist_train.sh configs/fgd/fgd_faster-rcnn_r101_faster-rcnn_r50_2x_coco.py 8
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py', '../_base_/distill/fgd_two_stage.py'
]
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r101_fpn_2x_coco/'
    'faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth')
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
