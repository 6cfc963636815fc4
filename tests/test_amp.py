"""Mixed precision: every distillation loss under autocast (bfloat16 on the CPU; float16 on a
GPU where there is one), at ordinary and extreme inputs (logits at +-50, zero-variance
features), and one training step of every mini pair under the mixed-precision optimizer
wrapper.

Each loss computes in float32 under autocast (``float32_forward``; MMRazor's CWD through
DetDistill's float32 loss computation): its value on half-precision inputs equals its float32
value on the same (rounded) inputs to 1e-6, and differs from its float32 value on the unrounded
inputs only by what rounding the inputs does (the tolerance per case). ``python
tests/test_amp.py`` prints the figures.
"""
import copy
import math

import pytest
import torch
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.distill.losses import (FGDLoss, LDClsKDLoss, LDKLLoss, LDMainLoss, LDVLRLoss,
                                  PPYOLOELogitsLoss, YOLOv3DistillLoss)
from detkd.distill.ops import autocast_off, to_float32
from detkd.models.dense_heads.ppyoloe_head import decode_distances
from detkd.models.task_modules.batch_assigners import BatchAssignResult
from detkd.testing import make_data_samples

DEVICES = [('cpu', torch.bfloat16)
           ] + ([('cuda', torch.float16)] if torch.cuda.is_available() else [])


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _mmrazor_cwd(preds_S, preds_T):
    """MMRazor's loss as DetDistill runs it under autocast: float32 records, autocast off."""
    with autocast_off():
        cwd = MODELS.build(dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0))
        return cwd(*to_float32((preds_S, preds_T)))


def _fgd_inputs(extreme):
    g = _g(0)
    s, t = torch.randn(2, 64, 32, 32, generator=g), torch.randn(2, 64, 32, 32, generator=g)
    if extreme:  # zero-variance channels: constant features
        s, t = torch.full_like(s, 3.), torch.full_like(t, -2.)
    return dict(preds_S=s, preds_T=t, data_samples=make_data_samples(2, (64, 64)))


def _yolov3_inputs(extreme):
    g = _g(1)
    maps = [[torch.randn(2, 36, h, h, generator=g) * 3 for h in (4, 8, 16)] for _ in range(2)]
    if extreme:
        maps = [[50 * torch.sign(m) for m in levels] for levels in maps]
    return dict(preds_S=maps[0], preds_T=maps[1])


def _cwd_inputs(extreme):
    g = _g(2)
    s, t = torch.randn(2, 7, 16, 16, generator=g) * 4, torch.randn(2, 7, 16, 16, generator=g) * 4
    if extreme:
        s, t = 50 * torch.sign(s), torch.zeros_like(t)  # saturated logits vs a flat map
    return dict(preds_S=s, preds_T=t)


def _kl_inputs(extreme):
    g = _g(3)
    s, t = torch.randn(64, 17, generator=g) * 3, torch.randn(64, 17, generator=g) * 3
    if extreme:
        s, t = 50 * torch.sign(s), -50 * torch.sign(t)
    return dict(pred=s, soft_label=t)


_GFL_HEAD = []


def _ld_inputs(extreme):
    """A real GFL head's outputs and assignment (test_ld's batch)."""
    from test_ld import GTS_A, SHAPES_A, build_head, make_batch
    if not _GFL_HEAD:
        _GFL_HEAD.append(build_head())
    batch = make_batch(_GFL_HEAD[0], GTS_A, SHAPES_A, seed=7)
    batch = {
        k: ([x.detach() for x in v] if k.endswith(('scores', 'preds')) else v)
        for k, v in batch.items()
    }
    if extreme:
        for key in ('cls_scores', 'teacher_bbox_preds'):
            batch[key] = [50 * torch.sign(x) for x in batch[key]]
    return batch


