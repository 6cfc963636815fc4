# PP-YOLOE+ l -> m distillation, COCO at 640, 80 epochs, the seed's setting
# (PaddleDetection ppyoloe_plus_distill_l_distill_m.yml: m 49.8 -> 51.0 box AP, teacher l 52.9):
# as configs/ppyoloe_plus_x_l_distill.py, with the l teacher and the m student.
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_plus_crn_l_80e_coco.pdparams checkpoints/ppyoloe_plus_l_80e_coco_paddle.pth
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_crn_m_obj365_pretrained.pdparams checkpoints/ppyoloe_crn_m_obj365_paddle.pth
#   bash tools/dist_train.sh configs/ppyoloe_plus_l_m_distill.py 8
_base_ = ['../ppyoloe/ppyoloe_plus_m_80e_coco.py', '../_base_/distill/ppyoloe_kd.py']
__student = _base_.model
__student.init_cfg = dict(type='Pretrained', checkpoint=_base_.load_from)
load_from = None
model = _base_.pop('distill')
model.update(
    architecture=__student,
    teacher='detkd::ppyoloe/ppyoloe_plus_l_80e_coco.py',
    teacher_ckpt='checkpoints/ppyoloe_plus_l_80e_coco_paddle.pth',
    # FGD on the necks: teacher l 192/384/768, student m 144/288/576 (strides 8/16/32)
    distiller=dict(
        distill_losses={
            f'loss_fgd_neck{i}': dict(student_channels=s, teacher_channels=t)
            for i, (s, t) in enumerate(zip((144, 288, 576), (192, 384, 768)))
        }))
