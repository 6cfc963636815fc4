# Mini teacher of the PP-YOLOE+ distillation: configs/ppyoloe/ppyoloe_plus_mini.py 1.5 times as
# wide (width 0.375, depth 0.33; neck outputs 72/144/288 channels against the student's
# 48/96/192, so the FGD align convs are used as in the COCO pairs), same data, schedule and
# assignment switch (ATSS for 4 of 12 epochs).
#   python tools/train.py configs/ppyoloe/ppyoloe_plus_mini_teacher.py
_base_ = './ppyoloe_plus_mini.py'
width_mult = 0.375
model = dict(
    backbone=dict(width_mult=width_mult),
    neck=dict(width_mult=width_mult),
    bbox_head=dict(width_mult=width_mult))
