# PP-YOLOE+ m -> s distillation, COCO at 640, 80 epochs, PaddleDetection's develop-branch
# recipe (configs/slim/distill/ppyoloe_plus_distill_m_distill_s.yml: the same
# DistillPPYOLOELoss as x -> l and l -> m, teacher m 49.8 box AP, student s 43.7; no distilled
# figure published): as configs/ppyoloe_plus_l_m_distill.py, with the m teacher and the s
# student.
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_plus_crn_m_80e_coco.pdparams checkpoints/ppyoloe_plus_m_80e_coco_paddle.pth
#   python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
#       ppyoloe_crn_s_obj365_pretrained.pdparams checkpoints/ppyoloe_crn_s_obj365_paddle.pth
#   bash tools/dist_train.sh configs/ppyoloe_kd/ppyoloe_plus_m_s_distill.py 8
_base_ = ['../ppyoloe/ppyoloe_plus_s_80e_coco.py', '../_base_/distill/ppyoloe_kd.py']
__student = _base_.model
__student.init_cfg = dict(type='Pretrained', checkpoint=_base_.load_from)
load_from = None
model = _base_.pop('distill')
model.update(
    architecture=__student,
    teacher='detkd::ppyoloe/ppyoloe_plus_m_80e_coco.py',
    teacher_ckpt='checkpoints/ppyoloe_plus_m_80e_coco_paddle.pth',
    # FGD on the necks: teacher m 144/288/576, student s 96/192/384 (strides 8/16/32)
    distiller=dict(
        distill_losses={
            f'loss_fgd_neck{i}': dict(student_channels=s, teacher_channels=t)
            for i, (s, t) in enumerate(zip((96, 192, 384), (144, 288, 576)))
        }))
