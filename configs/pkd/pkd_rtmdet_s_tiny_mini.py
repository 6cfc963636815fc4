# PKD on the mini RTMDet pair (RTMDet-s teacher -> RTMDet-tiny student, the pair of
# configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py: the same teacher, student, schedule and
# seeds), for the comparison with RTMDet's own recipe: MMRazor's PKDLoss on the neck's three
# outputs, weight 10 (MMRazor's one-stage recipes), the student's 96 channels mapped to the
# teacher's 128 by a 1x1 conv (PKD compares maps of one width); distillation for the first 10 of
# 12 epochs, as the recipe.
#   python tools/train.py configs/rtmdet/rtmdet_s_mini.py             # the teacher, once
#   python tools/train.py configs/pkd/pkd_rtmdet_s_tiny_mini.py
_base_ = ['../rtmdet/rtmdet_tiny_mini.py', '../_base_/distill/pkd.py']
__levels = range(3)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::rtmdet/rtmdet_s_mini.py',
    teacher_ckpt='work_dirs/rtmdet_s_mini/epoch_24.pth')
model.distiller.connectors = {
    f'fpn{i}_s':
    dict(
        type='ConvModuleConnector',
        in_channel=96,
        out_channel=128,
        bias=False,
        norm_cfg=None,
        act_cfg=None)
    for i in __levels
}
model.distiller.distill_losses = {
    f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=10)
    for i in __levels
}
model.distiller.loss_forward_mappings = {
    f'loss_pkd_fpn{i}':
    dict(
        preds_S=dict(from_student=True, recorder='fpn', data_idx=i, connector=f'fpn{i}_s'),
        preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
    for i in __levels
}
custom_hooks = _base_.custom_hooks + [
    dict(type='mmrazor.StopDistillHook', stop_epoch=_base_.max_epochs - _base_.stage2_num_epochs)
]
