# PKD as MMRazor 1.0's configs/distill/mmdet/pkd/pkd_fpn_retina_x101_retina_r50_2x_coco.py:
# teacher RetinaNet X101-64x4d 1x (41.0 box AP, mmdet zoo), student RetinaNet R50 2x: 37.4 ->
# 40.8 box AP (MMRazor's metafile). PKD on the first 4 neck outputs, weight 10; mmdet's 2x
# recipe (SGD 0.01).
#   bash tools/dist_train.sh configs/pkd/pkd_retina_x101_retina_r50_2x_coco.py 8
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../_base_/distill/pkd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
    'retinanet_x101_64x4d_fpn_1x_coco/retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth',
    distiller=dict(distill_losses={f'loss_pkd_fpn{i}': dict(loss_weight=10)
                                   for i in range(4)}))
