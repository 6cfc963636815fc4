# A GFL (Li et al., NeurIPS 2020) shrunk to train on 2 CPU cores: the backbone, 64-channel GN
# FPN and data preprocessing of retinanet_mini.py, with mmdet's GFL on top (as in
# configs/gfl/gfl_r50_fpn_1x_coco.py): P6-P7 from the FPN outputs, one square anchor per
# position, ATSS assignment, quality focal loss, distribution focal loss, GIoU loss, and a
# 64-channel, 2-conv GFL head (GN, as mmdet's GFL head always has).
_base_ = './retinanet_mini.py'
model = dict(
    type='GFL',
    neck=dict(add_extra_convs='on_output'),
    bbox_head=dict(
        _delete_=True,
        type='GFLHead',
        num_classes=7,  # the mini dataset's classes
        in_channels=64,
        stacked_convs=2,
        feat_channels=64,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=8,
            scales_per_octave=1,
            strides=[8, 16, 32, 64, 128]),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(
        _delete_=True,
        assigner=dict(type='ATSSAssigner', topk=9),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(nms=dict(iou_threshold=0.6)))
