# A YOLOv3 with a MobileNetV1 x0.5 backbone shrunk to train on 2 CPU cores (7 classes, 256 px),
# from scratch: the structure of configs/yolov3/yolov3_mv1_608_270e_coco.py, narrower (see
# configs/yolov3/yolov3_mv1_mini.py, the mini student, and yolov3_r34_mini.py, the teacher).
model = dict(
    type='YOLOV3',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='MobileNetV1', widen_factor=0.5, out_indices=(3, 5, 12)),
    neck=dict(
        type='YOLOV3Neck', num_scales=3, in_channels=[512, 256, 128], out_channels=[128, 64, 32]),
    bbox_head=dict(
        type='YOLOV3Head',
        num_classes=7,
        in_channels=[128, 64, 32],
        out_channels=[256, 128, 64],
        anchor_generator=dict(
            type='YOLOAnchorGenerator',
            base_sizes=[[(49, 38), (66, 83), (157, 137)], [(13, 26), (26, 19), (25, 50)],
                        [(4, 5), (7, 13), (14, 10)]],
            strides=[32, 16, 8]),
        bbox_coder=dict(type='YOLOBBoxCoder'),
        featmap_strides=[32, 16, 8],
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0, reduction='sum'),
        loss_conf=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0, reduction='sum'),
        loss_xy=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=2.0, reduction='sum'),
        loss_wh=dict(type='L1Loss', loss_weight=2.0, reduction='sum')),
    train_cfg=dict(
        assigner=dict(type='GridAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0)),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.01,
        conf_thr=0.005,
        nms=dict(type='nms', iou_threshold=0.45),
        max_per_img=100))
