# FGD between different detectors on the mini dataset: the GFL R34vd teacher of the CWD and LD
# pairs (configs/gfl/gfl_r34vd_mini.py) -> the RetinaNet R18 student of the FGD pair, FGD on the
# 5 FPN levels (64 channels both), no inheriting (a GFL head is no RetinaHead; DetDistill
# refuses a partial copy). The mini counterpart of the authors' heterogeneous pairs
# (configs/fgd/fgd_cascade-mask-rcnn_x101-dcn_*.py) and of the README's mixed-detector example.
#   python tools/train.py configs/gfl/gfl_r34vd_mini.py                # the teacher, once
#   python tools/train.py configs/fgd/fgd_gfl_r34vd_retina_r18_mini.py
_base_ = ['./fgd_retina_r34_r18_mini.py']
model = dict(
    teacher='detkd::gfl/gfl_r34vd_mini.py',
    teacher_ckpt='work_dirs/gfl_r34vd_mini/epoch_8.pth',
    inherit_teacher=())
