# CrossKD (Wang et al., CVPR 2024) on ATSS, as the authors' ATSS R101 -> R50 1x recipe: the
# cross point after the third head conv (conv and GroupNorm, before the ReLU), the teacher's
# last conv and predictors (its scale per level) on the aligned student features;
# QualityFocalKDLoss (weight 1) on the class logits, BoxKDLoss (GIoU of the decoded boxes,
# weight 1, weighted by the teacher's confidence) and CenternessKDLoss (BCE against the
# teacher's centerness at the student's positives, weight 1), over the student's positives.
# How a pair config uses it: det_distill.py.
_base_ = './det_distill.py'
__head = 'mmdet.models.dense_heads.atss_head.ATSSHead'
__targets = dict(from_student=True, recorder='targets')
__teacher = dict(from_student=False, recorder='head')
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=dict(
            targets=dict(type='MethodOutputs', source=f'{__head}.get_targets'),
            cross_cls=dict(
                type='CrossHead',
                source='bbox_head.cls_convs.2.gn',
                teacher_source='cls_hold',
                teacher_layers=('relu', 'bbox_head.cls_convs.3', 'bbox_head.atss_cls')),
            cross_reg=dict(
                type='CrossHead',
                source='bbox_head.reg_convs.2.gn',
                teacher_source='reg_hold',
                teacher_layers=('relu', 'bbox_head.reg_convs.3', 'bbox_head.atss_reg',
                                'bbox_head.scales.{level}')),
            # ATSS reads its centerness from the regression branch
            cross_ctr=dict(
                type='CrossHead',
                source='bbox_head.reg_convs.2.gn',
                teacher_source='reg_hold',
                teacher_layers=('relu', 'bbox_head.reg_convs.3', 'bbox_head.atss_centerness'))),
        teacher_recorders=dict(
            head=dict(type='MethodOutputs', source=f'{__head}.forward'),
            cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.2.gn'),
            reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.2.gn')),
        distill_losses=dict(
            loss_crosskd_cls=dict(type='QualityFocalKDLoss', loss_weight=1.0, beta=1.0),
            loss_crosskd_reg=dict(
                type='BoxKDLoss', loss_weight=1.0, decode='deltas', loss_type='giou'),
            loss_crosskd_ctr=dict(type='CenternessKDLoss', loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_crosskd_cls=dict(
                preds_S=dict(from_student=True, recorder='cross_cls'),
                preds_T=dict(__teacher, data_idx=0),
                label_weights=dict(__targets, data_idx=2),
                avg_factor=dict(__targets, data_idx=5)),
            loss_crosskd_reg=dict(
                preds_S=dict(from_student=True, recorder='cross_reg'),
                preds_T=dict(__teacher, data_idx=1),
                teacher_cls=dict(__teacher, data_idx=0),
                label_weights=dict(__targets, data_idx=2),
                avg_factor=dict(__targets, data_idx=5)),
            loss_crosskd_ctr=dict(
                preds_S=dict(from_student=True, recorder='cross_ctr'),
                preds_T=dict(__teacher, data_idx=2),
                labels=dict(__targets, data_idx=1),
                avg_factor=dict(__targets, data_idx=5)))))