def _ppyoloe_inputs(extreme):
    g = _g(4)
    N, K, R = 2, 7, 17
    sizes = [(4, 4), (2, 2)]
    t_cls = [torch.randn(N, K, h, w, generator=g) * 2 for h, w in sizes]
    t_box = [torch.randn(N, 4 * R, h, w, generator=g) for h, w in sizes]
    L = sum(h * w for h, w in sizes)
    cls = torch.randn(N, L, K, generator=g) * 2
    dist = torch.randn(N, L, 4, R, generator=g)
    if extreme:
        cls, t_cls = 50 * torch.sign(cls), [-50 * torch.sign(x) for x in t_cls]
    points = torch.cat([
        torch.stack(
            torch.meshgrid(torch.arange(w) + 0.5, torch.arange(h) + 0.5, indexing='xy'),
            -1).reshape(-1, 2) * (16 / h) for h, w in sizes
    ])
    labels = torch.full((N, L), K, dtype=torch.long)
    labels[0, :3], labels[1, 5:9] = 2, 6
    scores = torch.nn.functional.one_hot(labels, K + 1)[..., :K].float() * 0.8
    assigned = BatchAssignResult(labels, torch.zeros(N, L, 4), scores, torch.zeros(N, 0, L))
    return dict(
        cls_logits=cls,
        dist_logits=dist,
        pred_bboxes=decode_distances(points, dist),
        points_s=points,
        assigned=assigned,
        teacher_cls_scores=t_cls,
        teacher_bbox_preds=t_box)


# name -> (loss, inputs, tolerance of the value against float32 on unrounded inputs)
CASES = {
    'FGDLoss': (FGDLoss(64, 64, 0.5, 1e-3, 5e-4, 5e-4, 5e-6), _fgd_inputs, 0.01),
    'FGDLoss(normalize)': (FGDLoss(64, 64, 0.5, 1e-5, 5e-6, 1e-5, 5e-8,
                                   normalize=True), _fgd_inputs, 0.01),
    'ChannelWiseDivergence': (_mmrazor_cwd, _cwd_inputs, 0.01),
    'YOLOv3DistillLoss':
    (YOLOv3DistillLoss(num_classes=7, image_reduction='sum',
                       ref_num_classes=80), _yolov3_inputs, 0.01),
    'LDKLLoss': (LDKLLoss(T=10), _kl_inputs, 0.01),
    'LDMainLoss': (LDMainLoss(ref_images_per_gpu=2), _ld_inputs, 0.01),
    'LDVLRLoss': (LDVLRLoss(ref_images_per_gpu=2), _ld_inputs, 0.01),
    'LDClsKDLoss': (LDClsKDLoss(ref_num_classes=80), _ld_inputs, 0.01),
    **{
        f'PPYOLOELogitsLoss({t})': (PPYOLOELogitsLoss(
            term=t, ref_num_classes=80 if t == 'kd' else None), _ppyoloe_inputs, 0.01)
        for t in ('cls', 'box', 'dfl', 'kd')
    },
}


