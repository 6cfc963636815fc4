# GFL R101vd laid out as PaddleDetection 2.6's gfl_r101vd_fpn_mstrain_2x_coco.yml (46.8 box AP
# there): the seed's GFL teacher, run from Paddle's own trained weights.
#   wget https://paddledet.bj.bcebos.com/models/gfl_r101vd_fpn_mstrain_2x_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py gfl_r101vd \
#       gfl_r101vd_fpn_mstrain_2x_coco.pdparams \
#       checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth
#   python tools/test.py configs/gfl/gfl_r101vd_paddle_coco.py \
#       checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth
# As a pair's teacher: teacher='detkd::gfl/gfl_r101vd_paddle_coco.py',
# teacher_ckpt='checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth'.
#
# The recipe is ./gfl_r101vd_fpn_ms-480-800-2x-ema_coco.py's (2x, multi-scale 480-800, EMA); the
# model differs from it where Paddle's GFL computes something else, so that the converted weights
# give Paddle's maps (tests/test_paddle_converters.py: backbone, FPN and head to 1e-4):
# - backbone PaddleResNet(variant='d'): for depth 101 the same layers as mmdet's ResNetV1d (deep
#   32/32/64 stem, 2x2 average pool before the shortcut convs); for depths 18/34 it adds the
#   projection shortcut Paddle gives the first block (converted students, gfl_r18vd);
# - FPN relu_before_extra_convs=True: Paddle's FPN default (its GFL config leaves it), P7 is
#   conv(relu(P6)); mmdet's GFL configs compute conv(P6);
# - head towers conv_cfg=dict(type='ConvWithBias'): Paddle's FCOSFeat convs have a bias in front
#   of their GroupNorm (bias_on=True), which mmdet's ConvModule drops.
# Same in both (checked): the FPN's convs and its nearest 2x upsampling, the per-level learnable
# scale of the distribution logits (Paddle's ScaleReg), the Integral over 17 bins, GroupNorm(32),
# BN eps 1e-5, points at (x, y) * stride.
# Training settings as Paddle's: freeze_at 0 freezes the stem and res2 (frozen_stages=1, mmdet's
# default too) and freeze_norm (its default) keeps every backbone BN frozen, affine parameters
# included (requires_grad=False; mmdet's GFL trains them); ImageNet init from Paddle's
# ResNet101_vd_pretrained.pdparams, converted with ARCH resnet_vd to
# checkpoints/resnet101_vd_paddle_imagenet.pth.
# Post-processing: score threshold 0.025 as Paddle's; mmdet still keeps the 1000 best points per
# level before NMS (Paddle: all of them, 1000 per class) and clips the boxes to the image (Paddle
# does not), so detections may differ at the borders; the maps and boxes before NMS do not.
_base_ = './gfl_r101vd_fpn_ms-480-800-2x-ema_coco.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='PaddleResNet',
        variant='d',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/resnet101_vd_paddle_imagenet.pth')),
    neck=dict(relu_before_extra_convs=True),
    bbox_head=dict(conv_cfg=dict(type='ConvWithBias')),
    test_cfg=dict(score_thr=0.025))
