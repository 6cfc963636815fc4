# CWD (Shu et al., ICCV 2021): RetinaNet R101 teacher -> RetinaNet R50 student, COCO, the
# seed's setting (PaddleDetection: 39.1 -> 40.5 box AP): MMRazor's ChannelWiseDivergence on the
# 5 FPN levels (per channel, softmax over H*W of feature/tau, KL(teacher || student) * tau^2,
# summed and divided by N*C), tau 1, loss weight 5; schedule and settings as for FGD
# (2x, steps 16/22, SGD 0.01 for 8x2 images, multi-scale 1333x(640-800), gradient clipping).
#   bash tools/dist_train.sh configs/cwd_retina_r101_r50.py 8
# Paddle's CWDFeatureLoss omits the tau^2 factor and puts an eps of 1e-5 inside the logs; with
# tau 1 the two agree up to that eps.
_base_ = ['./_base_/pairs/retina_r101_r50_coco.py', './_base_/distill/fpn5_losses.py']

model = dict(
    distiller=dict(
        distill_losses={{_base_.cwd_fpn_losses}},
        loss_forward_mappings={{_base_.cwd_fpn_mappings}}))
