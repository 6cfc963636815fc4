# YOLOv3 KD on the mini dataset: YOLOv3-ResNet34 teacher -> YOLOv3-MobileNetV1 student, the
# structure of configs/yolov3_r34_mv1_distill.py (the same wiring: YOLOv3DistillLoss, weight
# 1000, on the three levels' raw head maps, the teacher running its head's forward) shrunk to
# train on 2 CPU cores.
#   python tools/train.py configs/yolov3/yolov3_r34_mini.py               # the teacher, once
#   python tools/train.py configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py     # the KD student
_base_ = ['../yolov3/yolov3_mv1_mini.py', '../_base_/distill/yolov3_kd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::yolov3/yolov3_r34_mini.py',
    teacher_ckpt='work_dirs/yolov3_r34_mini/epoch_24.pth')
