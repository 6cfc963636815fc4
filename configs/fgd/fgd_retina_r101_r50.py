# FGD (Yang et al., CVPR 2022): RetinaNet R101 teacher -> RetinaNet R50 student, COCO, the
# seed's setting (PaddleDetection: 39.1 -> 40.8 box AP): 2x schedule (steps at 16 and 22),
# SGD lr 0.01 for 8 GPUs x 2 images, multi-scale training 1333x(640-800), gradient clipping,
# FGD on the 5 FPN levels with T=0.5, alpha 1e-3, beta 5e-4, gamma 5e-4, lambda 5e-6, and the
# inheriting strategy (the student's neck and head start from the teacher's).
#   bash tools/dist_train.sh configs/fgd_retina_r101_r50.py 8
# The teacher is mmdet's RetinaNet R101 2x (38.9 box AP in the mmdet model zoo; the seed's
# Paddle teacher had 40.6): set teacher_ckpt to a local file to train offline, e.g.
#   --cfg-options model.teacher_ckpt=checkpoints/retinanet_r101_fpn_2x_coco.pth
_base_ = ['../retinanet/retinanet_r50_fpn_ms-640-800-2x_coco.py', '../_base_/distill/fgd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
    'retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')
