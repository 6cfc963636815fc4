# MGD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/mgd/mgd_retina_x101_retina_r50_2x_coco.py (MMRazor's MGD connectors and loss on the 5
# FPN convs, lambda 0.65, alpha 2e-5, neck and head inherited) with the mini FPN's 64 channels.
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py      # the teacher, once
#   python tools/train.py configs/mgd/mgd_retina_r34_r18_mini.py
_base_ = ['../retinanet/retinanet_r18_mini.py', '../_base_/distill/mgd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::retinanet/retinanet_r34_mini.py',
    teacher_ckpt='work_dirs/retinanet_r34_mini/epoch_8.pth',
    distiller=dict(connectors={
        f's_fpn{i}_connector': dict(student_channels=64, teacher_channels=64)
        for i in range(5)
    }))
