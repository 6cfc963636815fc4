# What every method's wiring starts from: MMRazor's ConfigurableDistiller in DetDistill, whose
# teacher runs backbone and neck unless a method says otherwise. The method fragments beside
# this file add their recorders, losses and mappings.
#
# A pair config uses a method fragment as `model = _base_.pop('distill')` then
# `model.update(architecture=_base_.model, teacher=..., teacher_ckpt=...)`: `distill` replaces
# the student config's model (_delete_), pop() keeps it from staying a top-level key of the
# run's config, and update() merges recursively, as inheritance does. (Names starting with
# '__' in these fragments stay out of the config too.)
distill = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='DetDistill',
    teacher_forward='neck',
    distiller=dict(type='ConfigurableDistiller'))
