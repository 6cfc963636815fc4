# FBKD (Zhang & Ma, ICLR 2021) as MMRazor 1.0's
# configs/distill/mmdet/fbkd/fbkd_fpn_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py: teacher
# Faster R-CNN R101 1x (39.4 box AP, mmdet zoo), student Faster R-CNN R50 1x starting, as
# MMRazor's (pretrained=True), from the zoo's trained R50 1x (37.4): 37.4 -> 39.3 box AP
# (MMRazor's metafile). FBKD on the 4 FPN convs; mmdet's 1x recipe (SGD 0.02). Here the
# teacher runs its backbone and neck only (MMRazor's runs its whole loss), the same records.
#   bash tools/dist_train.sh configs/fbkd/fbkd_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py 8
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', '../_base_/distill/fbkd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
__student = _base_.model
__student.init_cfg = dict(
    type='Pretrained',
    checkpoint='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
model = _base_.pop('distill')
model.update(
    architecture=__student,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r101_fpn_1x_coco/faster_rcnn_r101_fpn_1x_coco_20200130-f513f705.pth')
