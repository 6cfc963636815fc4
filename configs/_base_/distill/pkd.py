# PKD, distillation by Pearson correlation (Cao et al., NeurIPS 2022), wired as MMRazor 1.0's
# configs/distill/mmdet/pkd/: MMRazor's PKDLoss (each FPN level standardised per channel over
# the image, then the MSE between student and teacher: 1 - their Pearson correlation; the
# student's map resized to the teacher's when they differ) on the first 4 outputs of the neck,
# loss weight 6 (MMRazor's two-stage and Swin pairs; its one-stage pairs set 10); the teacher
# runs backbone and neck. How a pair config uses it: see det_distill.py.
_base_ = './det_distill.py'
__levels = range(4)
distill = dict(
    distiller=dict(
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=6)
                        for i in __levels},
        loss_forward_mappings={
            f'loss_pkd_fpn{i}':
            dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in __levels
        }))
find_unused_parameters = True
