# PKD between different detectors, as MMRazor 1.0's
# configs/distill/mmdet/pkd/pkd_fpn_fcos_x101_retina_r50_1x_coco.py: teacher FCOS X101-64x4d,
# multi-scale 2x (42.6 box AP in MMRazor's metafile), student RetinaNet R50 1x: 36.5 -> 40.3
# box AP. PKD on the first 4 neck outputs, weight 10; mmdet's 1x recipe (SGD 0.01, 500-iteration
# warmup, steps at 8 and 11). Feature-level: no class or head agreement needed.
#   bash tools/dist_train.sh configs/pkd/pkd_fcos_x101_retina_r50_1x_coco.py 8
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', '../_base_/distill/pkd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::fcos/fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/fcos/'
    'fcos_x101_64x4d_fpn_gn-head_mstrain_640-800_2x_coco/'
    'fcos_x101_64x4d_fpn_gn-head_mstrain_640-800_2x_coco-ede514a8.pth',
    distiller=dict(distill_losses={f'loss_pkd_fpn{i}': dict(loss_weight=10)
                                   for i in range(4)}))
