# CrossKD (Wang et al., CVPR 2024) on FCOS, as the authors' FCOS R101 -> R50 2x ms recipe: the
# cross point after the SECOND head conv (conv and GroupNorm, before the ReLU), the teacher's
# last two convs and predictors (its scale per level, then exp: mmdet's FCOS without
# norm_on_bbox) on the aligned student features; QualityFocalKDLoss (weight 0.4) on the class
# logits and BoxKDLoss (-log IoU of the decoded boxes, weight 0.75, weighted by the teacher's
# confidence), at every point, both over the GT centerness summed at the student's positives
# (FCOS's own normaliser). The cross-head centerness is not distilled (as the authors').
# How a pair config uses it: det_distill.py.
_base_ = './det_distill.py'
__head = 'mmdet.models.dense_heads.fcos_head.FCOSHead'
__targets = dict(from_student=True, recorder='targets')
__teacher = dict(from_student=False, recorder='head')
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=dict(
            targets=dict(type='MethodOutputs', source=f'{__head}.get_targets'),
            cross_cls=dict(
                type='CrossHead',
                source='bbox_head.cls_convs.1.gn',
                teacher_source='cls_hold',
                teacher_layers=('relu', 'bbox_head.cls_convs.2', 'bbox_head.cls_convs.3',
                                'bbox_head.conv_cls')),
            cross_reg=dict(
                type='CrossHead',
                source='bbox_head.reg_convs.1.gn',
                teacher_source='reg_hold',
                teacher_layers=('relu', 'bbox_head.reg_convs.2', 'bbox_head.reg_convs.3',
                                'bbox_head.conv_reg', 'bbox_head.scales.{level}', 'exp'))),
        teacher_recorders=dict(
            head=dict(type='MethodOutputs', source=f'{__head}.forward'),
            cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.1.gn'),
            reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.1.gn')),
        distill_losses=dict(
            loss_crosskd_cls=dict(
                type='QualityFocalKDLoss', loss_weight=0.4, beta=1.0, normalizer='centerness'),
            loss_crosskd_reg=dict(
                type='BoxKDLoss',
                loss_weight=0.75,
                decode='distances',
                loss_type='iou_log',
                normalizer='centerness')),
        loss_forward_mappings=dict(
            loss_crosskd_cls=dict(
                preds_S=dict(from_student=True, recorder='cross_cls'),
                preds_T=dict(__teacher, data_idx=0),
                labels=dict(__targets, data_idx=0),
                bbox_targets=dict(__targets, data_idx=1)),
            loss_crosskd_reg=dict(
                preds_S=dict(from_student=True, recorder='cross_reg'),
                preds_T=dict(__teacher, data_idx=1),
                teacher_cls=dict(__teacher, data_idx=0),
                labels=dict(__targets, data_idx=0),
                bbox_targets=dict(__targets, data_idx=1)))))
