# Mini PP-YOLOE+ on the embedded mini dataset (7 classes) at 320x320, from scratch, 12 epochs:
#   python tools/train.py configs/ppyoloe/ppyoloe_plus_mini.py
# The model: configs/_base_/models/ppyoloe_plus_mini.py (PP-YOLOE+ at depth 0.33, width 0.25;
# ATSS for the first 4 epochs, then task-aligned, as the COCO recipe's 30 of 80). What differs
# from the COCO recipe: no pretrained weights, the mini pipeline (resize to 320x320 without
# keeping the aspect ratio, as Paddle; flip; no colour, expand, crop or multi-size), AdamW
# (the mini schedule, configs/_base_/schedules/schedule_mini.py) three times as long, no EMA.
_base_ = [
    '../_base_/models/ppyoloe_plus_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini.py', '../_base_/default_runtime_mini.py'
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(320, 320), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(320, 320), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(batch_sampler=None, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[9], gamma=0.1)
]
