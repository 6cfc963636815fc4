# FBKD on the mini RetinaNet pair with its loss weight raised 7x (the balance ablation of
# configs/fbkd/fbkd_retina_r34_r18_mini.py): with MMRazor's Faster R-CNN weights FBKD gave 13%
# of the student's gradient there (DistillBalanceHook, seed 0), the least of the feature-level
# methods (40-80%). A term's gradient scales with its weight, so 7x moves 13% to about 50% at
# the same gradients (0.149 x 7 / (0.149 x 7 + 1)); the hook reports what it is in the run.
#   python tools/train.py configs/fbkd/fbkd_retina_r34_r18_x7_mini.py
_base_ = ['./fbkd_retina_r34_r18_mini.py']
model = dict(
    distiller=dict(distill_losses={f'loss_s{i}': dict(loss_weight=7.0)
                                   for i in range(4)}))
