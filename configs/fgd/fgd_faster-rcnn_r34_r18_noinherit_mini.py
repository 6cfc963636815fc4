# Ablation of configs/fgd/fgd_faster-rcnn_r34_r18_mini.py: FGD's loss without its inheriting
# strategy (the student's neck, RPN and RoI heads start from scratch), for what inheriting is
# worth on a two-stage pair, as configs/fgd/fgd_retina_r34_r18_noinherit_mini.py for RetinaNet.
_base_ = './fgd_faster-rcnn_r34_r18_mini.py'
model = dict(inherit_teacher=())
