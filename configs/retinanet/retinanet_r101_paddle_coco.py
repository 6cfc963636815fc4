# RetinaNet R101 laid out as PaddleDetection 2.6's retinanet_r101_fpn_2x_coco.yml: the seed's
# FGD and CWD teacher (40.6 box AP in PaddleDetection; mmdet's zoo R101 2x has 38.9), run from
# Paddle's trained weights (layout: ./retinanet_r50_paddle_coco.py):
#   wget https://paddledet.bj.bcebos.com/models/retinanet_r101_fpn_2x_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py retinanet \
#       retinanet_r101_fpn_2x_coco.pdparams checkpoints/retinanet_r101_fpn_2x_coco_paddle.pth
#   python tools/test.py configs/retinanet/retinanet_r101_paddle_coco.py \
#       checkpoints/retinanet_r101_fpn_2x_coco_paddle.pth
# As a pair's teacher: teacher='detkd::retinanet/retinanet_r101_paddle_coco.py',
# teacher_ckpt='checkpoints/retinanet_r101_fpn_2x_coco_paddle.pth'; FGD's inheriting needs a
# student of the same layout (./retinanet_r50_paddle_coco.py), as the seed's.
_base_ = './retinanet_r50_paddle_coco.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet101_paddle_imagenet.pth')))
