# CWD on the mini dataset: GFL R34vd teacher -> GFL R18 student, the structure of
# configs/cwd_gfl_r101vd_r50.py (MMRazor's ChannelWiseDivergence, tau 1, loss weight 5, on the
# 5 FPN levels and on the head's 5 classification logit maps, the teacher running its head)
# shrunk to train on 2 CPU cores. Student and CWD student share the mini schedule, so the gain
# is measured against a fair baseline (the COCO config keeps the seed's recipe, see README).
#   python tools/train.py configs/mini/gfl_r34vd_mini.py          # the teacher, once
#   python tools/train.py configs/mini/cwd_gfl_r34vd_r18_mini.py   # the CWD student
_base_ = ['../_base_/pairs/gfl_r34vd_r18_mini.py', '../_base_/distill/fpn5_losses.py']

model = dict(
    distiller=dict(
        distill_losses={{_base_.cwd_fpn_cls_losses}},
        loss_forward_mappings={{_base_.cwd_fpn_cls_mappings}}))
