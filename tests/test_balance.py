"""DistillBalanceHook and its probe: the shares of the loss and of the gradient per term,
checked against hand-computed gradients; the hook through a real runner (log lines, scalars,
the clip count, the warnings, once each); the step it probes is unchanged; the configs get it.
"""
import glob
import json
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

import detkd  # noqa: F401
from detkd.distill.balance import (DistillBalanceHook, balance_probe, loss_terms, term_gradients,
                                   term_name)
from detkd.utils import load_config


class _Student(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(2, 1, bias=False)
        self.bbox_head = nn.Linear(1, 1, bias=False)


class _Toy(BaseModel):
    """A 'distillation' whose student is y = v (w . x): its own loss is (y - 1)^2 and the
    distillation terms (w . x)^2 times ``distill_weight`` split over two 'levels'."""

    def __init__(self, distill_weight=1.0):
        super().__init__()
        self.student = _Student()
        self.distill_weight = distill_weight

    def forward(self, x, mode='loss'):
        h = self.student.backbone(x)
        y = self.student.bbox_head(h)
        feat = h.pow(2).mean()
        return {
            'student.loss_det': (y - 1).pow(2).mean(),
            'student.acc': y.detach().mean(),
            'distill.loss_kd0': self.distill_weight * 0.25 * feat,
            'distill.loss_kd1': self.distill_weight * 0.75 * feat,
        }


def test_loss_terms_merge_levels_and_lists_and_skip_non_losses():
    a, b, c = torch.tensor(1.), torch.tensor(2.), torch.tensor(4.)
    terms = loss_terms({
        'student.loss_cls': [a, b],
        'student.acc': c,
        'distill.loss_fgd_fpn0': a,
        'distill.loss_fgd_fpn1': c
    })
    assert terms == {'student.loss_cls': 3., 'distill.loss_fgd_fpn': 5.}
    assert term_name('distill.loss_cwd_cls4') == 'distill.loss_cwd_cls'
    assert term_name('distill.loss_logits_kd') == 'distill.loss_logits_kd'


def test_term_gradients_match_hand_computed_norms_shares_and_cosine():
    """w = (1, 2), v = 3, x = (1, 1): h = 3, y = 9. d y / d(w, v) = (3, 3, 3);
    d h^2 / d(w, v) = (6, 6, 0)."""
    student = _Student()
    with torch.no_grad():
        student.backbone.weight.copy_(torch.tensor([[1., 2.]]))
        student.bbox_head.weight.fill_(3.)
    h = student.backbone(torch.ones(1, 2))
    y = student.bbox_head(h)
    groups = {'backbone': [student.backbone.weight], 'bbox_head': [student.bbox_head.weight]}
    norms, cos = term_gradients({'student.loss': y.sum(), 'distill.loss': h.pow(2).sum()}, groups)
    assert norms['student.loss'] == pytest.approx({
        'backbone': 18**0.5,
        'bbox_head': 3.,
        'all': 27**0.5
    })
    assert norms['distill.loss'] == pytest.approx({
        'backbone': 72**0.5,
        'bbox_head': 0.,
        'all': 72**0.5
    })
    assert cos == pytest.approx(36 / (27**0.5 * 72**0.5))

    model = nn.Module()
    model.student = student
    probe = balance_probe({'student.loss': y.sum(), 'distill.loss': h.pow(2).sum()}, model)
    assert probe['grad_share']['distill.loss'] == pytest.approx(72**0.5 / (72**0.5 + 27**0.5))
    assert probe['group_share']['backbone'] == pytest.approx(72**0.5 / (72**0.5 + 18**0.5))
    assert probe['group_share']['bbox_head'] == 0.
    assert probe['loss_share']['distill.loss'] == pytest.approx(9 / 18)
    # the graph is kept for the step's own backward
    (y.sum() + h.pow(2).sum()).backward()
    assert student.backbone.weight.grad is not None


def test_a_term_without_gradient_has_zero_share_and_no_cosine():
    student = _Student()
    model = nn.Module()
    model.student = student
    y = student.bbox_head(student.backbone(torch.ones(1, 2)))
    probe = balance_probe({'student.loss': y.sum(), 'distill.loss_off': torch.tensor(0.)}, model)
    assert probe['grad_share'] == {'student.loss': 1., 'distill.loss_off': 0.}
    assert math.isnan(probe['cos'])


def _train(tmp_path, name, distill_weight, hook=True, max_norm=None, iters=12):
    torch.manual_seed(0)
    data = [dict(x=torch.randn(2)) for _ in range(2 * iters)]
    hooks = [DistillBalanceHook(interval=2, window=2)] if hook else []
    optim = dict(optimizer=dict(type='SGD', lr=0.01))
    if max_norm:
        optim['clip_grad'] = dict(max_norm=max_norm)
    runner = Runner(
        model=_Toy(distill_weight),
        work_dir=str(tmp_path / name),
        experiment_name=f'{tmp_path.name}_{name}',  # MMLogger instances are per name
        train_dataloader=dict(
            dataset=data,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=optim,
        custom_hooks=hooks,
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1), checkpoint=None),
        randomness=dict(seed=0),
        visualizer=dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]))
    runner.train()
    log = open(glob.glob(osp.join(str(tmp_path / name), '*', '*.log'))[0]).read()
    return runner, log


