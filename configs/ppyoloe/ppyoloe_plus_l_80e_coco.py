# PP-YOLOE+ l on COCO at 640, 80 epochs: the seed's teacher of l -> m and student of x -> l
# (PaddleDetection 2.6 configs/ppyoloe/ppyoloe_plus_crn_l_80e_coco.yml, 52.9 box mAP there),
# built on mmdet (PPYOLOE = SingleStageDetector with CSPResNet, CustomCSPPAN, PPYOLOEHead).
# 8 GPUs x 8 images:
#   bash tools/dist_train.sh configs/ppyoloe/ppyoloe_plus_l_80e_coco.py 8
# Sizes s/m/x (ppyoloe_plus_{s,m,x}_80e_coco.py) change depth_mult/width_mult only.
# Init: Paddle's Objects365-pretrained PP-YOLOE+ (ppyoloe_crn_l_obj365_pretrained.pdparams, as
# the seed), converted with
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_crn_l_obj365_pretrained.pdparams checkpoints/ppyoloe_crn_l_obj365_paddle.pth
# and loaded with load_from (its 365-class prediction convs do not fit and are skipped, as
# Paddle skips them). `--cfg-options load_from=None` trains from Paddle's random init.
#
# The model is laid out as Paddle's and computes the same head outputs, assignments and losses
# from the same weights and inputs (tests/test_ppyoloe_parity.py). Differences from Paddle's
# recipe (its _base_/optimizer_80e.yml, ppyoloe_plus_crn.yml, ppyoloe_plus_reader.yml):
# - Augmentation:
#   * colour: Paddle's RandomDistort adds U(0.5, 1.5) grey levels as "brightness" (a no-op in
#     effect, matched by brightness_delta=1) and rotates hue in YIQ; mmdet's
#     PhotoMetricDistortion shifts hue in HSV and swaps channels half of the time;
#   * crop: Paddle samples scale [0.3, 1] and aspect [0.5, 2] of the crop, mmdet's
#     MinIoURandomCrop width and height in [0.3, 1] each; the IoU thresholds are the same;
#   * multi-size: Paddle resizes each batch from the decoded images to one of 320..768 (step 32)
#     with a random one of 5 interpolations; here images go to 640x640 (bilinear) and
#     BatchSyncRandomResize rescales each batch tensor to the drawn size (bilinear).
# - Schedule: Paddle's warmup starts at LR 0 and its cosine runs from step 0 (the warmup replaces
#   it for 5 epochs); mmengine's LinearLR cannot start at 0 (it starts at 1e-4 of the LR) and the
#   two schedulers multiply during the warmup (at most 0.7% below Paddle's LR there).
# - EMA: Paddle's ModelEMA (decay 0.9998, 'threshold' warmup: min(decay, (1 + t) / (10 + t)),
#   BN statistics averaged too) is ThresholdEMA with update_buffers=True.
# - Paddle's sync_bn is mmengine's `sync_bn='torch'` below (it applies only when distributed).
# - Paddle's PadGT keeps every box (as mmdet); a batch without any box trains here and crashes
#   Paddle's assigners.
_base_ = ['mmdet::_base_/datasets/coco_detection.py', 'mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)

depth_mult = 1.0
width_mult = 1.0
# Paddle's NormalizeImage for PP-YOLOE+: RGB divided by 255, no mean/std
data_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[0., 0., 0.],
    std=[255., 255., 255.],
    bgr_to_rgb=True,
    pad_size_divisor=32,
    batch_augments=[
        dict(
            type='BatchSyncRandomResize',
            random_size_range=(320, 768),
            size_divisor=32,
            interval=1)
    ])
model = dict(
    type='PPYOLOE',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='CSPResNet',
        depth_mult=depth_mult,
        width_mult=width_mult,
        layers=(3, 6, 6, 3),
        channels=(64, 128, 256, 512, 1024),
        out_indices=(1, 2, 3),
        use_large_stem=True,
        use_alpha=True),
    neck=dict(
        type='CustomCSPPAN',
        in_channels=(256, 512, 1024),
        out_channels=(192, 384, 768),
        depth_mult=depth_mult,
        width_mult=width_mult,
        block_num=3,
        spp=True),
    bbox_head=dict(
        type='PPYOLOEHead',
        num_classes=80,
        in_channels=(192, 384, 768),
        width_mult=width_mult,
        strides=(8, 16, 32),
        reg_max=16,
        grid_cell_scale=5.0,
        grid_cell_offset=0.5,
        static_assigner_epoch=30,
        static_assigner=dict(type='BatchATSSAssigner', topk=9),
        assigner=dict(type='BatchTaskAlignedAssigner', topk=13, alpha=1.0, beta=6.0),
        loss_weight=dict(cls=1.0, iou=2.5, dfl=0.5)),
    train_cfg=None,
    # Paddle's MultiClassNMS: per class the 1000 best above 0.01, NMS at 0.7, 300 kept
    test_cfg=dict(
        score_thr=0.01, nms_top_k=1000, nms=dict(type='nms', iou_threshold=0.7), max_per_img=300))

backend_args = None
# Paddle: Decode, RandomDistort, RandomExpand, RandomCrop, RandomFlip, then the batch's random
# size (keep_ratio false), NormalizeImage, Permute, PadGT
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=1,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    # Paddle's fill value [123.675, 116.28, 103.53] is given in RGB
    dict(type='Expand', mean=[123.675, 116.28, 103.53], to_rgb=True, ratio_range=(1, 4), prob=0.5),
    dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_crop_size=0.3),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=(640, 640), keep_ratio=False),
    dict(type='PackDetInputs')
]
# Paddle's EvalReader: 640x640 without keeping the aspect ratio, bicubic (its interp: 2)
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(640, 640), keep_ratio=False, interpolation='bicubic'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    # every image ends 640x640: no aspect-ratio grouping; Paddle drops the last partial batch
    batch_sampler=None,
    drop_last=True,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 80
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    # cosine over 96 epochs, of which 80 are trained (Paddle's CosineDecay max_epochs: 96)
    dict(
        type='CosineAnnealingLR',
        eta_min=0.,
        by_epoch=True,
        begin=0,
        T_max=96,
        end=96,
        convert_to_iter_based=True)
]
# Paddle's L2 decay 5e-4, none on BN weights and biases (their ParamAttr L2Decay(0.))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.))
# LR 0.001 is for 8 GPUs x 8 images
auto_scale_lr = dict(enable=False, base_batch_size=64)

custom_hooks = [
    dict(
        type='EMAHook', ema_type='ThresholdEMA', momentum=0.0002, update_buffers=True, priority=49)
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3))
sync_bn = 'torch'
load_from = 'checkpoints/ppyoloe_crn_l_obj365_paddle.pth'
