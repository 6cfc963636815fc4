# FGD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student, the structure of
# configs/fgd_retina_r101_r50.py (FpnTeacherDistill, FGD on the 5 FPN levels, GT boxes from the
# student's data samples, inheriting strategy) shrunk to train on 2 CPU cores.
#   python tools/train.py configs/mini/retinanet_r34_mini.py          # the teacher, once
#   python tools/train.py configs/mini/fgd_retina_r34_r18_mini.py      # the FGD student
_base_ = ['../_base_/pairs/retina_r34_r18_mini.py', '../_base_/distill/fpn5_losses.py']

fgd = dict(type='FGDLoss', student_channels=64, teacher_channels=64, temp=0.5,
           alpha_fgd=0.001, beta_fgd=0.0005, gamma_fgd=0.0005, lambda_fgd=0.000005)
model = dict(
    # FGD's inheriting strategy: the student's neck and head start from the teacher's
    # where the shapes agree (here the whole neck and head)
    inherit_teacher=('neck', 'bbox_head'),
    distiller=dict(
        student_recorders=dict(gt={{_base_.fgd_gt_recorder}}),
        distill_losses={f'loss_fgd_fpn{i}': fgd for i in range(5)},
        loss_forward_mappings={{_base_.fgd_fpn_mappings}}))
find_unused_parameters = True
