# FGD, the authors' GFL pair (github.com/yzd-v/FGD,
# configs/distillers/fgd/fgd_gfl_r101_distill_gfl_r50_fpn_1x_coco.py): teacher GFL R101
# multi-scale 2x (44.7 box AP, mmdet zoo, the authors' checkpoint), student GFL R50 1x: 40.2 ->
# 43.5 box AP in the authors' README. The RetinaNet weights (T 0.5, alpha 1e-3, beta 5e-4,
# gamma 5e-4, lambda 5e-6) on the 5 FPN levels, neck and head inherited (same architecture);
# the student's own 1x recipe, as the authors' (12 epochs, SGD 0.01), with clipping at 35.
#   bash tools/dist_train.sh configs/fgd/fgd_gfl_r101_gfl_r50_1x_coco.py 8
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py', '../_base_/distill/fgd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/gfl/'
    'gfl_r101_fpn_mstrain_2x_coco/'
    'gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth')
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
