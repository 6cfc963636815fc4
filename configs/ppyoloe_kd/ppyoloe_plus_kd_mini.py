# PP-YOLOE+ distillation on the mini dataset: the wiring of configs/ppyoloe_plus_x_l_distill.py
# (logits + FGD on the neck, teacher assignment after the static epochs, loss x0.125) with the
# mini teacher (configs/ppyoloe/ppyoloe_plus_mini_teacher.py, width 0.375) and student
# (configs/ppyoloe/ppyoloe_plus_mini.py, width 0.25), 12 epochs, ATSS for the first 4.
#   python tools/train.py configs/ppyoloe/ppyoloe_plus_mini_teacher.py   # the teacher, once
#   python tools/train.py configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py
# The mini schedule's AdamW makes loss_scale 0.125 nearly a no-op (Adam normalises the
# gradient scale; its weight decay is decoupled); under the COCO recipe's SGD it is not.
# Ablations: ppyoloe_plus_kd_logits_mini.py (FGD off), ppyoloe_plus_kd_feat_mini.py (logits off),
# ppyoloe_plus_kd_assign_mini.py (every loss off); ppyoloe_plus_kd_balanced_mini.py rebalances
# both parts for the mini pair (configs/ppyoloe_kd/README.md has the figures).
_base_ = ['../ppyoloe/ppyoloe_plus_mini.py', '../_base_/distill/ppyoloe_kd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::ppyoloe/ppyoloe_plus_mini_teacher.py',
    teacher_ckpt='work_dirs/ppyoloe_plus_mini_teacher/epoch_12.pth',
    distiller=dict(
        distill_losses={
            f'loss_fgd_neck{i}': dict(student_channels=s, teacher_channels=t)
            for i, (s, t) in enumerate(zip((48, 96, 192), (72, 144, 288)))
        }))
