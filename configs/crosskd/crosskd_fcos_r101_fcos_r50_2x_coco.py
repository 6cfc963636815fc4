# CrossKD (Wang et al., CVPR 2024) as the authors'
# crosskd_r50_fcos_r101-2x-ms_caffe_fpn_gn-head_2x_ms_coco: teacher FCOS R101-caffe GN-head ms
# 2x (mmdet zoo, 40.8 box AP), student FCOS R50-caffe GN-head ms 2x: 38.5 -> 41.1 box AP (the
# authors'). The cross point after the second of the 4 head convs, QualityFocalKDLoss (0.4)
# and BoxKDLoss (-log IoU, 0.75) over FCOS's centerness normaliser; mmdet's recipe (SGD 0.01,
# clipping at 35, multi-scale 640-800, batch 16).
#   bash tools/dist_train.sh configs/crosskd/crosskd_fcos_r101_fcos_r50_2x_coco.py 8
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py',
    '../_base_/distill/crosskd_fcos.py'
]
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/fcos/'
    'fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/'
    'fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth')
