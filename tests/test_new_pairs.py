"""The RTMDet, CrossKD, BCKD and PP-YOLOE+ m -> s configs: each is complete for tools/train.py,
builds with a random teacher (the build-time checks and dry run included) and trains a step,
every configured distillation term finite and reaching the student."""
import glob

import pytest
import torch

import detkd  # noqa: F401
from detkd.testing import build_pair
from detkd.utils import load_config

PAIRS = sorted(
    glob.glob('configs/crosskd/*.py') + glob.glob('configs/bckd/*.py') +
    glob.glob('configs/rtmdet_kd/*.py') + [
        'configs/pkd/pkd_rtmdet_s_tiny_mini.py', 'configs/fgd/fgd_rtmdet_s_tiny_mini.py',
        'configs/ppyoloe_kd/ppyoloe_plus_m_s_distill.py'
    ])
DETECTORS = sorted(glob.glob('configs/rtmdet/*.py'))


@pytest.mark.parametrize('path', PAIRS + DETECTORS)
def test_config_is_complete(path):
    cfg = load_config(path)
    for key in ('model', 'train_dataloader', 'train_cfg', 'val_dataloader', 'val_evaluator',
                'test_dataloader', 'optim_wrapper', 'param_scheduler', 'default_hooks'):
        assert key in cfg, f'{path} lacks {key}'
    assert 'detkd' in cfg.custom_imports.imports
    assert 'distill' not in cfg
    if path in PAIRS:
        assert isinstance(cfg.model.teacher, dict) and isinstance(cfg.model.architecture, dict)
        assert cfg.custom_hooks[-1]['type'] == 'DistillBalanceHook'


@pytest.mark.integration
@pytest.mark.parametrize('path', PAIRS)
def test_pair_builds_and_trains_a_step_with_a_random_teacher(path):
    from test_fgd_pairs import _samples
    cfg, algo = build_pair(path, pretrained=False, init_weights='_mini' in path)
    losses = algo.loss(torch.randn(2, 3, 256, 256), _samples())
    distill = {k: v for k, v in losses.items() if k.startswith('distill.')}
    assert len(distill) == len(cfg.model.distiller.distill_losses), sorted(distill)
    assert all(torch.isfinite(v).all() for v in distill.values()), distill
    assert any(k.startswith('student.loss') for k in losses)
    sum(distill.values()).backward()
    grads = [p.grad for n, p in algo.student.named_parameters() if n.startswith('neck.')]
    assert any(g is not None and g.abs().sum() > 0 for g in grads), path
