# FBKD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/fbkd/fbkd_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py (MMRazor's FBKD connectors and
# loss on the first 4 FPN convs, sub-sampled on the two largest) with the mini FPN's 64
# channels. MMRazor publishes FBKD for Faster R-CNN only; on RetinaNet the four convs are
# P3-P6.
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py      # the teacher, once
#   python tools/train.py configs/fbkd/fbkd_retina_r34_r18_mini.py
_base_ = ['../retinanet/retinanet_r18_mini.py', '../_base_/distill/fbkd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::retinanet/retinanet_r34_mini.py',
    teacher_ckpt='work_dirs/retinanet_r34_mini/epoch_8.pth',
    distiller=dict(connectors={
        f'loss_s{i}_{who}feat': dict(in_channels=64)
        for i in range(4)
        for who in 'st'
    }))
