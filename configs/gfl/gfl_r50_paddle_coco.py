# GFL R50 laid out as PaddleDetection 2.6's gfl_r50_fpn_1x_coco.yml: the model of the seed's CWD
# GFL R50 student (gfl_r50_fpn_2x_coco_cwd.pdparams, 44.0 box AP), run from Paddle's trained
# weights converted with ARCH gfl_resnet:
#   wget https://bj.bcebos.com/v1/paddledet/models/gfl_r50_fpn_2x_coco_cwd.pdparams
#   python tools/model_converters/paddle_to_mmdet.py gfl_resnet gfl_r50_fpn_2x_coco_cwd.pdparams \
#       checkpoints/gfl_r50_fpn_2x_coco_cwd_paddle.pth
#   python tools/test.py configs/gfl/gfl_r50_paddle_coco.py \
#       checkpoints/gfl_r50_fpn_2x_coco_cwd_paddle.pth
# The layout of ./gfl_r101vd_paddle_coco.py (FPN relu before P7, biased head tower convs; see
# there) with a plain ResNet50, variant b (Paddle's, from ResNet50_cos_pretrained.pdparams
# converted with ARCH resnet).
_base_ = './gfl_r101vd_paddle_coco.py'
model = dict(
    backbone=dict(
        variant='b',
        depth=50,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet50_paddle_imagenet.pth')))
