# PKD (Cao et al., NeurIPS 2022) as MMRazor 1.0's
# configs/distill/mmdet/pkd/pkd_fpn_faster-rcnn_r101_faster-rcnn_r50_2x_coco.py: teacher Faster
# R-CNN R101 2x (39.8 box AP, mmdet zoo), student Faster R-CNN R50 2x: 38.4 -> 40.4 box AP
# (MMRazor's metafile; 40.3 in its README). PKD on the first 4 neck outputs, weight 6;
# mmdet's 2x recipe (SGD 0.02 for 8 GPUs x 2 images).
#   bash tools/dist_train.sh configs/pkd/pkd_faster-rcnn_r101_faster-rcnn_r50_2x_coco.py 8
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py', '../_base_/distill/pkd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r101_fpn_2x_coco/'
    'faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth')
