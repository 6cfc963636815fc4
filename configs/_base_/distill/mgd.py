# MGD, masked generative distillation (Yang et al., ECCV 2022), wired as MMRazor 1.0's
# configs/distill/mmdet/mgd/mgd_fpn_retina_x101_retina_r50_2x_coco.py: on each of the 5 FPN
# convs (neck.fpn_convs.N.conv), MMRazor's MGDConnector masks the student's map at random
# (lambda_mgd 0.65) and generates the teacher's from it (two 3x3 convs), and MGDLoss is the
# MSE sum against the teacher's map (alpha_mgd 2e-5); the student's neck and head start from
# the teacher's (MMRazor does it with Pretrained init_cfgs on the teacher checkpoint; here
# DetDistill's inherit_teacher, which checks that they match). The widths are 256 (COCO FPNs);
# a pair of other widths sets the connectors' channels. How a pair config uses it: see
# det_distill.py.
_base_ = './det_distill.py'
__levels = range(5)
__convs = {
    f'fpn{i}': dict(type='ModuleOutputs', source=f'neck.fpn_convs.{i}.conv')
    for i in __levels
}
distill = dict(
    inherit_teacher=('neck', 'bbox_head'),
    distiller=dict(
        student_recorders=__convs,
        teacher_recorders=__convs,
        connectors={
            f's_fpn{i}_connector':
            dict(type='MGDConnector', student_channels=256, teacher_channels=256, lambda_mgd=0.65)
            for i in __levels
        },
        distill_losses={
            f'loss_mgd_fpn{i}': dict(type='MGDLoss', alpha_mgd=0.00002)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_mgd_fpn{i}':
            dict(
                preds_S=dict(
                    from_student=True, recorder=f'fpn{i}', connector=f's_fpn{i}_connector'),
                preds_T=dict(from_student=False, recorder=f'fpn{i}'))
            for i in __levels
        }))
find_unused_parameters = True
