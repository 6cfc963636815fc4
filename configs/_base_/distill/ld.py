# LD, localization distillation (Zheng et al., CVPR 2022), all three terms as the seed
# (PaddleDetection gfl_ld_distill.yml / LDGFLHead) and the authors' code: main LD on the
# positives' box-edge distributions (T 10, weight 0.25), LD on the valuable localization
# region (T 10, weight 0.25) and KD on the positives' class logits (T 2, weight 10), each per
# FPN level on the student's own ATSS assignment, summed over the levels. The student stays
# mmdet's plain GFL: its head's loss_by_feat inputs (its outputs and the GT) and get_targets
# outputs (its assignment) are recorded as it computes its own loss; the teacher runs backbone,
# neck and head forward only (no loss, no assigner), its head's outputs recorded. A term is
# switched off by its loss_weight=0 (mmdet's LDHead is main LD alone). How a pair config uses
# it: see det_distill.py.
# The balance the seed tuned, kept on other datasets and batches: main and VLR LD are sums over
# the batch (GFL's own losses are means over the positives), so they are scaled to the seed's
# 2 images per GPU (ref_images_per_gpu=2); the class KD averages over the classes, so it is
# scaled to the seed's 80 (ref_num_classes=80). Both are no-ops in the seed's own setting
# (COCO, 2 images per GPU); see each loss's docstring.
_base_ = './det_distill.py'
__head = 'mmdet.models.dense_heads.gfl_head.GFLHead'
__inputs = dict(
    cls_scores=dict(from_student=True, recorder='head_in', data_idx=0),
    bbox_preds=dict(from_student=True, recorder='head_in', data_idx=1),
    batch_gt_instances=dict(from_student=True, recorder='head_in', data_idx=2),
    targets=dict(from_student=True, recorder='targets'),
    teacher_cls_scores=dict(from_student=False, recorder='head', data_idx=0),
    teacher_bbox_preds=dict(from_student=False, recorder='head', data_idx=1))
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=dict(
            head_in=dict(type='MethodInputs', source=f'{__head}.loss_by_feat'),
            targets=dict(type='MethodOutputs', source=f'{__head}.get_targets')),
        # the detector's _forward calls bbox_head.forward(x) directly, which fires no module
        # hook: the teacher's head outputs are recorded at the method
        teacher_recorders=dict(head=dict(type='MethodOutputs', source=f'{__head}.forward')),
        distill_losses=dict(
            loss_ld=dict(type='LDMainLoss', loss_weight=0.25, T=10, ref_images_per_gpu=2),
            loss_ld_vlr=dict(type='LDVLRLoss', loss_weight=0.25, T=10, ref_images_per_gpu=2),
            loss_kd=dict(type='LDClsKDLoss', loss_weight=10.0, T=2, ref_num_classes=80)),
        loss_forward_mappings=dict(loss_ld=__inputs, loss_ld_vlr=__inputs, loss_kd=__inputs)))
