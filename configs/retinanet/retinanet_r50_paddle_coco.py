# RetinaNet R50 laid out as PaddleDetection 2.6's retinanet_r50_fpn_2x_coco.yml (39.1 box AP
# there): the model of the seed's FGD and CWD RetinaNet students, to run Paddle's trained
# weights converted with ARCH retinanet:
#   wget https://paddledet.bj.bcebos.com/models/retinanet_r101_distill_r50_2x_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py retinanet \
#       retinanet_r101_distill_r50_2x_coco.pdparams \
#       checkpoints/retinanet_r101_distill_r50_2x_coco_paddle.pth
#   python tools/test.py configs/retinanet/retinanet_r50_paddle_coco.py \
#       checkpoints/retinanet_r101_distill_r50_2x_coco_paddle.pth
# (the FGD student, 40.8; the CWD student retinanet_r50_fpn_2x_coco_cwd.pdparams, 40.5, the
# same way). Where Paddle's RetinaNet computes something else than mmdet's, this follows
# Paddle, so that the converted weights give Paddle's maps (tests/test_paddle_converters.py:
# backbone, FPN, head logits and decoded boxes to 1e-4):
# - backbone PaddleResNet(variant='b'): mmdet's ResNet for depth 50/101;
# - FPN: the extra levels from P5's output, P7 = conv(relu(P6)) (Paddle's use_c5: false and its
#   relu_before_extra_convs default), not from C5 as mmdet's RetinaNet;
# - anchors in Paddle's order: the 9 of a location by scale, then ratio (scale_major=False);
#   the same 9 anchors, sizes 4 x stride x 2^(i/3), ratios 0.5/1/2 (h/w).
# Same in both (checked): the head (4 conv+ReLU towers with biases, no norm), box coding with
# unit weights, sigmoid scores; but mmdet clamps the log-size deltas at +-log(1000/16) where
# Paddle clamps them from above only, so a box thinner than 1/62 of its anchor decodes larger
# here. Training settings as Paddle's: the stem and res2 frozen, every
# backbone BN frozen (freeze_norm); ImageNet init from Paddle's ResNet50_cos_pretrained.pdparams
# converted with ARCH resnet to checkpoints/resnet50_paddle_imagenet.pth. Post-processing is
# mmdet's RetinaNet's (1000 best anchors per level, score 0.05, NMS 0.5, 100 boxes), as Paddle's;
# mmdet clips the boxes to the image, Paddle does not.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='PaddleResNet',
        variant='b',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet50_paddle_imagenet.pth')),
    neck=dict(add_extra_convs='on_output', relu_before_extra_convs=True),
    bbox_head=dict(anchor_generator=dict(scale_major=False)))
