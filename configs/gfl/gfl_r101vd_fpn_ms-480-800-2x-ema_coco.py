# The seed's GFL teacher, GFL R101vd (PaddleDetection gfl_r101vd_fpn_mstrain_2x_coco.yml,
# 46.8 box AP): mmdet's GFL with a ResNet101-vd backbone (ResNetV1d: deep 3-conv stem,
# average-pool downsampling) from MMClassification's ImageNet weights, on the same recipe
# as ./gfl_r50_fpn_ms-480-800-2x-ema_coco.py (2x, multi-scale 480-800, EMA).
# The mmdet model zoo has no GFL R101vd: the seed's pairs (configs/cwd/cwd_gfl_r101vd_r50.py,
# configs/ld/ld_gfl_r101vd_r18vd.py) use Paddle's trained one, converted
# (./gfl_r101vd_paddle_coco.py); to train one here instead, then set it as their teacher:
#   bash tools/dist_train.sh configs/gfl/gfl_r101vd_fpn_ms-480-800-2x-ema_coco.py 8
_base_ = './gfl_r50_fpn_ms-480-800-2x-ema_coco.py'

model = dict(
    backbone=dict(
        type='ResNetV1d',
        depth=101,
        # MMClassification's ResNet-vd names its stem and first shortcut differently from
        # mmdet's; this init renames them and loads strictly (projects/detkd/models/pretrained.py)
        init_cfg=dict(type='PretrainedMMClsResNet', checkpoint='mmcls://resnet101_v1d')))
