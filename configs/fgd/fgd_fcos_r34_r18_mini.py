# FGD on an anchor-free detector, the mini dataset: FCOS R34 teacher -> FCOS R18 student, the
# structure of configs/fgd/fgd_fcos_r101_fcos_r50_2x_coco.py (the authors' FCOS weights: T 0.8,
# alpha 1.6e-3, beta 8e-4, gamma 8e-4, lambda 8e-6, on the 5 FPN levels) with the mini FPN's
# 64 channels. Here teacher and student heads are the same architecture, so the neck and the
# head are inherited (FGD's strategy; the COCO pair can inherit the neck only, see there).
#   python tools/train.py configs/fcos/fcos_r34_mini.py               # the teacher, once
#   python tools/train.py configs/fgd/fgd_fcos_r34_r18_mini.py
_base_ = ['../fcos/fcos_r18_mini.py', '../_base_/distill/fgd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::fcos/fcos_r34_mini.py',
    teacher_ckpt='work_dirs/fcos_r34_mini/epoch_8.pth',
    distiller=dict(
        distill_losses={
            f'loss_fgd_fpn{i}':
            dict(
                student_channels=64,
                teacher_channels=64,
                temp=0.8,
                alpha_fgd=0.0016,
                beta_fgd=0.0008,
                gamma_fgd=0.0008,
                lambda_fgd=0.000008)
            for i in range(5)
        }))
