# PP-YOLOE+ shrunk to train from scratch on 2 CPU cores: the structure of
# configs/ppyoloe/ppyoloe_plus_l_80e_coco.py (CSPResNet with the large stem and RepVGG alpha,
# CustomCSPPAN with SPP, the ET-head with ATSS then task-aligned assignment) at depth 0.33 (as
# s) and width 0.25 (half of s), for the mini dataset's 7 classes.
depth_mult = 0.33
width_mult = 0.25
model = dict(
    type='PPYOLOE',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='CSPResNet', depth_mult=depth_mult, width_mult=width_mult),
    neck=dict(
        type='CustomCSPPAN',
        in_channels=(256, 512, 1024),
        out_channels=(192, 384, 768),
        depth_mult=depth_mult,
        width_mult=width_mult),
    bbox_head=dict(
        type='PPYOLOEHead',
        num_classes=7,
        in_channels=(192, 384, 768),
        width_mult=width_mult,
        static_assigner_epoch=4),
    test_cfg=dict(
        score_thr=0.01, nms_top_k=1000, nms=dict(type='nms', iou_threshold=0.7), max_per_img=100))
