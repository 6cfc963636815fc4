# Mini teacher: YOLOv3 with a ResNet34 backbone on the embedded mini dataset (7 classes,
# 256 px), from scratch, trained twice as long as the students (8 epochs) so that it is
# clearly better than them:
#   python tools/train.py configs/yolov3/yolov3_r34_mini.py
# The structure of yolov3_r34_608_270e_coco.py (ResNet34, out_indices (1, 2, 3): 128/256/512
# channels at strides 8/16/32, YOLOV3Neck, YOLOV3Head) with a narrower neck and head
# (128/64/32 and 256/128/64 channels, twice the mini student's); anchors, losses, pipeline and
# schedule as the mini student (yolov3_mv1_mini.py), whose head maps it matches:
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
    neck=dict(in_channels=[512, 256, 128], out_channels=[128, 64, 32]),
    bbox_head=dict(in_channels=[128, 64, 32], out_channels=[256, 128, 64]))
