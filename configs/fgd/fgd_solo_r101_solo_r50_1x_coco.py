# FGD, the authors' SOLO pair (instance segmentation; github.com/yzd-v/FGD,
# configs/distillers/fgd/fgd_solo_r101_ms_distill_solo_r50_coco.py): teacher SOLO R101 3x, which
# neither the authors nor the mmdet zoo publish (train configs/solo/solo_r101_fpn_3x_coco.py
# first: the default teacher_ckpt is where tools/train.py puts it), student SOLO R50 1x: 33.1 ->
# 36.0 mask AP in the authors' README. The RetinaNet weights (T 0.5, alpha 1e-3, beta 5e-4,
# gamma 5e-4, lambda 5e-6) on P2-P5 (the levels the authors hook; SOLO's P6 is a max-pool), the
# focal masks from the GT boxes (as the authors'), neck and mask head inherited (same
# architecture); the student's 1x recipe with clipping at 35.
#   bash tools/dist_train.sh configs/fgd/fgd_solo_r101_solo_r50_1x_coco.py 8
_base_ = ['mmdet::solo/solo_r50_fpn_1x_coco.py', '../_base_/distill/fgd_two_stage.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::solo/solo_r101_fpn_3x_coco.py',
    teacher_ckpt='work_dirs/solo_r101_fpn_3x_coco/epoch_36.pth',
    inherit_teacher=('neck', 'mask_head'),
    distiller=dict(
        distill_losses={
            f'loss_fgd_fpn{i}':
            dict(alpha_fgd=0.001, beta_fgd=0.0005, gamma_fgd=0.0005, lambda_fgd=0.000005)
            for i in range(4)
        }))
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
