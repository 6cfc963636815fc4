# Mini two-stage teacher: Faster R-CNN R34 on the embedded mini dataset, trained twice as long
# as the students (8 epochs), as the mini RetinaNet R34 teacher.
#   python tools/train.py configs/faster_rcnn/faster-rcnn_r34_mini.py
_base_ = [
    '../_base_/models/faster-rcnn_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini_8e.py', '../_base_/default_runtime_mini.py'
]
model = dict(backbone=dict(depth=34))
