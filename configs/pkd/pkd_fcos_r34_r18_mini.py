# PKD on the anchor-free mini pair: FCOS R34 teacher -> FCOS R18 student (the pair of
# configs/fgd/fgd_fcos_r34_r18_mini.py), MMRazor's one-stage PKD setting (PKDLoss on the first
# 4 neck outputs, P3-P6, weight 10, as configs/pkd/pkd_fcos_x101_retina_r50_1x_coco.py, whose
# FCOS teacher teaches a RetinaNet) on the mini FPN. PKD is feature-level: the student's head
# is not inherited.
#   python tools/train.py configs/fcos/fcos_r34_mini.py                # the teacher, once
#   python tools/train.py configs/pkd/pkd_fcos_r34_r18_mini.py
_base_ = ['../fcos/fcos_r18_mini.py', '../_base_/distill/pkd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::fcos/fcos_r34_mini.py',
    teacher_ckpt='work_dirs/fcos_r34_mini/epoch_8.pth',
    distiller=dict(distill_losses={f'loss_pkd_fpn{i}': dict(loss_weight=10)
                                   for i in range(4)}))
