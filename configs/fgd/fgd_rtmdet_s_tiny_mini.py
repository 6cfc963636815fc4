# FGD on the mini RTMDet pair (RTMDet-s teacher -> RTMDet-tiny student, the pair of
# configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py: the same teacher, student, schedule and
# seeds), for the comparison with RTMDet's own recipe: FGD on the neck's three outputs with the
# authors' YOLOX weights (configs/fgd/fgd_yolox_l_yolox_m_300e_coco.py: RTMDet's closest
# relative among their pairs, anchor-free on P3-P5 with mosaic), the student's 96 channels
# aligned to the teacher's 128 by FGD's 1x1 conv, without inheriting (the widths differ);
# distillation for the first 10 of 12 epochs, as the recipe.
#   python tools/train.py configs/rtmdet/rtmdet_s_mini.py             # the teacher, once
#   python tools/train.py configs/fgd/fgd_rtmdet_s_tiny_mini.py
_base_ = ['../rtmdet/rtmdet_tiny_mini.py', '../_base_/distill/fgd.py']
__levels = range(3)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::rtmdet/rtmdet_s_mini.py',
    teacher_ckpt='work_dirs/rtmdet_s_mini/epoch_24.pth',
    inherit_teacher=())
model.distiller.distill_losses = {
    f'loss_fgd_fpn{i}':
    dict(
        type='FGDLoss',
        student_channels=96,
        teacher_channels=128,
        temp=0.5,
        alpha_fgd=0.002,
        beta_fgd=0.001,
        gamma_fgd=0.001,
        lambda_fgd=0.00001)
    for i in __levels
}
model.distiller.loss_forward_mappings = {
    f'loss_fgd_fpn{i}': model.distiller.loss_forward_mappings[f'loss_fgd_fpn{i}']
    for i in __levels
}
custom_hooks = _base_.custom_hooks + [
    dict(type='mmrazor.StopDistillHook', stop_epoch=_base_.max_epochs - _base_.stage2_num_epochs)
]
