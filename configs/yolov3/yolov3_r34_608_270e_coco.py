# YOLOv3 with a ResNet34 backbone on COCO at 608: the teacher of the seed's YOLOv3 distillation
# (PaddleDetection 2.6 configs/yolov3/yolov3_r34_270e_coco.yml, 36.2 box mAP there), on mmdet's
# YOLOV3 / YOLOV3Neck / YOLOV3Head. 8 GPUs x 8 images:
#   bash tools/dist_train.sh configs/yolov3/yolov3_r34_608_270e_coco.py 8
#
# Paddle's two YOLOv3 configs share their schedule and data pipeline (_base_/optimizer_270e.yml,
# _base_/yolov3_reader.yml), so this inherits the student's config
# (yolov3_mv1_608_270e_coco.py) and changes the backbone. Every difference from Paddle's recipe
# listed there holds here too, except the backbone's weight decay: Paddle's ResNet convs take
# the global L2 decay (its MobileNetV1 convs have none), so here only BN and the head's bias
# are exempt.
#
# The backbone is Paddle's ResNet34 (variant b: 7x7 stem, strided 3x3 first conv of each
# BasicBlock, 1x1 strided shortcut conv; nothing frozen, BN trained: freeze_at -1,
# freeze_norm false; return_idx [1, 2, 3] is out_indices (1, 2, 3), 128/256/512 channels). That
# is mmdet's ResNet(depth=34, style='pytorch') but for one layer: Paddle gives the first block of
# every stage a projection shortcut, also res2a (64 -> 64 channels, stride 1), where mmdet's
# layer1[0] has none. PaddleResNet(variant='b') adds it (layer1.0.downsample), so Paddle's trained
# YOLOv3 R34 converts and computes the same head maps (tests/test_paddle_converters.py, 1e-4):
#   wget https://paddledet.bj.bcebos.com/models/yolov3_r34_270e_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py yolov3_r34 \
#       yolov3_r34_270e_coco.pdparams checkpoints/yolov3_r34_270e_coco_paddle.pth
# That file is then the teacher_ckpt of configs/yolov3_r34_mv1_distill.py.
# Training it here starts from Paddle's ImageNet ResNet34, as Paddle does (torchvision's has no
# res2a shortcut):
#   wget https://paddledet.bj.bcebos.com/models/pretrained/ResNet34_pretrained.pdparams
#   python tools/model_converters/paddle_to_mmdet.py resnet \
#       ResNet34_pretrained.pdparams checkpoints/resnet34_paddle_imagenet.pth
_base_ = './yolov3_mv1_608_270e_coco.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='PaddleResNet',
        variant='b',
        depth=34,
        num_stages=4,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet34_paddle_imagenet.pth')),
    neck=dict(in_channels=[512, 256, 128]))

optim_wrapper = dict(paramwise_cfg=dict(_delete_=True, norm_decay_mult=0., bias_decay_mult=0.))
