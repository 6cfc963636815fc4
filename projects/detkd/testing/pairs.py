"""A distillation config built with a random teacher, for tests of its wiring (the real
teachers are model-zoo downloads or trained checkpoints)."""
import torch

RANDOM_TEACHER = {'model.teacher_ckpt': None, 'model.allow_random_teacher': True}
# COCO-scale configs: their backbones' ImageNet weights are downloads too
NO_PRETRAINED = {
    'model.teacher.backbone.init_cfg': None,
    'model.architecture.backbone.init_cfg': None
}


def build_pair(path, options=None, *, pretrained=True, init_weights=True):
    """``(cfg, algorithm)``: the distillation config at ``path`` loaded with a random teacher
    (and ``options`` over it), built after ``torch.manual_seed(0)``, its weights initialised
    (the inheriting included) unless ``init_weights=False``, in train mode.
    ``pretrained=False`` also drops both backbones' ``init_cfg``."""
    from mmrazor.registry import MODELS

    from detkd.utils import load_config
    cfg = load_config(path, {
        **RANDOM_TEACHER,
        **({} if pretrained else NO_PRETRAINED),
        **(options or {})
    })
    model = cfg.model.copy()
    model.pop('_scope_', None)
    torch.manual_seed(0)
    algo = MODELS.build(model)  # the build-time checks and dry run included
    if init_weights:
        algo.init_weights()
    algo.train()
    return cfg, algo
