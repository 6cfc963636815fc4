# Mini teacher: RetinaNet R34 (64-ch FPN and head) on the embedded mini dataset, trained twice
# as long as the students (8 epochs) so that it is clearly better than them (it trains from
# scratch).
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py
_base_ = [
    '../_base_/models/retinanet_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini_8e.py', '../_base_/default_runtime_mini.py'
]
model = dict(backbone=dict(depth=34))
