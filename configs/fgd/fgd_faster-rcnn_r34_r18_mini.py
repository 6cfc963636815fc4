# FGD on a two-stage mini pair: Faster R-CNN R34 teacher -> Faster R-CNN R18 student, the
# wiring of the authors' two-stage pairs (configs/_base_/distill/fgd_two_stage.py: FGD on
# P2-P5, their Faster R-CNN weights, the neck, RPN and RoI heads inherited) on the mini models'
# 64-channel FPN.
#   python tools/train.py configs/faster_rcnn/faster-rcnn_r34_mini.py   # the teacher, once
#   python tools/train.py configs/fgd/fgd_faster-rcnn_r34_r18_mini.py
_base_ = ['../faster_rcnn/faster-rcnn_r18_mini.py', '../_base_/distill/fgd_two_stage.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::faster_rcnn/faster-rcnn_r34_mini.py',
    teacher_ckpt='work_dirs/faster-rcnn_r34_mini/epoch_8.pth',  # tools/train.py's default place
    distiller=dict(distill_losses={
        f'loss_fgd_fpn{i}': dict(student_channels=64, teacher_channels=64)
        for i in range(4)
    }))
