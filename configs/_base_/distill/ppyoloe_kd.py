# PP-YOLOE+ distillation as the seed (PaddleDetection 2.6 DistillPPYOLOELoss,
# ppyoloe_plus_distill_{x_distill_l,l_distill_m}.yml): logits distillation on the head
# (1.0 cls + 2.5 box + 0.5 dfl + 20000 kd, times 4; projects/detkd/distill/losses/ppyoloe_kd.py)
# and FGD on the three neck outputs (normalize on, T 0.5, alpha 1e-5, beta 5e-6, gamma 1e-5,
# lambda 5e-8, weight 1, an align conv where the widths differ), on the student's positives.
# - Teacher assignment: the teacher runs backbone, neck and head forward and, after the static
#   epochs, its task-aligned assigner (teacher_head_step='assign_for_student'; no teacher
#   loss); a delivery hands that assignment to the student's own loss and to the logits
#   terms. During the static epochs the student assigns itself (ATSS), as Paddle.
# - Whole loss x0.125 (loss_scale), the student's detection loss included, as Paddle's
#   PPYOLOEDistillModel (alpha=0.125). With SGD this divides the loss gradients by 8 against
#   an unchanged weight decay: the decay is 8 times stronger relative to the data than in the
#   student's plain recipe.
# - Teacher norm layers in eval mode (its running statistics). Paddle runs them in train mode
#   (batch statistics, its teacher is in train mode); teacher_norm_eval=False does that.
# - FGD's align convs and context blocks are not trained (train_own_params=False), as Paddle
#   (they are not in its optimizer); the seed's numbers come from that. The authors train
#   them: train_own_params=True.
# - kd normalised for the class count (ref_num_classes=80): the term scales like
#   (K - 1) / K^3 against the others, so at K classes it is multiplied back to its strength at
#   the seed's 80 (a no-op on COCO; 113 times weaker than Paddle's formula at 7 classes). See
#   projects/detkd/distill/losses/ppyoloe_kd.py.
# The FGD widths here are x -> l's (teacher 240/480/960, student 192/384/768 at strides
# 8/16/32); a pair of other sizes sets them (configs/ppyoloe_plus_l_m_distill.py). CWD, PKD or
# MGD from MMRazor can replace FGD on the same recorders (see configs/ppyoloe_kd/README.md).
_base_ = './det_distill.py'
__head = 'detkd.models.dense_heads.ppyoloe_head.PPYOLOEHead'
__levels = range(3)
__logits = dict(
    cls_logits=dict(from_student=True, recorder='assign_in', data_idx=0),
    dist_logits=dict(from_student=True, recorder='assign_in', data_idx=1),
    pred_bboxes=dict(from_student=True, recorder='assign_in', data_idx=2),
    points_s=dict(from_student=True, recorder='assign_in', data_idx=3),
    assigned=dict(from_student=True, recorder='assign_in', data_idx=5),
    teacher_cls_scores=dict(from_student=False, recorder='head', data_idx=0),
    teacher_bbox_preds=dict(from_student=False, recorder='head', data_idx=1))
__logits_weight = 4.0
distill = dict(
    teacher_forward='head',
    teacher_head_step='assign_for_student',
    loss_scale=0.125,
    teacher_norm_eval=True,
    distiller=dict(
        student_recorders=dict(
            assign_in=dict(type='MethodInputs', source=f'{__head}.loss_from_assignment'),
            neck=dict(type='ModuleOutputs', source='neck'),
            gt=dict(
                type='MethodInputs',
                source='mmdet.models.detectors.single_stage.SingleStageDetector.loss')),
        teacher_recorders=dict(
            head=dict(type='MethodOutputs', source=f'{__head}.forward'),
            neck=dict(type='ModuleOutputs', source='neck')),
        distill_deliveries=dict(
            assign=dict(
                type='OptionalMethodOutputs', method_path=f'{__head}.assign', max_keep_data=1)),
        distill_losses=dict(
            loss_logits_cls=dict(
                type='PPYOLOELogitsLoss', term='cls', loss_weight=__logits_weight * 1.0),
            loss_logits_box=dict(
                type='PPYOLOELogitsLoss', term='box', loss_weight=__logits_weight * 2.5),
            loss_logits_dfl=dict(
                type='PPYOLOELogitsLoss', term='dfl', loss_weight=__logits_weight * 0.5),
            loss_logits_kd=dict(
                type='PPYOLOELogitsLoss',
                term='kd',
                loss_weight=__logits_weight * 20000,
                kd_T=10.0,
                ref_num_classes=80),
            **{
                f'loss_fgd_neck{i}':
                dict(
                    type='FGDLoss',
                    student_channels=(192, 384, 768)[i],
                    teacher_channels=(240, 480, 960)[i],
                    temp=0.5,
                    alpha_fgd=1e-5,
                    beta_fgd=5e-6,
                    gamma_fgd=1e-5,
                    lambda_fgd=5e-8,
                    normalize=True,
                    train_own_params=False,
                    loss_weight=1.0)
                for i in __levels
            }),
        loss_forward_mappings=dict(
            loss_logits_cls=__logits,
            loss_logits_box=__logits,
            loss_logits_dfl=__logits,
            loss_logits_kd=__logits,
            **{
                f'loss_fgd_neck{i}':
                dict(
                    preds_S=dict(from_student=True, recorder='neck', data_idx=i),
                    preds_T=dict(from_student=False, recorder='neck', data_idx=i),
                    data_samples=dict(from_student=True, recorder='gt', data_idx=1))
                for i in __levels
            })))
# some losses' modules (FGD's, untrained here) get no gradient
find_unused_parameters = True
