# Ablation of configs/fgd/fgd_retina_r34_r18_mini.py: FGD's loss without its inheriting
# strategy (the student's neck and head start from scratch, as with the other feature-level
# methods), for the comparison on one pair.
_base_ = './fgd_retina_r34_r18_mini.py'
model = dict(inherit_teacher=())
