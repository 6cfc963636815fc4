# PP-YOLOE+ x -> l distillation, COCO at 640, 80 epochs, the seed's setting
# (PaddleDetection ppyoloe_plus_distill_x_distill_l.yml: l 52.9 -> 54.0 box AP, teacher x 54.7):
# the student's recipe (configs/ppyoloe/ppyoloe_plus_l_80e_coco.py, its differences from
# Paddle's listed there) with the logits + FGD distillation of
# configs/_base_/distill/ppyoloe_kd.py (teacher assignment after the 30 static epochs, whole
# loss x0.125, untrained FGD align convs and context blocks: the seed's choices).
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_plus_crn_x_80e_coco.pdparams checkpoints/ppyoloe_plus_x_80e_coco_paddle.pth
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_crn_l_obj365_pretrained.pdparams checkpoints/ppyoloe_crn_l_obj365_paddle.pth
#   bash tools/dist_train.sh configs/ppyoloe_plus_x_l_distill.py 8
_base_ = ['../ppyoloe/ppyoloe_plus_l_80e_coco.py', '../_base_/distill/ppyoloe_kd.py']
# the student starts from Paddle's Objects365 weights as the seed; load_from would load into
# the distiller (its keys are the student's, prefixed architecture.), so it is the student's
# init_cfg (the 365-class prediction convs do not fit and are skipped, as in Paddle)
__student = _base_.model
__student.init_cfg = dict(type='Pretrained', checkpoint=_base_.load_from)
load_from = None
model = _base_.pop('distill')
model.update(
    architecture=__student,
    teacher='detkd::ppyoloe/ppyoloe_plus_x_80e_coco.py',
    teacher_ckpt='checkpoints/ppyoloe_plus_x_80e_coco_paddle.pth')
