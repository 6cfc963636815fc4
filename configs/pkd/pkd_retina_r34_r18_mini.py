# PKD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/pkd/pkd_retina_x101_retina_r50_2x_coco.py (MMRazor's PKDLoss on the first 4 neck
# outputs, weight 10) on the mini pair of FGD and CWD, for the comparison of the feature-level
# methods on one pair (configs/pkd/README.md).
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py      # the teacher, once
#   python tools/train.py configs/pkd/pkd_retina_r34_r18_mini.py
_base_ = ['../retinanet/retinanet_r18_mini.py', '../_base_/distill/pkd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::retinanet/retinanet_r34_mini.py',
    teacher_ckpt='work_dirs/retinanet_r34_mini/epoch_8.pth',
    distiller=dict(distill_losses={f'loss_pkd_fpn{i}': dict(loss_weight=10)
                                   for i in range(4)}))
