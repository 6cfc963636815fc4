# Mini teacher: YOLOv3 with a ResNet34 backbone on the embedded mini dataset (7 classes,
# 256 px), from scratch, 8 epochs (17.3 box AP, against the mini student's 7.0 after its 12;
# seed 0, this machine):
#   python tools/train.py configs/yolov3/yolov3_r34_mini.py
# The structure of yolov3_r34_608_270e_coco.py (ResNet34, out_indices (1, 2, 3): 128/256/512
# channels at strides 8/16/32, YOLOV3Neck, YOLOV3Head) with the mini student's narrow neck and
# head (128/64/32 and 256/128/64 channels; the ResNet34 alone makes it the better model),
# anchors, losses and pipeline (yolov3_mv1_mini.py), whose head maps it matches:
# (N, 3 * (5 + 7), H, W) at strides 32, 16, 8.
_base_ = [
    '../_base_/models/yolov3_mv1_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini_8e.py', '../_base_/default_runtime_mini.py'
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=34,
        num_stages=4,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(in_channels=[512, 256, 128]))
