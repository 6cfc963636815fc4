# Loss wiring shared by the FPN feature-distillation configs (COCO and mini alike), as plain
# variables that a method config puts into its model (a method config also inherits a pair
# from ../pairs/, whose `model` these names do not collide with). The pair records the 5 FPN
# levels of both models as `fpn`; the FGD wiring also records the student's GT as `gt`.
_fpn_levels = 5

# CWD (MMRazor's ChannelWiseDivergence), tau 1, loss weight 5, on every level
cwd_fpn_losses = {
    f'loss_cwd_fpn{i}': dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0)
    for i in range(_fpn_levels)}
cwd_fpn_mappings = {
    f'loss_cwd_fpn{i}': dict(
        preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
        preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
    for i in range(_fpn_levels)}

# FGD: each level's FGDLoss gets the two features and the student's data samples (GT boxes in
# resized-image pixels, img_shape, batch_input_shape), recorded from the detector's loss()
fgd_gt_recorder = dict(
    type='MethodInputs', source='mmdet.models.detectors.single_stage.SingleStageDetector.loss')
fgd_fpn_mappings = {
    f'loss_fgd_fpn{i}': dict(
        preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
        preds_T=dict(from_student=False, recorder='fpn', data_idx=i),
        data_samples=dict(from_student=True, recorder='gt', data_idx=1))
    for i in range(_fpn_levels)}

# CWD on GFL, as the seed: the same loss (tau 1, weight 5) on each level's FPN feature and on
# the head's classification logits (the output of bbox_head.gfl_cls, which runs once per
# level: `cls` records it 5 times, level i is record i). The pair records `fpn` and `cls` on
# both models, the teacher running its head (teacher_forward='head').
cwd_fpn_cls_losses = dict(
    cwd_fpn_losses, **{
        f'loss_cwd_cls{i}': dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0)
        for i in range(_fpn_levels)})
cwd_fpn_cls_mappings = dict(
    cwd_fpn_mappings, **{
        f'loss_cwd_cls{i}': dict(
            preds_S=dict(from_student=True, recorder='cls', record_idx=i),
            preds_T=dict(from_student=False, recorder='cls', record_idx=i))
        for i in range(_fpn_levels)})
