# Mini two-stage student: Faster R-CNN R18 (64-channel FPN, RPN and RoI head) on the embedded
# mini dataset, 4 epochs, as the mini RetinaNet R18 (configs/_base_/models/faster-rcnn_mini.py).
#   python tools/train.py configs/faster_rcnn/faster-rcnn_r18_mini.py
_base_ = [
    '../_base_/models/faster-rcnn_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini.py', '../_base_/default_runtime_mini.py'
]
