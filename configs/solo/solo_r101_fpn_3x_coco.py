# The FGD authors' SOLO R101 teacher (github.com/yzd-v/FGD, configs/solo/solo_r101_fpn_3x_coco.py,
# trained by them; its checkpoint is not published, and the mmdet zoo has no SOLO R101 3x):
# mmdet's SOLO R50 3x (multi-scale, 36 epochs) with a ResNet-101. Train it for
# configs/fgd/fgd_solo_r101_solo_r50_1x_coco.py:
#   bash tools/dist_train.sh configs/solo/solo_r101_fpn_3x_coco.py 8
_base_ = 'mmdet::solo/solo_r50_fpn_3x_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
