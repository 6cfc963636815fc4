# CWD (Shu et al., ICCV 2021) on Faster R-CNN, as MMRazor 1.0's
# configs/distill/mmdet/cwd/cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py (which no longer loads on
# mmdet 3.3: it names the configs by their mmdet 2 file names, and its teacher checkpoint is a
# bare file name): teacher Faster R-CNN R101 2x (39.8 box AP, mmdet zoo), student Faster R-CNN
# R50 1x (37.4 alone), MMRazor's ChannelWiseDivergence, tau 1, loss weight 10, on the 5 outputs
# of the neck (P2-P6); mmdet's 1x recipe (SGD 0.02 for 8 GPUs x 2 images), no clipping.
# MMRazor publishes no result for it.
#   bash tools/dist_train.sh configs/cwd/cwd_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py 8
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', '../_base_/distill/cwd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r101_fpn_2x_coco/'
    'faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth',
    distiller=dict(distill_losses={f'loss_cwd_fpn{i}': dict(loss_weight=10.0)
                                   for i in range(5)}))
