# CWD (Shu et al., ICCV 2021): RetinaNet R101 teacher -> RetinaNet R50 student, COCO, the
# seed's setting (PaddleDetection: 39.1 -> 40.5 box AP): MMRazor's ChannelWiseDivergence on the
# 5 FPN levels, tau 1, loss weight 5; teacher, student and schedule as for FGD (2x, steps
# 16/22, SGD 0.01 for 8x2 images, multi-scale 1333x(640-800), gradient clipping).
#   bash tools/dist_train.sh configs/cwd_retina_r101_r50.py 8
# Paddle's CWDFeatureLoss omits the tau^2 factor and puts an eps of 1e-5 inside the logs; with
# tau 1 the two agree up to that eps.
_base_ = ['../retinanet/retinanet_r50_fpn_ms-640-800-2x_coco.py', '../_base_/distill/cwd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
    'retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')
