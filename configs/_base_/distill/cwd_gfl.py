# CWD on GFL, as the seed's GFL recipe: cwd.py's loss (tau 1, weight 5) on each level's FPN
# feature and on the head's classification logits (the output of bbox_head.gfl_cls, which runs
# once per level: `cls` records it 5 times, level i is record i), 10 losses in all; the
# teacher runs its head's forward for them (teacher_forward='head').
_base_ = './cwd.py'
__levels = range(5)
__recorders = dict(
    fpn=dict(type='ModuleOutputs', source='neck'),
    cls=dict(type='ModuleOutputs', source='bbox_head.gfl_cls'))
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=__recorders,
        teacher_recorders=__recorders,
        distill_losses={
            f'loss_cwd_cls{i}': dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_cwd_cls{i}':
            dict(
                preds_S=dict(from_student=True, recorder='cls', record_idx=i),
                preds_T=dict(from_student=False, recorder='cls', record_idx=i))
            for i in __levels
        }))
