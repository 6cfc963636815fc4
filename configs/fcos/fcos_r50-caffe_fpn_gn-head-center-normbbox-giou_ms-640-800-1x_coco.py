# The FGD authors' FCOS R50 student (github.com/yzd-v/FGD,
# configs/fcos/fcos_center-normbbox-giou_r50_caffe_fpn_gn-head_mstrain_1x_coco.py), which the
# mmdet zoo lacks: mmdet's center-sampling, normalised-box, GIoU FCOS R50 (caffe backbone from
# detectron2) with the centerness on the classification branch (centerness_on_reg=False) and
# multi-scale training 1333x(640 or 800), 1x; NMS 0.6. Trainable alone (the baseline; the
# authors report 38.5 box AP for it):
#   bash tools/dist_train.sh \
#       configs/fcos/fcos_r50-caffe_fpn_gn-head-center-normbbox-giou_ms-640-800-1x_coco.py 8
_base_ = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = dict(bbox_head=dict(centerness_on_reg=False))
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
