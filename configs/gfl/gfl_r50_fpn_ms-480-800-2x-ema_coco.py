# GFL R50 on the recipe the seed trained its GFL teacher and its CWD-distilled GFL student
# with (PaddleDetection gfl_r101vd_fpn_mstrain_2x_coco.yml): 24 epochs, steps at 16 and 22,
# SGD 0.01 for 8 GPUs x 2 images, 500-iteration linear warmup from 0.001, multi-scale
# training with the shorter side one of 480, 512, ..., 800 (longer at most 1333), and an EMA
# of the weights (decay 0.9998, buffers included) that is what gets evaluated and saved.
# Trained alone, it is the fair baseline of configs/cwd_gfl_r101vd_r50.py: the seed compared
# its distilled student (44.0) with the 1x, single-scale, no-EMA GFL R50 (41.0).
#   bash tools/dist_train.sh configs/gfl/gfl_r50_fpn_ms-480-800-2x-ema_coco.py 8
# Paddle's EMA ramps its decay up as min(0.9998, (1 + t) / (10 + t)); MMEngine's
# ExponentialMovingAverage uses 0.9998 from the first step, which only matters for the first
# few thousand of the run's ~175k iterations.
_base_ = 'mmdet::gfl/gfl_r50_fpn_ms-2x_coco.py'  # mmdet's GFL R50, 2x, steps 16/22
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, s) for s in range(480, 801, 32)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=0.0002,
        update_buffers=True,
        priority=49)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)  # 8 GPUs x 2 images
