# Ablation of configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py: logits distillation only (FGD weights 0;
# the teacher still assigns for the student after the static epochs).
_base_ = './ppyoloe_plus_kd_mini.py'
model = dict(
    distiller=dict(distill_losses={f'loss_fgd_neck{i}': dict(loss_weight=0.)
                                   for i in range(3)}))
