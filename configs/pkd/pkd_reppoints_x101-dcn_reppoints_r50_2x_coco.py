# PKD as MMRazor 1.0's
# configs/distill/mmdet/pkd/pkd_fpn_reppoints_x101-dcn_reppoints_r50_2x_coco.py:
# teacher RepPoints-moment X101 DCN 2x (44.2 box AP, mmdet zoo), student RepPoints-moment R50
# 2x: 38.6 -> 42.3 box AP (MMRazor's metafile). PKD on the first 4 neck outputs (after the
# neck's GroupNorm), weight 10; mmdet's 2x recipe (SGD 0.01).
#   bash tools/dist_train.sh configs/pkd/pkd_reppoints_x101-dcn_reppoints_r50_2x_coco.py 8
_base_ = [
    'mmdet::reppoints/reppoints-moment_r50_fpn-gn_head-gn_2x_coco.py', '../_base_/distill/pkd.py'
]
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::reppoints/reppoints-moment_x101-dconv-c3-c5_fpn-gn_head-gn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/reppoints/'
    'reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck%2Bhead_2x_coco/'
    'reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck%2Bhead_2x_coco_20200329-f87da1ea.pth',
    distiller=dict(distill_losses={f'loss_pkd_fpn{i}': dict(loss_weight=10)
                                   for i in range(4)}))
