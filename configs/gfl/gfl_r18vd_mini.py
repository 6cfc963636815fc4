# Mini student of the LD pair: GFL with a ResNet18-vd backbone (mmdet's ResNetV1d), as the
# seed's GFL R18vd, on the embedded mini dataset, 4 epochs.
#   python tools/train.py configs/gfl/gfl_r18vd_mini.py
_base_ = './gfl_r18_mini.py'
model = dict(backbone=dict(type='ResNetV1d'))
