# Student baseline of the seed's RetinaNet distillation pairs, trainable on its own: mmdet's
# RetinaNet R50 2x (COCO, data/coco/, ImageNet-pretrained backbone) with the seed's multi-scale
# training (shorter side 640-800, longer at most 1333) and gradient clipping.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=16)  # 8 GPUs x 2 images
