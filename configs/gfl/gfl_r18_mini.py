# Mini student: GFL R18 (64-ch FPN and head) on the embedded mini dataset, 4 epochs.
#   python tools/train.py configs/gfl/gfl_r18_mini.py
_base_ = [
    '../_base_/models/gfl_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini.py', '../_base_/default_runtime_mini.py'
]
