# BCKD on the mini dataset: GFL R34vd teacher -> GFL R18vd student (LD's and CrossKD's mini
# pair: the same teacher, student, schedule and seeds), the wiring of
# bckd_gfl_r101_gfl_r50_1x_coco.py.
#   python tools/train.py configs/gfl/gfl_r34vd_mini.py              # the teacher, once
#   python tools/train.py configs/bckd/bckd_gfl_r34vd_r18vd_mini.py
_base_ = ['../gfl/gfl_r18vd_mini.py', '../_base_/distill/bckd.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::gfl/gfl_r34vd_mini.py',
    teacher_ckpt='work_dirs/gfl_r34vd_mini/epoch_8.pth')
