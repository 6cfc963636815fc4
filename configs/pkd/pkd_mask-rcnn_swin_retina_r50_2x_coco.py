# PKD from a transformer two-stage teacher to a one-stage CNN student, as MMRazor 1.0's
# configs/distill/mmdet/pkd/pkd_fpn_mask-rcnn_swin_retina_r50_2x_coco.py: teacher Mask R-CNN
# Swin-S, multi-scale crop 3x (48.2 box AP in MMRazor's metafile), student RetinaNet R50 2x:
# 37.4 -> 41.5 box AP. PKD on the first 4 neck outputs, weight 6; mmdet's 2x recipe (SGD 0.01).
# MMRazor trains it on coco_instance (masks loaded, boxes evaluated); the student needs no
# masks and the teacher runs its backbone and neck only, so this trains on coco_detection.
#   bash tools/dist_train.sh configs/pkd/pkd_mask-rcnn_swin_retina_r50_2x_coco.py 8
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../_base_/distill/pkd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::swin/mask-rcnn_swin-s-p4-w7_fpn_amp-ms-crop-3x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/swin/'
    'mask_rcnn_swin-s-p4-w7_fpn_fp16_ms-crop-3x_coco/'
    'mask_rcnn_swin-s-p4-w7_fpn_fp16_ms-crop-3x_coco_20210903_104808-b92c91f1.pth')
