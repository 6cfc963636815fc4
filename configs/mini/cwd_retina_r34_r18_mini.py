# CWD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/cwd_retina_r101_r50.py (FpnTeacherDistill, MMRazor's ChannelWiseDivergence on the 5
# FPN levels, tau 1, loss weight 5) shrunk to train on 2 CPU cores.
#   python tools/train.py configs/mini/retinanet_r34_mini.py          # the teacher, once
#   python tools/train.py configs/mini/cwd_retina_r34_r18_mini.py      # the CWD student
_base_ = '../_base_/pairs/retina_r34_r18_mini.py'

cwd = dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0)
levels = 5

model = dict(
    distiller=dict(
        distill_losses={f'loss_cwd_fpn{i}': cwd for i in range(levels)},
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(levels)}))
