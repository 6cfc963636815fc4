# CWD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/cwd_retina_r101_r50.py (the same wiring: ChannelWiseDivergence on the 5 FPN levels,
# tau 1, loss weight 5) shrunk to train on 2 CPU cores.
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py      # the teacher, once
#   python tools/train.py configs/cwd/cwd_retina_r34_r18_mini.py      # the CWD student
_base_ = ['../retinanet/retinanet_r18_mini.py', '../_base_/distill/cwd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::retinanet/retinanet_r34_mini.py',
    teacher_ckpt='work_dirs/retinanet_r34_mini/epoch_8.pth')
