# CrossKD (Wang et al., CVPR 2024) as the authors' crosskd_r50_gflv1_r101-2x-ms_fpn_1x_coco:
# teacher GFL R101 ms 2x (mmdet zoo, 44.7 box AP; 44.9 in the authors' table), student GFL R50
# 1x: 40.2 -> 43.7 box AP (the authors'). The cross point after the third of the 4 head convs,
# QualityFocalKDLoss (1) and DistributionKDLoss (4); mmdet's 1x recipe (SGD 0.01, batch 16).
#   bash tools/dist_train.sh configs/crosskd/crosskd_gfl_r101_gfl_r50_1x_coco.py 8
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py', '../_base_/distill/crosskd_gfl.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/gfl/'
    'gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth')
