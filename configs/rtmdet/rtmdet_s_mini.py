# Mini RTMDet teacher: mmdet's RTMDet-s (CSPNeXt 0.33 / 0.5, 128-channel neck and head) on the
# mini recipe of rtmdet_tiny_mini.py, trained twice as long (24 epochs, the last 2 without
# mosaic) so that it is clearly better than its students.
#   python tools/train.py configs/rtmdet/rtmdet_s_mini.py
_base_ = './rtmdet_tiny_mini.py'
model = dict(
    backbone=dict(deepen_factor=0.33, widen_factor=0.5),
    neck=dict(in_channels=[128, 256, 512], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))
max_epochs = 24
base_lr = 0.002
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-3, by_epoch=False, begin=0, end=100),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=max_epochs // 2,
        end=max_epochs,
        T_max=max_epochs // 2,
        by_epoch=True,
        convert_to_iter_based=True)
]
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0002,
        update_buffers=True,
        priority=49),
    dict(
        type='PipelineSwitchHook',
        switch_epoch=max_epochs - 2,
        switch_pipeline={{_base_.train_pipeline_stage2}})
]
