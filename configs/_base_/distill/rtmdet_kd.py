# RTMDet's distillation as OpenMMLab published it (mmyolo configs/rtmdet/distillation/, on
# MMRazor): the raw output of each of the neck's three output convs (neck.out_convs.i.conv in
# mmdet's CSPNeXtPAFPN, before its BN and SiLU; mmyolo calls them out_layers) is normalised on
# both sides, per channel over the batch and space (BN without affine or running statistics:
# MMRazor's NormConnector for the teacher, a 1x1 ConvModuleConnector then the same BN for the
# student, whose width may differ), and MMRazor's ChannelWiseDivergence (tau 1, weight 1)
# compares them; the teacher runs backbone and neck. The recipe's second stage, the student
# alone for its last epochs, is the pair config's StopDistillHook. The channels are tiny -> s's
# (96 -> 128); a pair of other widths sets them (configs/rtmdet_kd/). How a pair config uses it:
# see det_distill.py.
_base_ = './det_distill.py'
__levels = range(3)
__norm = dict(type='BN', affine=False, track_running_stats=False)
__recorders = {
    f'fpn{i}': dict(type='ModuleOutputs', source=f'neck.out_convs.{i}.conv')
    for i in __levels
}
__connectors = {}
for __i in __levels:
    __connectors[f'fpn{__i}_s'] = dict(
        type='ConvModuleConnector',
        in_channel=96,
        out_channel=128,
        bias=False,
        norm_cfg=__norm,
        act_cfg=None)
    __connectors[f'fpn{__i}_t'] = dict(type='NormConnector', in_channels=128, norm_cfg=__norm)
distill = dict(
    distiller=dict(
        student_recorders=__recorders,
        teacher_recorders=__recorders,
        connectors=__connectors,
        distill_losses={
            f'loss_fpn{i}': dict(type='ChannelWiseDivergence', loss_weight=1)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_fpn{i}':
            dict(
                preds_S=dict(from_student=True, recorder=f'fpn{i}', connector=f'fpn{i}_s'),
                preds_T=dict(from_student=False, recorder=f'fpn{i}', connector=f'fpn{i}_t'))
            for i in __levels
        }))
# after the distillation stage (StopDistillHook) the connectors get no gradient
find_unused_parameters = True
