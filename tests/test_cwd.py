"""CWD: MMRazor's ChannelWiseDivergence as our configs use it, checked against an independent
per-channel formulation, and the RetinaNet CWD configs."""
import math

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.testing import make_data_samples
from detkd.utils.config import config_path


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
    return weight * tau**2 * total / (n * c)


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_channel_wise_divergence_matches_an_independent_formulation(tau):
    torch.manual_seed(0)
    s, t = torch.randn(
        2, 3, 4, 5, dtype=torch.float64), torch.randn(
            2, 3, 4, 5, dtype=torch.float64)
    loss = MODELS.build(dict(type='ChannelWiseDivergence', tau=tau, loss_weight=5.0))
    assert loss(s, t).item() == pytest.approx(reference_cwd(s, t, tau, 5.0), rel=1e-10)
    assert loss(t, t).item() == pytest.approx(0.0, abs=1e-12)  # identical features


@pytest.mark.integration
def test_cwd_mini_wiring_trains_the_student_only():
    algo = MODELS.build(_mini_cfg('configs/cwd/cwd_retina_r34_r18_mini.py'))
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
    assert [
        m.distiller.loss_forward_mappings[f'loss_cwd_fpn{i}'].preds_T.data_idx for i in range(5)
    ] == list(range(5))


def reference_standardize(x):
    """Each channel over (N, H, W), with explicit sums: (x - mean) / (unbiased std + 1e-6)."""
    out = x.clone()
    n, c, h, w = x.shape
    for j in range(c):
        vals = x[:, j].flatten().tolist()
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean)**2 for v in vals) / (len(vals) - 1))
        out[:, j] = (x[:, j] - mean) / (std + 1e-6)
    return out


def reference_align(x, weight, bias):
    """A 1x1 conv as explicit per-channel weighted sums."""
    n, c, h, w = x.shape
    return torch.stack([
        sum(weight[o, i, 0, 0] * x[:, i] for i in range(c)) + bias[o]
        for o in range(weight.size(0))
    ],
                       dim=1)


@pytest.mark.parametrize('tau', [1.0, 4.0])
@pytest.mark.parametrize('normalize', [False, True])
def test_cwd_with_align_norm_connectors_matches_reference(tau, normalize):
    """Paddle's CWD inputs (student aligned 3 -> 5 channels by a 1x1 conv, both standardised
    per channel or not) through our connectors, then MMRazor's loss, against the reference."""
    torch.manual_seed(1)
    s = torch.randn(2, 3, 4, 5, dtype=torch.float64) * 3 + 1
    t = torch.randn(2, 5, 4, 5, dtype=torch.float64) * 2 - 1
    s_conn = MODELS.build(
        dict(type='AlignNormConnector', in_channel=3, out_channel=5,
             normalize=normalize)).double()
    t_conn = MODELS.build(dict(type='AlignNormConnector', normalize=normalize)).double()
    assert not list(t_conn.parameters())  # the teacher side has nothing to learn
    loss = MODELS.build(dict(type='ChannelWiseDivergence', tau=tau, loss_weight=5.0))
    got = loss(s_conn(s), t_conn(t))

    conv = s_conn.align.conv_module.conv
    s_ref = reference_align(s, conv.weight.detach(), conv.bias.detach())
    t_ref = t
    if normalize:
        s_ref, t_ref = reference_standardize(s_ref), reference_standardize(t_ref)
    assert got.item() == pytest.approx(reference_cwd(s_ref, t_ref, tau, 5.0), rel=1e-9)

    # the align conv learns; the teacher feature carries no gradient
    t.requires_grad_(False)
    got.backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0


