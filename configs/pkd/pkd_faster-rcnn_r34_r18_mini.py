# PKD on the two-stage mini pair: Faster R-CNN R34 teacher -> Faster R-CNN R18 student, the
# structure of configs/pkd/pkd_faster-rcnn_r101_faster-rcnn_r50_2x_coco.py (MMRazor's PKDLoss
# on the first 4 neck outputs, P2-P5, weight 6) on the mini models' 64-channel FPN; the pair of
# configs/fgd/fgd_faster-rcnn_r34_r18_mini.py (same teacher, student and schedule).
#   python tools/train.py configs/faster_rcnn/faster-rcnn_r34_mini.py   # the teacher, once
#   python tools/train.py configs/pkd/pkd_faster-rcnn_r34_r18_mini.py
_base_ = ['../faster_rcnn/faster-rcnn_r18_mini.py', '../_base_/distill/pkd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::faster_rcnn/faster-rcnn_r34_mini.py',
    teacher_ckpt='work_dirs/faster-rcnn_r34_mini/epoch_8.pth')
