# CWD, channel-wise KD (Shu et al., ICCV 2021), wired as the seed's RetinaNet recipe: MMRazor's
# ChannelWiseDivergence (per channel, softmax over H*W of feature/tau, KL(teacher || student)
# * tau^2, summed and divided by N*C), tau 1, loss weight 5, on each of the 5 FPN levels; the
# teacher runs backbone and neck. How a pair config uses it: see det_distill.py.
_base_ = './det_distill.py'
__levels = range(5)
distill = dict(
    distiller=dict(
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_cwd_fpn{i}': dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_cwd_fpn{i}':
            dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in __levels
        }))
