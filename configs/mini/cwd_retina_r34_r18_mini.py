# CWD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/cwd_retina_r101_r50.py (FpnTeacherDistill, MMRazor's ChannelWiseDivergence on the 5
# FPN levels, tau 1, loss weight 5) shrunk to train on 2 CPU cores.
#   python tools/train.py configs/mini/retinanet_r34_mini.py          # the teacher, once
#   python tools/train.py configs/mini/cwd_retina_r34_r18_mini.py      # the CWD student
_base_ = ['../_base_/pairs/retina_r34_r18_mini.py', '../_base_/distill/fpn5_losses.py']

model = dict(
    distiller=dict(
        distill_losses={{_base_.cwd_fpn_losses}},
        loss_forward_mappings={{_base_.cwd_fpn_mappings}}))
