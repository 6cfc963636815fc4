# YOLOv3 with a MobileNetV1 backbone on COCO at 608: the student of the seed's YOLOv3
# distillation (PaddleDetection 2.6 configs/yolov3/yolov3_mobilenet_v1_270e_coco.yml, 29.4 box
# mAP there), on mmdet's YOLOV3 / YOLOV3Neck / YOLOV3Head. 8 GPUs x 8 images:
#   bash tools/dist_train.sh configs/yolov3/yolov3_mv1_608_270e_coco.py 8
# Backbone init: Paddle's ImageNet MobileNetV1_pretrained.pdparams converted to
# checkpoints/mobilenet_v1_paddle_imagenet.pth (the backbone's own keys, see MobileNetV1's
# docstring for the renaming):
#   wget https://paddledet.bj.bcebos.com/models/pretrained/MobileNetV1_pretrained.pdparams
#   python tools/model_converters/paddle_to_mmdet.py mobilenet_v1 \
#       MobileNetV1_pretrained.pdparams checkpoints/mobilenet_v1_paddle_imagenet.pth
# Paddle's trained model (yolov3_mobilenet_v1_270e_coco.pdparams, 29.4) converts with ARCH
# yolov3_mv1 to checkpoints/yolov3_mobilenet_v1_270e_coco_paddle.pth (tools/test.py with this
# config).
#
# The model is laid out as Paddle's: same widths, blocks, anchors (and their order per level),
# channel layout of the head maps (anchor-major: x, y, w, h, obj, classes), LeakyReLU(0.1),
# BN eps, nearest upsampling and concatenation order in the neck (Paddle's detection block
# holds the 3x3 'tip' conv that mmdet's head calls convs_bridge). Paddle's trained weights,
# once renamed, compute the same raw head maps from the same input tensor, and mmdet's decoding
# the same boxes before NMS (tests/test_paddle_converters.py, to 1e-4). What still keeps the
# detections from being identical: the post-processing (below) and the NMS implementation.
#
# Differences from Paddle's recipe (its _base_/optimizer_270e.yml, yolov3_mobilenet_v1.yml,
# yolov3_reader.yml):
# - Training losses (mmdet's YOLOV3Head instead of Paddle's YOLOv3Loss):
#   * assignment: Paddle gives each box to the one best of the 9 anchors (shape IoU) in the cell
#     holding its centre; mmdet's GridAssigner also makes positive every other anchor of that
#     cell with IoU > 0.5 (anchor boxes placed on the cell);
#   * negatives: Paddle ignores the objectness loss of predictions whose *decoded box* overlaps
#     a ground truth by IoU > 0.7 (ignore_thresh); mmdet ignores *anchors* with IoU >= 0.5;
#   * weights: Paddle weights x, y, w, h, objectness and class of a positive by the box's
#     mixup score and x, y, w, h by 2 - w*h (normalised size); mmdet weights x, y, w, h by a
#     constant 2 and ignores mixup scores. w, h use L1 as Paddle (mmdet's YOLOv3 configs: MSE);
#   * scale: Paddle averages its losses over the images, mmdet's heads sum them over a GPU's
#     batch: at the same LR, steps 8x larger than Paddle's. mmdet's own YOLOv3 recipe trains
#     this way at LR 0.001 with gradient clipping at 35, kept here (Paddle does not clip);
#   * label smoothing and IoU losses: off in both (Paddle's label_smooth: false, no iou_loss).
# - Augmentation:
#   * mixup: Paddle blends two images with a Beta(1.5, 1.5) ratio on a black canvas as large
#     as both, and weights the boxes of each by its ratio; mmdet's CachedMixUp blends 0.5/0.5
#     with a partner drawn from a cache of 20 recently loaded images (Paddle: any image), cropped
#     to the first image's size, boxes unweighted. Set so that the partner is neither rescaled
#     (COCO images are at most 640 a side), jittered nor flipped, on a black canvas, as Paddle;
#   * colour: Paddle's RandomDistort adds U(0.5, 1.5) grey levels as "brightness" (a no-op in
#     effect, matched by brightness_delta=1) and rotates hue in YIQ; mmdet's PhotoMetricDistortion
#     shifts hue in HSV and also swaps channels at random half of the time (Paddle does not);
#   * crop: Paddle samples scale [0.3, 1] and aspect [0.5, 2] of the crop, mmdet samples width
#     and height in [0.3, 1] each (aspect within [0.5, 2]); the IoU thresholds are the same;
#   * multi-size: Paddle resizes each batch from the decoded images to one of 320..608 (step 32)
#     with a random one of 5 interpolations; here images go to 608 (bilinear) and
#     BatchSyncRandomResize rescales each batch tensor to the drawn size (bilinear);
#   * Paddle keeps at most 50 boxes an image (PadBox num_max_boxes: 50); mmdet keeps all.
# - Schedule: Paddle's warmup starts at lr 0 (start_factor 0.); mmengine's LinearLR cannot
#   start at 0, so it starts at 1/4000 of the LR (one warmup step ahead).
# - Post-processing: Paddle keeps boxes whose objectness * class score >= 0.01 (objectness
#   >= 0.005) and clips boxes to the image; mmdet thresholds objectness at conf_thr=0.005 and
#   the class score alone at score_thr=0.01 (a superset of Paddle's boxes), and does not clip.
# - Paddle's sync_bn is mmengine's `sync_bn='torch'` below (it applies only when distributed).
_base_ = 'mmdet::yolo/yolov3_d53_8xb8-ms-608-273e_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)

