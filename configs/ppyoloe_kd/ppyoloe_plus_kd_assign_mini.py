# Ablation of configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py: the teacher's assignment alone. Every
# distillation loss is weighted 0; after the static epochs the student's own detection loss
# still uses the teacher's task-aligned assignment (teacher_head_step='assign_for_student'),
# which is the part of the seed's recipe that no loss weight shows. Compared with the student
# alone it isolates what the assignment does, and the feature-only ablation (FGD + assignment)
# what FGD adds to it.
_base_ = './ppyoloe_plus_kd_mini.py'
model = dict(
    distiller=dict(
        distill_losses={
            **{
                f'loss_logits_{t}': dict(loss_weight=0.)
                for t in ('cls', 'box', 'dfl', 'kd')
            },
            **{
                f'loss_fgd_neck{i}': dict(loss_weight=0.)
                for i in range(3)
            }
        }))
