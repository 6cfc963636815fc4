# LD (Zheng et al., CVPR 2022): GFL R101vd teacher (46.8 box AP in PaddleDetection) -> GFL R18vd
# student, COCO, the seed's setting (PaddleDetection gfl_ld_distill.yml: 36.6 -> 38.2 box AP):
# the student's 1x single-scale recipe (configs/gfl/gfl_r18vd_fpn_1x_coco.py) with the three
# LD terms (main LD 0.25, VLR LD 0.25, class KD 10), the teacher running its head's forward.
# The teacher is the seed's own (the mmdet zoo has none): Paddle's trained GFL R101vd, converted,
# as the CWD pair's (configs/gfl/gfl_r101vd_paddle_coco.py, Paddle's layout):
#   wget https://paddledet.bj.bcebos.com/models/gfl_r101vd_fpn_mstrain_2x_coco.pdparams
#   python tools/model_converters/paddle_to_mmdet.py gfl_r101vd \
#       gfl_r101vd_fpn_mstrain_2x_coco.pdparams \
#       checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth
#   bash tools/dist_train.sh configs/ld_gfl_r101vd_r18vd.py 8
# Main LD and VLR LD are sums divided by 4 and 16 (not by the positives, as the authors' code):
# they grow with the images per GPU, so keep the seed's 2 images per GPU for its weights.
_base_ = ['../gfl/gfl_r18vd_fpn_1x_coco.py', '../_base_/distill/ld.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::gfl/gfl_r101vd_paddle_coco.py',
    teacher_ckpt='checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth')
