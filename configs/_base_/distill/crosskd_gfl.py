# CrossKD (Wang et al., CVPR 2024) on GFL, as the authors' GFL R101 -> R50 1x recipe: the
# student's head features after its third conv (the conv and its GroupNorm, before the ReLU;
# cls and reg branches alike) are given the teacher's per-channel mean and std, then run through
# the teacher's last conv and predictors (CrossHead recorders, detkd/distill/cross_head.py);
# these cross-head predictions are matched to the teacher's own: QualityFocalKDLoss (beta 1,
# weight 1) on the class logits over the student's positives, DistributionKDLoss (KL of the
# edge distributions, T 1, weight 4) weighted by the teacher's confidence. The student keeps
# GFL's own losses on its own head; the teacher runs its head's forward once a step. The cross
# point is for mmdet's 4-conv GFL head; a head of another depth moves it (the mini pair:
# configs/crosskd/crosskd_gfl_r34vd_r18vd_mini.py). How a pair config uses it: det_distill.py.
_base_ = './det_distill.py'
__head = 'mmdet.models.dense_heads.gfl_head.GFLHead'
__targets = dict(from_student=True, recorder='targets')
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=dict(
            targets=dict(type='MethodOutputs', source=f'{__head}.get_targets'),
            cross_cls=dict(
                type='CrossHead',
                source='bbox_head.cls_convs.2.gn',
                teacher_source='cls_hold',
                teacher_layers=('relu', 'bbox_head.cls_convs.3', 'bbox_head.gfl_cls')),
            cross_reg=dict(
                type='CrossHead',
                source='bbox_head.reg_convs.2.gn',
                teacher_source='reg_hold',
                teacher_layers=('relu', 'bbox_head.reg_convs.3', 'bbox_head.gfl_reg',
                                'bbox_head.scales.{level}'))),
        teacher_recorders=dict(
            # the detector's _forward calls bbox_head.forward(x) directly, which fires no
            # module hook: the teacher's predictions are recorded at the method
            head=dict(type='MethodOutputs', source=f'{__head}.forward'),
            cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.2.gn'),
            reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.2.gn')),
        distill_losses=dict(
            loss_crosskd_cls=dict(type='QualityFocalKDLoss', loss_weight=1.0, beta=1.0),
            loss_crosskd_reg=dict(type='DistributionKDLoss', loss_weight=4.0, T=1.0)),
        loss_forward_mappings=dict(
            loss_crosskd_cls=dict(
                preds_S=dict(from_student=True, recorder='cross_cls'),
                preds_T=dict(from_student=False, recorder='head', data_idx=0),
                label_weights=dict(__targets, data_idx=2),
                avg_factor=dict(__targets, data_idx=5)),
            loss_crosskd_reg=dict(
                preds_S=dict(from_student=True, recorder='cross_reg'),
                preds_T=dict(from_student=False, recorder='head', data_idx=1),
                teacher_cls=dict(from_student=False, recorder='head', data_idx=0),
                label_weights=dict(__targets, data_idx=2)))))
