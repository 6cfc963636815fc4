# CWD (Shu et al., ICCV 2021): GFL R101vd teacher -> GFL R50 student, COCO, the seed's setting
# (PaddleDetection gfl_r101vd_fpn_coco_distill_cwd.yml, 41.0 -> 44.0 box AP): MMRazor's
# ChannelWiseDivergence, tau 1, loss weight 5, on each of the 5 levels' FPN feature and on the
# head's classification logits (80 channels), the teacher running its head. The seed trained
# it on the teacher's recipe (2x, multi-scale 480-800, EMA), kept here; its 41.0 baseline is
# the 1x single-scale GFL R50, so part of the +3.0 is the recipe: the fair baseline is
# configs/gfl/gfl_r50_fpn_ms-480-800-2x-ema_coco.py (see ./README.md).
# The teacher is the seed's own: Paddle's trained GFL R101vd, converted, in Paddle's layout
# (configs/gfl/gfl_r101vd_paddle_coco.py):
#   wget https://paddledet.bj.bcebos.com/models/gfl_r101vd_fpn_mstrain_2x_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py gfl_r101vd \
#       gfl_r101vd_fpn_mstrain_2x_coco.pdparams \
#       checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth
#   bash tools/dist_train.sh configs/cwd_gfl_r101vd_r50.py 8
# (a teacher trained here instead: teacher='detkd::gfl/gfl_r101vd_fpn_ms-480-800-2x-ema_coco.py'
# with its work_dirs/.../epoch_24.pth)
_base_ = ['../gfl/gfl_r50_fpn_ms-480-800-2x-ema_coco.py', '../_base_/distill/cwd_gfl.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::gfl/gfl_r101vd_paddle_coco.py',
    teacher_ckpt='checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth')
