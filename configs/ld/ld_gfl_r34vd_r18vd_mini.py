# LD on the mini dataset: GFL R34vd teacher -> GFL R18vd student, the structure of
# configs/ld_gfl_r101vd_r18vd.py (the same wiring: main LD, VLR LD and class KD on the
# student's ATSS assignment, the teacher running its head's forward) shrunk to train on 2 CPU
# cores. The teacher is the CWD GFL pair's.
#   python tools/train.py configs/gfl/gfl_r34vd_mini.py                # the teacher, once
#   python tools/train.py configs/ld/ld_gfl_r34vd_r18vd_mini.py      # the LD student
_base_ = ['../gfl/gfl_r18vd_mini.py', '../_base_/distill/ld.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::gfl/gfl_r34vd_mini.py',
    teacher_ckpt='work_dirs/gfl_r34vd_mini/epoch_8.pth')
