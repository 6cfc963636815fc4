# PP-YOLOE+ x on COCO at 640, 80 epochs (PaddleDetection 2.6 ppyoloe_plus_crn_x_80e_coco.yml,
# 54.7 box mAP there): ppyoloe_plus_l_80e_coco.py at depth 1.33, width 1.25. Init from Paddle's
# ppyoloe_crn_x_obj365_pretrained.pdparams, converted as the l config says.
_base_ = './ppyoloe_plus_l_80e_coco.py'
load_from = 'checkpoints/ppyoloe_crn_x_obj365_paddle.pth'
depth_mult = 1.33
width_mult = 1.25
model = dict(
    backbone=dict(depth_mult=depth_mult, width_mult=width_mult),
    neck=dict(depth_mult=depth_mult, width_mult=width_mult),
    bbox_head=dict(width_mult=width_mult))