def test_hook_logs_each_probe_and_warns_once_when_a_term_dominates(tmp_path):
    runner, log = _train(tmp_path, 'dominate', distill_weight=100., max_norm=1e-3)
    assert log.count('balance at iter') == 6  # every 2 of 12 iterations
    first = [line for line in log.splitlines() if 'balance at iter 2 ' in line][0]
    # the two levels are one term
    assert 'distill.loss_kd ' in first and 'distill.loss_kd0' not in first
    assert 'clipped 100% of the last 2 steps' in first
    # the distillation term dominates from the first probe: one warning, after `window` probes
    assert log.count('distill.loss_kd gives') == 1
    assert 'model.distiller.distill_losses.loss_kd*.loss_weight' in log
    # every step clipped (max_norm 1e-3): counted, and warned about once
    assert 'clipped 100% of the last 2 steps' in log
    assert log.count('gradient clipping cut most steps') == 1
    scalars = [
        json.loads(line) for line in open(
            glob.glob(osp.join(str(tmp_path / 'dominate'), '*', 'vis_data', 'scalars.json'))[0])
    ]
    probes = [s for s in scalars if 'balance/grad_share/distill.loss_kd' in s]
    assert [s['step'] for s in probes] == [2, 4, 6, 8, 10, 12]
    assert all(s['balance/distill_share/all'] > 0.8 for s in probes)
    assert all(s['balance/clip_frac'] == 1. for s in probes)
    # the model's parse_losses is its own again after training
    assert 'parse_losses' not in vars(runner.model)


def test_hook_warns_about_a_negligible_term_but_not_a_switched_off_one(tmp_path):
    _, log = _train(tmp_path, 'tiny', distill_weight=1e-7)
    assert log.count('distill.loss_kd gives') == 1 and 'cannot change what the student' in log
    _, log = _train(tmp_path, 'off', distill_weight=0.)
    assert 'balance at iter' in log and 'distill.loss_kd gives' not in log


def test_probing_does_not_change_training(tmp_path):
    with_hook, _ = _train(tmp_path, 'with', distill_weight=1., max_norm=1.)
    without, _ = _train(tmp_path, 'without', distill_weight=1., max_norm=1., hook=False)
    for (name, a), b in zip(with_hook.model.state_dict().items(),
                            without.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_distillation_configs_get_the_hook_and_can_leave_it_out():
    cfg = load_config('configs/fgd/fgd_retina_r34_r18_mini.py')
    assert [h['type'] for h in cfg.custom_hooks] == ['DistillBalanceHook']
    assert 'distill_balance_hook' not in cfg
    # options reach it before it moves
    cfg = load_config('configs/fgd/fgd_retina_r34_r18_mini.py',
                      {'distill_balance_hook.interval': 7})
    assert cfg.custom_hooks[0]['interval'] == 7
    cfg = load_config('configs/fgd/fgd_retina_r34_r18_mini.py', {'distill_balance_hook': None})
    assert not cfg.get('custom_hooks')
    # a student with hooks of its own (EMA) keeps them
    cfg = load_config('configs/ppyoloe_plus_x_l_distill.py')
    types = [h['type'] for h in cfg.custom_hooks]
    assert 'DistillBalanceHook' in types and len(types) > 1
    # a plain detector gets none
    assert not load_config('configs/retinanet/retinanet_r18_mini.py').get('custom_hooks')
