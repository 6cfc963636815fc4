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
# The balance of the run, in its log: every 100 iterations each loss term's share of the loss
# and of the gradient on the student, the clipped steps, and a warning when a distillation term
# dominates or vanishes (detkd.distill.balance.DistillBalanceHook). tools/train.py adds it to
# custom_hooks; set distill_balance_hook = None to leave it out.
distill_balance_hook = dict(type='DistillBalanceHook', interval=100)
