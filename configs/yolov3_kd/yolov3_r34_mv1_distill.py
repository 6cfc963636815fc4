# YOLOv3 objectness-masked KD (Mehta & Ozturk 2018): YOLOv3-ResNet34 teacher (36.2 box AP in
# PaddleDetection) -> YOLOv3-MobileNetV1 student, COCO at 608, 270 epochs, the seed's setting
# (PaddleDetection yolov3_mobilenet_v1_coco_distill.yml: 29.4 -> 31.0 box AP): the student's
# recipe (configs/yolov3/yolov3_mv1_608_270e_coco.py, its differences from Paddle's listed
# there) with YOLOv3DistillLoss (weight 1000) on the three levels' raw head maps, the teacher
# running its head's forward only.
# The teacher is the seed's own: Paddle's trained YOLOv3 R34, converted (its layout is Paddle's,
# see configs/yolov3/yolov3_r34_608_270e_coco.py):
#   wget https://paddledet.bj.bcebos.com/models/yolov3_r34_270e_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py yolov3_r34 \
#       yolov3_r34_270e_coco.pdparams checkpoints/yolov3_r34_270e_coco_paddle.pth
#   bash tools/dist_train.sh configs/yolov3_r34_mv1_distill.py 8
# (or train it: bash tools/dist_train.sh configs/yolov3/yolov3_r34_608_270e_coco.py 8, and set
# teacher_ckpt to its work_dirs/yolov3_r34_608_270e_coco/epoch_270.pth)
_base_ = ['../yolov3/yolov3_mv1_608_270e_coco.py', '../_base_/distill/yolov3_kd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::yolov3/yolov3_r34_608_270e_coco.py',
    teacher_ckpt='checkpoints/yolov3_r34_270e_coco_paddle.pth')
