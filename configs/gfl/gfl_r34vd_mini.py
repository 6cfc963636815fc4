# Mini teacher: GFL with a ResNet34-vd backbone (mmdet's ResNetV1d: deep 3-conv stem, average-
# pool downsampling in the shortcuts), as the seed's GFL R101vd teacher, on the embedded mini
# dataset; trained twice as long as the students (8 epochs) so that it is clearly better.
#   python tools/train.py configs/gfl/gfl_r34vd_mini.py
_base_ = [
    '../_base_/models/gfl_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini_8e.py', '../_base_/default_runtime_mini.py'
]
model = dict(backbone=dict(type='ResNetV1d', depth=34))
