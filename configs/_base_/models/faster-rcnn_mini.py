# A Faster R-CNN shrunk to train on 2 CPU cores, as ./retinanet_mini.py: ResNet trained from
# scratch (BN trained, not frozen), a 64-channel FPN with GroupNorm (P2-P6), a 64-channel RPN,
# a RoI head of two 256-wide FCs, and fewer proposals and RoI samples than mmdet's (the mini
# images are 256 px and hold a few objects). The structure (ResNet + FPN + RPN + RoIAlign +
# Shared2FCBBoxHead, the same anchors, assigners and samplers) is mmdet's Faster R-CNN, so the
# two-stage wiring of the distillation methods (configs/_base_/distill/fgd_two_stage.py) runs
# on the same modules as in the COCO pairs.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(
        in_channels=[64, 128, 256, 512],
        out_channels=64,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=7)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=500), rcnn=dict(sampler=dict(num=256))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))
