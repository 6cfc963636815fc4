# Mini student: GFL R18 (64-ch FPN and head) on the embedded mini dataset.
#   python tools/train.py configs/mini/gfl_r18_mini.py
_base_ = [
    '../_base_/models/gfl_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini.py', '../_base_/mini_runtime.py'
]
model = dict(bbox_head=dict(num_classes=7))