# Paddle's NormalizeImage: ImageNet mean/std on RGB in [0, 1], i.e. these on [0, 255]
data_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32,
    batch_augments=[
        dict(
            type='BatchSyncRandomResize',
            random_size_range=(320, 608),
            size_divisor=32,
            interval=1)
    ])
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='MobileNetV1',
        widen_factor=1.0,
        out_indices=(3, 5, 12),  # Paddle's feature_maps [4, 6, 13]: strides 8, 16, 32
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/mobilenet_v1_paddle_imagenet.pth')),
    neck=dict(in_channels=[1024, 512, 256], out_channels=[512, 256, 128]),
    bbox_head=dict(
        in_channels=[512, 256, 128],
        out_channels=[1024, 512, 256],
        loss_wh=dict(type='L1Loss', loss_weight=2.0, reduction='sum')),
    test_cfg=dict(score_thr=0.01))

backend_args = None
# Paddle: Decode, Mixup, RandomDistort, RandomExpand, RandomCrop, RandomFlip, then the batch's
# random size; mixup until epoch 250 (PipelineSwitchHook below).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    # flips when U(0, 1) > flip_ratio: 1.0 never flips
    dict(
        type='CachedMixUp',
        img_scale=(640, 640),
        ratio_range=(1.0, 1.0),
        flip_ratio=1.0,
        pad_val=0.0,
        max_cached_images=20,
        random_pop=True,
        prob=1.0),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=1,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(
        type='Expand',
        mean=data_preprocessor['mean'],
        to_rgb=data_preprocessor['bgr_to_rgb'],
        ratio_range=(1, 4),
        prob=0.5),
    dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_crop_size=0.3),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=(608, 608), keep_ratio=False),
    dict(type='PackDetInputs')
]
train_pipeline_no_mixup = [t for t in train_pipeline if t['type'] != 'CachedMixUp']
# Paddle's EvalReader: 608x608 without keeping the aspect ratio, bicubic (its interp: 2)
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(608, 608), keep_ratio=False, interpolation='bicubic'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    # every image ends 608x608: no aspect-ratio grouping; Paddle drops the last partial batch
    batch_sampler=None,
    drop_last=True,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 270
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', start_factor=1 / 4000, by_epoch=False, begin=0, end=4000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[216, 243],
        gamma=0.1)
]
# Paddle's L2 decay 5e-4 except where its ParamAttr sets another: none on every BN (norm_decay
# 0.) and on the head's conv bias, and none on MobileNetV1's convs (its conv_decay 0.).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0005),
    paramwise_cfg=dict(
        norm_decay_mult=0., bias_decay_mult=0., custom_keys={'backbone': dict(decay_mult=0.)}),
    clip_grad=dict(max_norm=35, norm_type=2))
# LR 0.001 is for 8 GPUs x 8 images
auto_scale_lr = dict(enable=False, base_batch_size=64)

custom_hooks = [
    dict(type='PipelineSwitchHook', switch_epoch=250, switch_pipeline=train_pipeline_no_mixup)
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5))
sync_bn = 'torch'
