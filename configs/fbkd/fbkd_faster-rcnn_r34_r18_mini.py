# FBKD on the two-stage mini pair, the kind MMRazor publishes it for: Faster R-CNN R34 teacher
# -> Faster R-CNN R18 student, the structure of
# configs/fbkd/fbkd_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py (MMRazor's FBKD connectors and
# loss on the 4 FPN convs, P2-P5, sub-sampled on the two largest) with the mini FPN's 64
# channels; the student starts from scratch like every mini student (MMRazor's COCO student
# starts from the trained R50). The pair of configs/fgd/fgd_faster-rcnn_r34_r18_mini.py.
#   python tools/train.py configs/faster_rcnn/faster-rcnn_r34_mini.py   # the teacher, once
#   python tools/train.py configs/fbkd/fbkd_faster-rcnn_r34_r18_mini.py
_base_ = ['../faster_rcnn/faster-rcnn_r18_mini.py', '../_base_/distill/fbkd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::faster_rcnn/faster-rcnn_r34_mini.py',
    teacher_ckpt='work_dirs/faster-rcnn_r34_mini/epoch_8.pth',
    distiller=dict(connectors={
        f'loss_s{i}_{who}feat': dict(in_channels=64)
        for i in range(4)
        for who in 'st'
    }))
