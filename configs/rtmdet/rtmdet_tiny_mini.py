# Mini RTMDet student: mmdet's RTMDet-tiny (CSPNeXt 0.167 / 0.375, 96-channel neck and head)
# from scratch on the embedded mini dataset at 256 px, with RTMDet's recipe in small:
# AdamW with no decay on norms and biases, warmup then cosine over the second half, EMA, and
# the two stages (mosaic and mixup, then the last `stage2_num_epochs` without them).
#   python tools/train.py configs/rtmdet/rtmdet_tiny_mini.py
_base_ = [
    '../_base_/models/rtmdet_mini.py', '../_base_/datasets/mini_coco_rtmdet.py',
    '../_base_/default_runtime_mini.py'
]
max_epochs = 12
stage2_num_epochs = 2
base_lr = 0.002
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True),
    clip_grad=dict(max_norm=35, norm_type=2))
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
auto_scale_lr = dict(enable=False, base_batch_size=4)
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0002,
        update_buffers=True,
        priority=49),
    dict(
        type='PipelineSwitchHook',
        switch_epoch=max_epochs - stage2_num_epochs,
        switch_pipeline={{_base_.train_pipeline_stage2}})
]
