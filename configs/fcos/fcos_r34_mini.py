# Mini teacher: FCOS R34 (64-channel FPN and head) on the embedded mini dataset, 8 epochs, as
# the mini RetinaNet R34.
#   python tools/train.py configs/fcos/fcos_r34_mini.py
_base_ = [
    '../_base_/models/fcos_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini_8e.py', '../_base_/default_runtime_mini.py'
]
model = dict(backbone=dict(depth=34))
