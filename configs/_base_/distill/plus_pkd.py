# MMRazor's PKDLoss on the five FPN outputs, to be added to another method's wiring (CrossKD's
# "+PKD" pairs): a pair config takes `plus_pkd` and merges it into its distiller,
#   model = dict(distiller=dict(_base_.pop('plus_pkd'), distill_losses=...weights...))
# (the distiller's other recorders, losses and mappings stay), with the weight of its pair.
__levels = range(5)
plus_pkd = dict(
    student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    distill_losses={f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=1.0)
                    for i in __levels},
    loss_forward_mappings={
        f'loss_pkd_fpn{i}':
        dict(
            preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
            preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
        for i in __levels
    })
