# FGD, focal and global KD (Yang et al., CVPR 2022), wired as the seed's RetinaNet recipe:
# FGDLoss on each of the 5 FPN levels (T 0.5, alpha 1e-3, beta 5e-4, gamma 5e-4, lambda 5e-6),
# fed by both necks' outputs and by the student's data samples (GT boxes, image shapes) from
# the inputs of its forward (any mmdet detector: one-stage, two-stage, instance
# segmentation); the teacher runs backbone and neck; the student's neck and head start from
# the teacher's (FGD's inheriting strategy, for a teacher of the same architecture there).
# The authors' other detector families (configs/fgd/) change the weights, the levels and the
# inherited modules in their pair configs. The losses' channels are 256 (the COCO FPNs); a pair
# of other widths sets them (see configs/fgd/fgd_retina_r34_r18_mini.py). How a pair config
# uses it: see det_distill.py.
_base_ = './det_distill.py'
__levels = range(5)
distill = dict(
    inherit_teacher=('neck', 'bbox_head'),
    distiller=dict(
        student_recorders=dict(
            fpn=dict(type='ModuleOutputs', source='neck'),
            gt=dict(
                type='MethodInputs', source='mmdet.models.detectors.base.BaseDetector.forward')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_fgd_fpn{i}':
            dict(
                type='FGDLoss',
                student_channels=256,
                teacher_channels=256,
                temp=0.5,
                alpha_fgd=0.001,
                beta_fgd=0.0005,
                gamma_fgd=0.0005,
                lambda_fgd=0.000005)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_fgd_fpn{i}':
            dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i),
                data_samples=dict(from_student=True, recorder='gt', data_idx=1))
            for i in __levels
        }))
# FGD's align convs and global blocks exist in every loss, but not every one gets a gradient
find_unused_parameters = True
