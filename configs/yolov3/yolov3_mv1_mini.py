# Mini student: YOLOv3 with a MobileNetV1 x0.25 backbone on the embedded mini dataset (7
# classes, 256 px), 4 epochs, from scratch:
#   python tools/train.py configs/yolov3/yolov3_mv1_mini.py
# The structure of yolov3_mv1_608_270e_coco.py shrunk to train on 2 CPU cores: the same
# MobileNetV1 (outputs after blocks 4, 6, 13, strides 8/16/32), YOLOV3Neck and YOLOV3Head
# (3 levels, 3 anchors each, the same losses and assigner), narrower: widen_factor 0.25
# (256/128/64 channels out of the backbone), a 64/32/16-channel neck and 128/64/32-channel head
# convs. The head maps are (N, 3 * (5 + 7), H, W) at strides 32, 16, 8, as those of the mini
# teacher (yolov3_r34_mini.py), so that the distillation can match them.
# What differs from the COCO config: the anchors are COCO's scaled to 256 px inputs
# (x 256/608, rounded), the backbone starts from Kaiming init (no pretrained weights here),
# training uses the mini dataset's pipeline (resize to 256, flip; no mixup, colour, crop or
# multi-size) and the mini schedule (AdamW, see configs/_base_/schedules/schedule_mini.py).
_base_ = [
    '../_base_/models/yolov3_mv1_mini.py', '../_base_/datasets/mini_coco.py',
    '../_base_/schedules/schedule_mini.py', '../_base_/default_runtime_mini.py'
]
