# MGD (Yang et al., ECCV 2022) as MMRazor 1.0's
# configs/distill/mmdet/mgd/mgd_fpn_retina_x101_retina_r50_2x_coco.py: teacher RetinaNet
# X101-64x4d 1x (41.0 box AP, mmdet zoo), student RetinaNet R50 2x: 37.4 -> 41.0 box AP
# (MMRazor's README). MGD on the 5 FPN convs, the neck and head inherited; mmdet's 2x recipe
# (SGD 0.01, 500-iteration warmup, steps 16 and 22). MMRazor's config asks for clipping at 35
# with mmdet 2's optimizer_config, which MMEngine ignores: its published run had no clipping,
# and neither has this one.
#   bash tools/dist_train.sh configs/mgd/mgd_retina_x101_retina_r50_2x_coco.py 8
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../_base_/distill/mgd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
    'retinanet_x101_64x4d_fpn_1x_coco/retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth')
