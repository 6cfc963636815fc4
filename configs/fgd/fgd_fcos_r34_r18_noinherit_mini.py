# Ablation of configs/fgd/fgd_fcos_r34_r18_mini.py: FGD's loss without its inheriting strategy
# (the student's neck and head start from scratch), for what inheriting is worth on an
# anchor-free pair, as configs/fgd/fgd_retina_r34_r18_noinherit_mini.py for RetinaNet.
_base_ = './fgd_fcos_r34_r18_mini.py'
model = dict(inherit_teacher=())
