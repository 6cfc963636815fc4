# An FCOS shrunk to train on 2 CPU cores, from scratch: the mini RetinaNet's ResNet and
# 64-channel GroupNorm FPN (configs/_base_/models/retinanet_mini.py, P3-P7) under mmdet's FCOS
# head (anchor-free: one point per location, centerness, IoU loss), 64 channels and 2 convs
# with GroupNorm, centre sampling and normalised boxes, for the mini dataset's 7 classes: the
# structure of configs/fcos/ (the FGD authors' FCOS pair) at the mini pairs' size.
_base_ = './retinanet_mini.py'
model = dict(
    type='FCOS',
    bbox_head=dict(
        _delete_=True,
        type='FCOSHead',
        num_classes=7,
        in_channels=64,
        stacked_convs=2,
        feat_channels=64,
        strides=[8, 16, 32, 64, 128],
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        norm_on_bbox=True,
        centerness_on_reg=False,
        center_sampling=True,
        conv_bias=True,
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(_delete_=True, allowed_border=-1, pos_weight=-1, debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100))