def _half(data, dtype, device):
    """The inputs as a half-precision forward would produce them."""
    if isinstance(data, torch.Tensor):
        return data.to(device, dtype) if data.is_floating_point() else data.to(device)
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return type(data)(*(_half(x, dtype, device) for x in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_half(x, dtype, device) for x in data)
    if isinstance(data, dict):
        return {k: _half(v, dtype, device) for k, v in data.items()}
    return data


def measure(name, extreme, device='cpu', dtype=torch.bfloat16):
    """(value under autocast, float32 value on the same rounded inputs, float32 value on the
    unrounded inputs)."""
    loss, make, _ = CASES[name]
    if isinstance(loss, torch.nn.Module):
        loss = loss.to(device)
    inputs = make(extreme)
    full = float(loss(**_half(inputs, torch.float32, device)))
    half = _half(inputs, dtype, device)
    rounded = float(loss(**to_float32(half)))
    with torch.autocast(device, dtype=dtype):
        value = loss(**half)
    assert value.dtype == torch.float32, f'{name} returned {value.dtype}'
    return float(value), rounded, full


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


@pytest.mark.parametrize('device, dtype', DEVICES)
@pytest.mark.parametrize('extreme', [False, True], ids=['ordinary', 'extreme'])
@pytest.mark.parametrize('name', sorted(CASES))
def test_loss_under_autocast_is_finite_and_computed_in_float32(name, extreme, device, dtype):
    value, rounded, full = measure(name, extreme, device, dtype)
    assert math.isfinite(value), (name, value)
    # computed in float32: the same as float32 on the same inputs
    assert value == pytest.approx(rounded, rel=1e-6, abs=1e-9)
    # and what rounding the inputs to half precision does stays within the stated tolerance
    assert _rel(value, full) <= CASES[name][2] or abs(value - full) < 1e-6, (name, value, full)


if __name__ == '__main__':
    print('| loss | inputs | relative difference, half vs float32 (unrounded inputs) |')
    print('|---|---|---|')
    for device, dtype in DEVICES:
        for name in sorted(CASES):
            for extreme in (False, True):
                value, rounded, full = measure(name, extreme, device, dtype)
                print(f'| {name} | {"extreme" if extreme else "ordinary"} ({device}, '
                      f'{str(dtype)[6:]}) | {_rel(value, full):.2e} |')

# ---- whole pairs ------------------------------------------------------------------------

PAIRS = [
    'configs/fgd/fgd_retina_r34_r18_mini.py', 'configs/cwd/cwd_retina_r34_r18_mini.py',
    'configs/cwd/cwd_gfl_r34vd_r18_mini.py', 'configs/ld/ld_gfl_r34vd_r18vd_mini.py',
    'configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py',
    'configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py'
]


def test_amp_option_picks_float16_on_a_gpu_and_bfloat16_on_a_cpu_for_every_pair():
    import glob

    from mmengine.optim import build_optim_wrapper

    from detkd.utils import enable_amp, load_config
    configs = {
        p: load_config(p)
        for p in sorted(glob.glob('configs/[!_]*.py') + glob.glob('configs/[!_]*/*_mini.py'))
    }
    pairs = {p: cfg for p, cfg in configs.items() if 'teacher' in cfg.model}
    assert len(pairs) >= 13
    for path, cfg in pairs.items():
        gpu = copy.deepcopy(cfg)
        assert enable_amp(gpu, cuda=True) == 'AmpOptimWrapper', path
        assert gpu.optim_wrapper.loss_scale == 'dynamic'
        cpu = copy.deepcopy(cfg)
        assert enable_amp(cpu, cuda=False) == 'BFloat16AmpOptimWrapper', path
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cpu.optim_wrapper)
    assert type(wrapper).__name__ == 'BFloat16AmpOptimWrapper'
    assert wrapper.cast_dtype == torch.bfloat16


@pytest.mark.integration
@pytest.mark.parametrize('path', PAIRS)
def test_a_mini_distillation_step_under_the_amp_wrapper_is_finite(path):
    """Two training steps (random teacher) with the wrapper tools/train.py --amp picks here:
    bfloat16 autocast over both models, the distillation losses in float32, every logged
    value and every student parameter finite."""
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from detkd.testing import RANDOM_TEACHER
    from detkd.utils import enable_amp, load_config
    cfg = load_config(path, RANDOM_TEACHER)
    enable_amp(cfg, cuda=False)
    model_cfg = cfg.model.copy()
    model_cfg.pop('_scope_')
    torch.manual_seed(0)
    algo = MODELS.build(model_cfg)
    algo.init_weights()
    algo.train()
    with DefaultScope.overwrite_default_scope('mmrazor'):
        optim = build_optim_wrapper(algo, cfg.optim_wrapper)
    loader = cfg.train_dataloader.copy()
    # one image a batch: bfloat16 is emulated on most CPUs (slow), and two steps show the
    # update
    loader.update(num_workers=0, persistent_workers=False, batch_size=1)
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        data = next(iter(Runner.build_dataloader(loader, seed=0)))
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 100)  # PP-YOLOE+: past the static epochs, teacher assignment
    try:
        for _ in range(2):
            log = algo.train_step(data, optim)
    finally:
        hub.update_info('epoch', 0)
    assert any(k.startswith('distill.') for k in log)
    assert all(math.isfinite(float(v)) for v in log.values()), log
    assert all(torch.isfinite(p).all() for p in algo.student.parameters())