def test_standardization_removes_the_scale_and_offset_of_each_channel():
    torch.manual_seed(2)
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    scaled = x * torch.tensor([1., 10., 0.1, 3.], dtype=torch.float64).view(1, 4, 1, 1) + 7
    norm = MODELS.build(dict(type='AlignNormConnector'))
    # equal up to the 1e-6 on the std (relative 1e-5 for the channel scaled by 0.1)
    torch.testing.assert_close(norm(scaled), norm(x), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(norm(x), reference_standardize(x))
    # without align, the connector is the standardisation alone; off, the identity
    assert MODELS.build(dict(type='AlignNormConnector', in_channel=4, out_channel=4)).align \
        is None
    assert MODELS.build(dict(type='AlignNormConnector', normalize=False))(x) is x


def test_align_norm_connector_rejects_bad_channels():
    with pytest.raises(ValueError, match='give both in_channel and out_channel'):
        MODELS.build(dict(type='AlignNormConnector', in_channel=3))
    conn = MODELS.build(dict(type='AlignNormConnector', in_channel=3, out_channel=5))
    with pytest.raises(ValueError, match=r'expected 3 input channels .* shape \(1, 4, 2, 2\)'):
        conn(torch.zeros(1, 4, 2, 2))


def _mini_cfg(path, **overrides):
    cfg = Config.fromfile(path).model
    cfg.pop('_scope_')
    cfg.update(dict(dict(teacher_ckpt=None, allow_random_teacher=True), **overrides))
    return cfg


@pytest.mark.integration
def test_retina_cwd_with_different_channels_fails_at_build_then_trains_with_align():
    """A student FPN narrower than the teacher's: CWD's inputs would differ in shape; the
    dry run at build says so and names the connector; with it, the align conv trains."""
    cfg = _mini_cfg('configs/cwd/cwd_retina_r34_r18_mini.py')
    cfg.architecture.neck.out_channels = 32
    cfg.architecture.bbox_head.in_channels = 32
    with pytest.raises(
            ValueError,
            match=r"loss_cwd_fpn0: preds_S \(fpn\[0\]\) has shape "
            r"\(1, 32, 32, 32\) but preds_T \(fpn\[0\]\) has "
            r"\(1, 64, 32, 32\).*in_channel=32, out_channel=64"):
        MODELS.build(cfg)
    d = cfg.distiller
    d.connectors = {
        f's_align{i}':
        dict(type='AlignNormConnector', in_channel=32, out_channel=64, normalize=False)
        for i in range(5)
    }
    for i in range(5):
        d.loss_forward_mappings[f'loss_cwd_fpn{i}'].preds_S.connector = f's_align{i}'
    algo = MODELS.build(cfg)
    algo.init_weights()
    algo.train()
    losses = algo.loss(torch.randn(2, 3, 64, 64), make_data_samples())
    sum(v for k, v in losses.items() if k.startswith('distill.')).backward()
    assert algo.distiller.connectors.s_align0.align.conv_module.conv.weight.grad is not None
    assert all(p.grad is None for p in algo.teacher.parameters())


def _gfl_logits(detector, x):
    feats = detector.extract_feat(x)
    cls_scores, _ = detector.bbox_head(feats)
    return feats, cls_scores


@pytest.mark.integration
def test_gfl_cwd_distils_fpn_features_and_head_logits_of_every_level():
    algo = MODELS.build(_mini_cfg('configs/cwd/cwd_gfl_r34vd_r18_mini.py'))
    algo.init_weights()
    algo.train()
    torch.manual_seed(0)
    inputs, samples = torch.randn(2, 3, 96, 96), make_data_samples(size=(96, 96))
    with torch.no_grad():  # the GFL head: random logits are nearly uniform, sharpen them
        for m in (algo.student, algo.teacher):
            m.bbox_head.gfl_cls.weight.normal_(0, 0.3)
    losses = algo.loss(inputs, samples)
    with torch.no_grad():  # train mode as in loss(): BN on batch statistics
        fs, cs = _gfl_logits(algo.student, inputs)
        ft, ct = _gfl_logits(algo.teacher, inputs)
    assert [tuple(c.shape) for c in ct] == [(2, 7, 12, 12), (2, 7, 6, 6), (2, 7, 3, 3),
                                            (2, 7, 2, 2), (2, 7, 1, 1)]
    for i in range(3):  # levels of one position have a zero divergence by definition
        for kind, s, t in (('fpn', fs, ft), ('cls', cs, ct)):
            expected = reference_cwd(s[i].double(), t[i].double(), 1.0, 5.0)
            assert expected > 0
            assert losses[f'distill.loss_cwd_{kind}{i}'].item() == pytest.approx(
                expected, rel=1e-4), f'{kind}{i}'


@pytest.mark.integration
def test_gfl_cwd_gradients_reach_the_student_head_and_never_the_teacher():
    algo = MODELS.build(_mini_cfg('configs/cwd/cwd_gfl_r34vd_r18_mini.py'))
    algo.init_weights()
    algo.train()
    losses = algo.loss(torch.randn(2, 3, 64, 64), make_data_samples())
    sum(v for k, v in losses.items() if k.startswith('distill.loss_cwd_cls')).backward()
    assert algo.student.bbox_head.gfl_cls.weight.grad.abs().sum() > 0
    assert algo.student.bbox_head.gfl_reg.weight.grad is None  # cls logits only
    assert all(p.grad is None for p in algo.teacher.parameters())


def test_head_records_need_the_teacher_head_to_run():
    cfg = _mini_cfg('configs/cwd/cwd_gfl_r34vd_r18_mini.py', teacher_forward='neck')
    with pytest.raises(
            ValueError,
            match=r"loss_cwd_cls0.preds_T: the teacher recorder 'cls' "
            r"\(bbox_head.gfl_cls\) holds 0 record.*"
            r"teacher_forward='head'"):
        MODELS.build(cfg)


def test_a_misspelled_recorder_source_fails_at_build_with_the_valid_names():
    cfg = _mini_cfg('configs/cwd/cwd_gfl_r34vd_r18_mini.py')
    cfg.distiller.teacher_recorders.cls.source = 'bbox_head.gfl_cl'
    with pytest.raises(
            KeyError,
            match=r"teacher recorder 'cls'.*no module 'bbox_head.gfl_cl'"
            r".*Closest names: bbox_head.gfl_cls"):
        MODELS.build(cfg)


def test_the_checkpoint_of_another_detector_does_not_load_as_the_teacher(tmp_path):
    """A RetinaNet checkpoint given as the GFL teacher: every differing key is reported."""
    retina = MODELS.build(
        dict(Config.fromfile('configs/retinanet/retinanet_r34_mini.py').model, _scope_='mmdet'))
    path = str(tmp_path / 'retina.pth')
    torch.save(dict(state_dict=retina.state_dict()), path)
    with pytest.raises(
            RuntimeError,
            match=r'(?s)does not match the teacher model \(GFL\).*'
            r'missing \(module, tensors\): .*bbox_head.gfl_cls '
            r'\(2\).*unexpected \(module, tensors\): .*'
            r'bbox_head.retina_cls \(2\)'):
        MODELS.build(
            _mini_cfg(
                'configs/cwd/cwd_gfl_r34vd_r18_mini.py',
                teacher_ckpt=path,
                allow_random_teacher=False))


@pytest.mark.integration
def test_cwd_gfl_coco_recipe_and_model():
    cfg = Config.fromfile('configs/cwd_gfl_r101vd_r50.py')
    # the seed's (teacher's) recipe: 2x, steps 16/22, multi-scale 480..800 step 32, EMA
    assert cfg.train_cfg.max_epochs == 24
    assert cfg.param_scheduler[1].milestones == [16, 22]
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    resize = cfg.train_dataloader.dataset.pipeline[2]
    assert resize.type == 'RandomChoiceResize'
    assert [s[1] for s in resize.scales] == list(range(480, 801, 32))
    assert cfg.custom_hooks[0].type == 'EMAHook' and cfg.custom_hooks[0].momentum == 0.0002
    m = cfg.model
    assert m.teacher_forward == 'head'
    assert m.architecture.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    # the seed's own teacher: Paddle's trained GFL R101vd, converted, in Paddle's layout
    assert m.teacher == 'detkd::gfl/gfl_r101vd_paddle_coco.py'
    assert m.teacher_ckpt == 'checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth'
    teacher = Config.fromfile(config_path(m.teacher)).model
    assert (teacher.backbone.type, teacher.backbone.variant,
            teacher.backbone.depth) == ('PaddleResNet', 'd', 101)
    losses = m.distiller.distill_losses
    assert len(losses) == 10 and all(
        (v.type, v.tau, v.loss_weight) == ('ChannelWiseDivergence', 1.0, 5.0)
        for v in losses.values())
    # built for real (random teacher: no download): 80-class logits on every level
    m.pop('_scope_')
    m.update(teacher_ckpt=None, allow_random_teacher=True)
    algo = MODELS.build(m)
    algo.train()
    losses = algo.loss(torch.randn(1, 3, 128, 128), make_data_samples(1, (128, 128)))
    assert {f'distill.loss_cwd_{k}{i}' for k in ('fpn', 'cls') for i in range(5)} <= set(losses)
    cls = algo.distiller.teacher_recorders.get_recorder('cls')
    assert len(cls.data_buffer) == 5 and cls.get_record_data(0).shape == (1, 80, 16, 16)


def test_missing_gfl_teacher_checkpoint_says_how_to_get_it():
    cfg = Config.fromfile('configs/cwd_gfl_r101vd_r50.py').model
    cfg.pop('_scope_')
    with pytest.raises(
            FileNotFoundError,
            match=r"gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth' does not exist. It is "
            r"PaddleDetection's trained teacher, converted: .*paddle_to_mmdet.py ARCH "
            r'SRC.pdparams checkpoints/gfl_r101vd_fpn_mstrain_2x_coco_paddle.pth.* Or train '
            r'the teacher \(python tools/train.py detkd::gfl/gfl_r101vd_paddle_coco.py\)'):
        MODELS.build(cfg)
    cfg.teacher_ckpt = 'work_dirs/gfl_r101vd_fpn_ms-480-800-2x-ema_coco/epoch_24.pth'
    with pytest.raises(FileNotFoundError, match=r'does not exist. Train the teacher first'):
        MODELS.build(cfg)
