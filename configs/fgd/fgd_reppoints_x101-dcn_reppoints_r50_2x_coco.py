# FGD, the authors' anchor-free RepPoints pair (github.com/yzd-v/FGD,
# configs/distillers/fgd/fgd_reppoints_rx101_64x4d_distill_reppoints_r50_fpn_2x_coco.py, FGD
# paper Table 1): teacher RepPoints-moment X101 DCN, GN neck and head, 2x (44.2 box AP, mmdet
# zoo, the authors' checkpoint), student RepPoints-moment R50 2x: 38.6 -> 42.0 box AP in the
# authors' README. The authors' RepPoints weights (T 0.5, alpha 1.6e-3, beta 8e-4, gamma 8e-4,
# lambda 8e-6) on the 5 levels, neck and head inherited (same architecture, another
# backbone), mmdet's 2x recipe with clipping at 35. The RepPoints neck normalises its outputs
# (GroupNorm): the authors hook the FPN convs (neck.fpn_convs.N.conv), i.e. the features
# before the GroupNorm, and so do these recorders (the seed's fragment records the neck's
# outputs, the same thing for the FPNs without a norm).
#   bash tools/dist_train.sh configs/fgd/fgd_reppoints_x101-dcn_reppoints_r50_2x_coco.py 8
_base_ = [
    'mmdet::reppoints/reppoints-moment_r50_fpn-gn_head-gn_2x_coco.py', '../_base_/distill/fgd.py'
]
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
__levels = range(5)
__convs = {
    f'fpn{i}': dict(type='ModuleOutputs', source=f'neck.fpn_convs.{i}.conv')
    for i in __levels
}
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::reppoints/reppoints-moment_x101-dconv-c3-c5_fpn-gn_head-gn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/reppoints/'
    'reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck%2Bhead_2x_coco/'
    'reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck%2Bhead_2x_coco_20200329-f87da1ea.pth',
    distiller=dict(
        distill_losses={
            f'loss_fgd_fpn{i}':
            dict(alpha_fgd=0.0016, beta_fgd=0.0008, gamma_fgd=0.0008, lambda_fgd=0.000008)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_fgd_fpn{i}':
            dict(
                preds_S=dict(recorder=f'fpn{i}', data_idx=None),
                preds_T=dict(recorder=f'fpn{i}', data_idx=None))
            for i in __levels
        }))
# the recorders: the FPN convs instead of the neck's outputs
model.distiller.student_recorders = dict(gt=model.distiller.student_recorders.gt, **__convs)
model.distiller.teacher_recorders = __convs
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
