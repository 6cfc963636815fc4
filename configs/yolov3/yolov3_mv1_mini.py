# Mini student: YOLOv3 with a MobileNetV1 x0.5 backbone on the embedded mini dataset (7
# classes, 256 px), 12 epochs, from scratch:
#   python tools/train.py configs/yolov3/yolov3_mv1_mini.py
# The structure of yolov3_mv1_608_270e_coco.py shrunk to train on 2 CPU cores: the same
# MobileNetV1 (outputs after blocks 4, 6, 13, strides 8/16/32), YOLOV3Neck and YOLOV3Head
# (3 levels, 3 anchors each, the same losses and assigner), narrower: widen_factor 0.5
# (512/256/128 channels out of the backbone), a 128/64/32-channel neck and 256/128/64-channel
# head convs (configs/_base_/models/yolov3_mv1_mini.py). The head maps are
# (N, 3 * (5 + 7), H, W) at strides 32, 16, 8, as those of the mini teacher
# (yolov3_r34_mini.py), so that the distillation can match them.
# 12 epochs, not the 4 of the other mini students: a YOLOv3 learns far more slowly from scratch
# (few positive anchors per object, the class loss on positives only; RetinaNet and GFL train
# every anchor's classes). At width 0.25 and 4 epochs it reached 0.5 box AP, no testbed; this
# one reaches 7.0 (seed 0, this machine), the teacher (yolov3_r34_mini.py) 17.3.
# What differs from the COCO config: the anchors are COCO's scaled to 256 px inputs
# (x 256/608, rounded), the backbone starts from Kaiming init (no pretrained weights here),
# training uses the mini dataset's pipeline (resize to 256, flip; no mixup, colour, crop or
# multi-size) and the mini schedule (AdamW, see configs/_base_/schedules/schedule_mini.py),
# three times as long.
_base_ = [
    '../_base_/models/yolov3_mv1_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini.py', '../_base_/default_runtime_mini.py'
]

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[9], gamma=0.1)
]
