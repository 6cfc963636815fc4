# Mini teacher: RetinaNet R34 (64-ch FPN and head) on the embedded mini dataset, trained twice
# as long as the students so that it is clearly better than them (it trains from scratch).
#   python tools/train.py configs/mini/retinanet_r34_mini.py
_base_ = './retinanet_r18_mini.py'
model = dict(backbone=dict(depth=34))

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[6],
         gamma=0.1)
]
