# Mini teacher: GFL with a ResNet34-vd backbone (mmdet's ResNetV1d: deep 3-conv stem, average-
# pool downsampling in the shortcuts), as the seed's GFL R101vd teacher, on the embedded mini
# dataset; trained twice as long as the students so that it is clearly better than them.
#   python tools/train.py configs/mini/gfl_r34vd_mini.py
_base_ = './gfl_r18_mini.py'
model = dict(backbone=dict(type='ResNetV1d', depth=34))

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[6],
         gamma=0.1)
]
