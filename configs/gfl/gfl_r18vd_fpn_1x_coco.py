# GFL R18vd, the seed's LD student (PaddleDetection gfl_r18vd_1x_coco.yml, 36.6 box AP trained
# alone): mmdet's GFL R50 1x (single scale 1333x800, 12 epochs, steps at 8 and 11, SGD 0.01 for
# 8 GPUs x 2 images, 500-iteration linear warmup) with a ResNet18-vd backbone (ResNetV1d: deep
# 3-conv stem, average-pool downsampling in the shortcuts), C3-C5 into a 256-channel FPN, P6-P7
# from P5's output. Trained alone, it is the baseline of configs/ld_gfl_r101vd_r18vd.py.
#   bash tools/dist_train.sh configs/gfl/gfl_r18vd_fpn_1x_coco.py 8
# ImageNet weights: the seed starts from Paddle's ResNet18_vd_pretrained.pdparams (no OpenMMLab
# zoo publishes a ResNet18-vd); the init expects it converted to the file named below (the
# converter comes with the Paddle-weights tools, tools/model_converters/).
# Set as Paddle's, where mmdet's GFL differs: the warmup starts at 0.1 x lr (mmdet's: 0.001 x),
# and only the stem is frozen (Paddle's freeze_at 0; mmdet's GFL freezes stage 1 too).
_base_ = 'mmdet::gfl/gfl_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ResNetV1d',
        depth=18,
        frozen_stages=0,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/resnet18_vd_paddle_imagenet.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)  # 8 GPUs x 2 images
