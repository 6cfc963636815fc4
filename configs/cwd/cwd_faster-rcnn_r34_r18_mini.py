# CWD on the two-stage mini pair: Faster R-CNN R34 teacher -> Faster R-CNN R18 student, the
# structure of configs/cwd/cwd_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py (MMRazor's
# ChannelWiseDivergence on the 5 neck outputs, P2-P6, tau 1, loss weight 10) on the mini
# models' 64-channel FPN; the pair of configs/fgd/fgd_faster-rcnn_r34_r18_mini.py.
#   python tools/train.py configs/faster_rcnn/faster-rcnn_r34_mini.py   # the teacher, once
#   python tools/train.py configs/cwd/cwd_faster-rcnn_r34_r18_mini.py
_base_ = ['../faster_rcnn/faster-rcnn_r18_mini.py', '../_base_/distill/cwd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::faster_rcnn/faster-rcnn_r34_mini.py',
    teacher_ckpt='work_dirs/faster-rcnn_r34_mini/epoch_8.pth',
    distiller=dict(distill_losses={f'loss_cwd_fpn{i}': dict(loss_weight=10.0)
                                   for i in range(5)}))
