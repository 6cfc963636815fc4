# Ablation of configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py: the paper's soft objectness target
# (the student's objectness regressed onto sigmoid(t_obj), Mehta & Ozturk 2018) instead of
# Paddle's hard 1[sigmoid(t_obj) > 0.5]; everything else as the recipe.
_base_ = './yolov3_r34_mv1_distill_mini.py'
model = dict(
    distiller=dict(
        distill_losses={f'loss_yolov3_kd{i}': dict(soft_objectness=True)
                        for i in range(3)}))
