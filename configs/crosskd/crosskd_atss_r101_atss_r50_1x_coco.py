# CrossKD (Wang et al., CVPR 2024) as the authors' crosskd_r50_atss_r101_fpn_1x_coco: teacher
# ATSS R101 1x (mmdet zoo, 41.5 box AP), student ATSS R50 1x: 39.4 -> 41.8 box AP (the
# authors'). The cross point after the third of the 4 head convs, QualityFocalKDLoss (1),
# BoxKDLoss (GIoU, 1) and CenternessKDLoss (1); mmdet's 1x recipe (SGD 0.01 for a batch of 16:
# 8 GPUs x 2 images). The authors' config sets 8 images per GPU with auto_scale_lr on, so its
# learning rate depends on the GPU count, which their README does not give.
#   bash tools/dist_train.sh configs/crosskd/crosskd_atss_r101_atss_r50_1x_coco.py 8
_base_ = ['mmdet::atss/atss_r50_fpn_1x_coco.py', '../_base_/distill/crosskd_atss.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::atss/atss_r101_fpn_1x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/atss/'
    'atss_r101_fpn_1x_coco/atss_r101_fpn_1x_20200825-dfcadd6f.pth')
