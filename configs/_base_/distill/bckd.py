# BCKD (Yang et al., ICCV 2023) on GFL, as the authors' GFL R101 -> R50 1x recipe: on the
# student's own predictions (no feature or cross-head distillation), BCKDClsLoss (per-class
# binary KD against the teacher's sigmoid scores, weight 1) and BCKDLocLoss (GIoU between the
# student's and the teacher's boxes decoded from GFL's edge distributions, weighted by the
# largest class-score gap, weight 4), over the student's positives, on the FPN levels with a
# positive (detkd/distill/losses/bckd.py). The student keeps GFL's own losses; the teacher runs
# its head's forward. How a pair config uses it: det_distill.py.
_base_ = './det_distill.py'
__head = 'mmdet.models.dense_heads.gfl_head.GFLHead'
__targets = dict(from_student=True, recorder='targets')
__student = dict(from_student=True, recorder='head_in')
__teacher = dict(from_student=False, recorder='head')
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=dict(
            head_in=dict(type='MethodInputs', source=f'{__head}.loss_by_feat'),
            targets=dict(type='MethodOutputs', source=f'{__head}.get_targets')),
        teacher_recorders=dict(head=dict(type='MethodOutputs', source=f'{__head}.forward')),
        distill_losses=dict(
            loss_bckd_cls=dict(type='BCKDClsLoss', loss_weight=1.0),
            loss_bckd_loc=dict(type='BCKDLocLoss', loss_weight=4.0)),
        loss_forward_mappings=dict(
            loss_bckd_cls=dict(
                preds_S=dict(__student, data_idx=0),
                preds_T=dict(__teacher, data_idx=0),
                label_weights=dict(__targets, data_idx=2),
                labels=dict(__targets, data_idx=1),
                avg_factor=dict(__targets, data_idx=5)),
            loss_bckd_loc=dict(
                preds_S=dict(__student, data_idx=1),
                preds_T=dict(__teacher, data_idx=1),
                teacher_cls=dict(__teacher, data_idx=0),
                student_cls=dict(__student, data_idx=0),
                label_weights=dict(__targets, data_idx=2),
                labels=dict(__targets, data_idx=1),
                avg_factor=dict(__targets, data_idx=5)))))
