# RTMDet's distillation on the mini dataset: RTMDet-s teacher -> RTMDet-tiny student (the mini
# RTMDets of configs/rtmdet/: mmdet's tiny and s, from scratch at 256 px), the recipe of
# kd_tiny_rtmdet_s_neck_300e_coco.py: CWD on the normalised raw outputs of the neck's three
# output convs (96 -> 128 channels), distillation for the first 10 of 12 epochs (with mosaic
# and mixup), the student alone for the last 2 without them (StopDistillHook at the student's
# PipelineSwitchHook epoch).
#   python tools/train.py configs/rtmdet/rtmdet_s_mini.py             # the teacher, once
#   python tools/train.py configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py
_base_ = ['../rtmdet/rtmdet_tiny_mini.py', '../_base_/distill/rtmdet_kd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::rtmdet/rtmdet_s_mini.py',
    teacher_ckpt='work_dirs/rtmdet_s_mini/epoch_24.pth')
custom_hooks = _base_.custom_hooks + [
    dict(type='mmrazor.StopDistillHook', stop_epoch=_base_.max_epochs - _base_.stage2_num_epochs)
]
