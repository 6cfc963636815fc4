# FGD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/fgd_retina_r101_r50.py (the same wiring: FGD on the 5 FPN levels, GT boxes from the
# student's data samples, inheriting strategy) shrunk to train on 2 CPU cores.
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py      # the teacher, once
#   python tools/train.py configs/fgd/fgd_retina_r34_r18_mini.py      # the FGD student
_base_ = ['../retinanet/retinanet_r18_mini.py', '../_base_/distill/fgd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::retinanet/retinanet_r34_mini.py',
    teacher_ckpt='work_dirs/retinanet_r34_mini/epoch_8.pth',  # tools/train.py's default place
    # the mini FPNs are 64 channels wide
    distiller=dict(distill_losses={
        f'loss_fgd_fpn{i}': dict(student_channels=64, teacher_channels=64)
        for i in range(5)
    }))
