# GFL R18vd, the seed's LD student (PaddleDetection gfl_r18vd_1x_coco.yml, 36.6 box AP trained
# alone): mmdet's GFL R50 1x (single scale 1333x800, 12 epochs, steps at 8 and 11, SGD 0.01 for
# 8 GPUs x 2 images, 500-iteration linear warmup) with a ResNet18-vd backbone, C3-C5 into a
# 256-channel FPN, P6-P7 from P5's output. Trained alone, it is the baseline of
# configs/ld_gfl_r101vd_r18vd.py.
#   bash tools/dist_train.sh configs/gfl/gfl_r18vd_fpn_1x_coco.py 8
# ImageNet weights: the seed starts from Paddle's ResNet18_vd_pretrained.pdparams (no OpenMMLab
# zoo publishes a ResNet18-vd), converted to the file the init names:
#   wget https://paddledet.bj.bcebos.com/models/pretrained/ResNet18_vd_pretrained.pdparams
#   python tools/model_converters/paddle_to_mmdet.py resnet_vd \
#       ResNet18_vd_pretrained.pdparams checkpoints/resnet18_vd_paddle_imagenet.pth
# The model is laid out as Paddle's GFL (as configs/gfl/gfl_r101vd_paddle_coco.py, where each
# setting is explained; tests/test_paddle_converters.py proves the maps equal): the backbone is
# PaddleResNet(variant='d') (mmdet's ResNetV1d plus the projection shortcut Paddle gives res2a,
# which its ImageNet file holds), the FPN puts a ReLU before the P7 conv, and the head's tower
# convs keep their bias before the GroupNorm (ConvWithBias).
# Set as Paddle's, where mmdet's GFL differs: the warmup starts at 0.1 x lr (mmdet's: 0.001 x);
# the backbone BNs are frozen, affine parameters included (Paddle's freeze_norm default;
# mmdet trains them); the score threshold is 0.025. Paddle's freeze_at 0 freezes the stem and
# res2, as frozen_stages=1 (mmdet's default) does.
_base_ = 'mmdet::gfl/gfl_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='PaddleResNet',
        variant='d',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/resnet18_vd_paddle_imagenet.pth')),
    neck=dict(in_channels=[64, 128, 256, 512], relu_before_extra_convs=True),
    bbox_head=dict(conv_cfg=dict(type='ConvWithBias')),
    test_cfg=dict(score_thr=0.025))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)  # 8 GPUs x 2 images
