# Ablation of configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py: FGD on the neck only (logits weights
# 0; the teacher still assigns for the student after the static epochs).
_base_ = './ppyoloe_plus_kd_mini.py'
model = dict(
    distiller=dict(distill_losses={
        f'loss_logits_{t}': dict(loss_weight=0.)
        for t in ('cls', 'box', 'dfl', 'kd')
    }))
