"""CWD: MMRazor's ChannelWiseDivergence as our configs use it, checked against an independent
per-channel formulation, and the RetinaNet CWD configs."""
import math

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from conftest import make_data_samples


def reference_cwd(s, t, tau, weight):
    """Per image and channel: KL(p_t || p_s) of the spatial distributions softmax(x/tau),
    written as a double loop with explicit sums, times tau^2, averaged over N*C."""
    n, c = s.shape[:2]
    total = 0.0
    for i in range(n):
        for j in range(c):
            zs = [v / tau for v in s[i, j].flatten().tolist()]
            zt = [v / tau for v in t[i, j].flatten().tolist()]
            ls = math.log(sum(math.exp(v) for v in zs))
            lt = math.log(sum(math.exp(v) for v in zt))
            total += sum(math.exp(b - lt) * ((b - lt) - (a - ls)) for a, b in zip(zs, zt))
    return weight * tau ** 2 * total / (n * c)


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_channel_wise_divergence_matches_an_independent_formulation(tau):
    torch.manual_seed(0)
    s, t = torch.randn(2, 3, 4, 5, dtype=torch.float64), torch.randn(2, 3, 4, 5,
                                                                    dtype=torch.float64)
    loss = MODELS.build(dict(type='ChannelWiseDivergence', tau=tau, loss_weight=5.0))
    assert loss(s, t).item() == pytest.approx(reference_cwd(s, t, tau, 5.0), rel=1e-10)
    assert loss(t, t).item() == pytest.approx(0.0, abs=1e-12)  # identical features


def test_cwd_mini_wiring_trains_the_student_only():
    cfg = Config.fromfile('configs/mini/cwd_retina_r34_r18_mini.py').model
    cfg.pop('_scope_')
    cfg.update(teacher_ckpt=None, allow_random_teacher=True)
    algo = MODELS.build(cfg)
    algo.init_weights()
    algo.train()
    torch.manual_seed(0)
    inputs, samples = torch.randn(2, 3, 64, 64), make_data_samples()
    losses = algo.loss(inputs, samples)
    with torch.no_grad():
        fs, ft = algo.student.extract_feat(inputs), algo.teacher.extract_feat(inputs)
    for i in range(5):
        expected = reference_cwd(fs[i].double(), ft[i].double(), 1.0, 5.0)
        assert losses[f'distill.loss_cwd_fpn{i}'].item() == pytest.approx(expected, rel=1e-4)
    sum(v for k, v in losses.items() if k.startswith('distill.')).backward()
    assert all(p.grad is None for p in algo.teacher.parameters())
    assert any(p.grad is not None for p in algo.student.neck.parameters())


def test_cwd_coco_recipe():
    cfg = Config.fromfile('configs/cwd_retina_r101_r50.py')
    assert cfg.train_cfg.max_epochs == 24
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)
    m = cfg.model
    assert m.teacher == 'mmdet::retinanet/retinanet_r101_fpn_2x_coco.py'
    assert m.architecture.backbone.depth == 50
    losses = m.distiller.distill_losses
    assert len(losses) == 5 and all(
        (v.type, v.tau, v.loss_weight) == ('ChannelWiseDivergence', 1.0, 5.0)
        for v in losses.values())
    assert [m.distiller.loss_forward_mappings[f'loss_cwd_fpn{i}'].preds_T.data_idx
            for i in range(5)] == list(range(5))
