# CWD on the mini dataset: GFL R34vd teacher -> GFL R18 student, the structure of
# configs/cwd_gfl_r101vd_r50.py (the same wiring: ChannelWiseDivergence, tau 1, loss weight 5,
# on the 5 FPN levels and on the head's 5 classification logit maps, the teacher running its
# head) shrunk to train on 2 CPU cores. Student and CWD student share the mini schedule, so
# the gain is measured against a fair baseline (the COCO config keeps the seed's recipe).
#   python tools/train.py configs/gfl/gfl_r34vd_mini.py             # the teacher, once
#   python tools/train.py configs/cwd/cwd_gfl_r34vd_r18_mini.py    # the CWD student
_base_ = ['../gfl/gfl_r18_mini.py', '../_base_/distill/cwd_gfl.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::gfl/gfl_r34vd_mini.py',
    teacher_ckpt='work_dirs/gfl_r34vd_mini/epoch_8.pth')
