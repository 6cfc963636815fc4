# CrossKD (Wang et al., CVPR 2024) on RetinaNet, as the authors' RetinaNet R101 -> R50 2x
# recipe: the student's head features after its third conv (before the ReLU; mmdet's RetinaNet
# head has no norm) are given the teacher's per-channel mean and std and run through the
# teacher's last conv and predictors (CrossHead recorders); QualityFocalKDLoss (beta 1, weight 1)
# on the class logits and BoxKDLoss (GIoU of the boxes both decode with the student's anchors
# and coder, weight 1, weighted by the teacher's confidence), over the student's positives and
# without the anchors its assigner ignores. A head with norms records their output instead (the
# mini pair: configs/crosskd/crosskd_retina_r34_r18_mini.py). How a pair uses it: det_distill.py.
_base_ = './det_distill.py'
__head = 'mmdet.models.dense_heads.retina_head.RetinaHead'
__targets = dict(from_student=True, recorder='targets')
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=dict(
            targets=dict(type='MethodOutputs', source=f'{__head}.get_targets'),
            cross_cls=dict(
                type='CrossHead',
                source='bbox_head.cls_convs.2.conv',
                teacher_source='cls_hold',
                teacher_layers=('relu', 'bbox_head.cls_convs.3', 'bbox_head.retina_cls')),
            cross_reg=dict(
                type='CrossHead',
                source='bbox_head.reg_convs.2.conv',
                teacher_source='reg_hold',
                teacher_layers=('relu', 'bbox_head.reg_convs.3', 'bbox_head.retina_reg'))),
        teacher_recorders=dict(
            head=dict(type='MethodOutputs', source=f'{__head}.forward'),
            cls_hold=dict(type='ModuleOutputs', source='bbox_head.cls_convs.2.conv'),
            reg_hold=dict(type='ModuleOutputs', source='bbox_head.reg_convs.2.conv')),
        distill_losses=dict(
            loss_crosskd_cls=dict(type='QualityFocalKDLoss', loss_weight=1.0, beta=1.0),
            loss_crosskd_reg=dict(
                type='BoxKDLoss', loss_weight=1.0, decode='deltas', loss_type='giou')),
        loss_forward_mappings=dict(
            loss_crosskd_cls=dict(
                preds_S=dict(from_student=True, recorder='cross_cls'),
                preds_T=dict(from_student=False, recorder='head', data_idx=0),
                label_weights=dict(__targets, data_idx=1),
                avg_factor=dict(__targets, data_idx=4)),
            loss_crosskd_reg=dict(
                preds_S=dict(from_student=True, recorder='cross_reg'),
                preds_T=dict(from_student=False, recorder='head', data_idx=1),
                teacher_cls=dict(from_student=False, recorder='head', data_idx=0),
                label_weights=dict(__targets, data_idx=1),
                avg_factor=dict(__targets, data_idx=4)))))
