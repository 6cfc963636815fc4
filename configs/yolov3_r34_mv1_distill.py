# YOLOv3 objectness-masked KD (Mehta & Ozturk 2018): YOLOv3-ResNet34 teacher (36.2 box AP in
# PaddleDetection) -> YOLOv3-MobileNetV1 student, COCO at 608, 270 epochs, the seed's setting
# (PaddleDetection yolov3_mobilenet_v1_coco_distill.yml: 29.4 -> 31.0 box AP): the student's
# recipe (configs/yolov3/yolov3_mv1_608_270e_coco.py, its differences from Paddle's listed
# there) with YOLOv3DistillLoss (weight 1000) on the three levels' raw head maps, the teacher
# running its head's forward only.
#   bash tools/dist_train.sh configs/yolov3/yolov3_r34_608_270e_coco.py 8   # the teacher
#   bash tools/dist_train.sh configs/yolov3_r34_mv1_distill.py 8
_base_ = ['./yolov3/yolov3_mv1_608_270e_coco.py', './_base_/distill/yolov3_kd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='configs/yolov3/yolov3_r34_608_270e_coco.py',
    teacher_ckpt='work_dirs/yolov3_r34_608_270e_coco/epoch_270.pth')
