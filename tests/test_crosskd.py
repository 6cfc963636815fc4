"""CrossKD and BCKD: every loss term against an independent formulation (element by element
with ``math``, on small inputs), their edge cases, the cross-head forward (equal to the
teacher's own predictions when the student's features are the teacher's; the gradient reaches
the student's layers before the cross point and nothing else), and the configs."""
import math

import pytest
import torch
import torch.nn as nn
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.models.task_modules.prior_generators import AnchorGenerator, MlvlPointGenerator

import detkd  # noqa: F401
from detkd.distill.cross_head import align_to_teacher
from detkd.distill.losses import (BCKDClsLoss, BCKDLocLoss, BoxKDLoss, CenternessKDLoss,
                                  DistributionKDLoss, QualityFocalKDLoss)
from detkd.testing import build_pair

sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731


def _bce(logit, target):
    p = sig(logit)
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def _giou(a, b):
    iw = max(0., min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0., min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    cw = max(a[2], b[2]) - min(a[0], b[0])
    ch = max(a[3], b[3]) - min(a[1], b[1])
    iou = inter / union
    return iou - (cw * ch - union) / (cw * ch), iou


def _maps(shapes, channels, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, channels, h, w, generator=g) for n, h, w in shapes]


def _rows(maps, c):
    """Locations as python lists: [(image, level, row, values)] in mmdet's order."""
    out = []
    for lvl, m in enumerate(maps):
        n, ac, h, w = m.shape
        for i in range(n):
            flat = m[i].permute(1, 2, 0).reshape(-1, c)
            for r, v in enumerate(flat.tolist()):
                out.append((i, lvl, r, v))
    return out


SHAPES = [(2, 4, 4), (2, 2, 2)]  # two levels, two images


class _Head(nn.Module):
    """What the losses read from a student's head."""

    def __init__(self, kind='anchor', num_classes=3):
        super().__init__()
        self.num_classes = num_classes
        if kind == 'anchor':
            self.prior_generator = AnchorGenerator(
                strides=[8, 16], ratios=[1.0], octave_base_scale=4, scales_per_octave=1)
            self.bbox_coder = DeltaXYWHBBoxCoder(target_stds=[0.1, 0.1, 0.2, 0.2])
        elif kind == 'point':
            self.prior_generator = MlvlPointGenerator([8, 16], offset=0.5)
        else:
            self.prior_generator = AnchorGenerator(
                strides=[8, 16], ratios=[1.0], octave_base_scale=8, scales_per_octave=1)
            self.reg_max = 4


class _Student(nn.Module):

    def __init__(self, head):
        super().__init__()
        self.bbox_head = head


def _configured(loss, kind='anchor', k=3):
    loss.configure_from_student(_Student(_Head(kind, k)))
    return loss


# -- QualityFocalKDLoss ------------------------------------------------------------------


def test_quality_focal_kd_equals_its_formula_with_label_weights():
    s, t = _maps(SHAPES, 3, 0), _maps(SHAPES, 3, 1)
    lw = [torch.randint(0, 2, (2, h * w)).float() for _, h, w in SHAPES]
    loss = _configured(QualityFocalKDLoss(loss_weight=0.7, beta=1.0))
    got = loss(s, t, label_weights=lw, avg_factor=3)
    want = 0.
    for (i, lvl, r, vs), (_, _, _, vt) in zip(_rows(s, 3), _rows(t, 3)):
        for a, b in zip(vs, vt):
            want += lw[lvl][i, r].item() * _bce(a, sig(b)) * abs(sig(a) - sig(b))
    assert got.item() == pytest.approx(0.7 * want / 3, rel=1e-5)


def test_quality_focal_kd_beta_two_and_no_positives_is_finite():
    s, t = _maps(SHAPES, 3, 2), _maps(SHAPES, 3, 3)
    got = _configured(QualityFocalKDLoss(beta=2.0))(s, t, avg_factor=0)  # no positives: Z = 1
    want = sum(
        _bce(a, sig(b)) * abs(sig(a) - sig(b))**2
        for (_, _, _, vs), (_, _, _, vt) in zip(_rows(s, 3), _rows(t, 3)) for a, b in zip(vs, vt))
    assert got.item() == pytest.approx(want, rel=1e-5)


def test_quality_focal_kd_is_zero_and_flat_at_the_teacher():
    t = _maps(SHAPES, 1, 4)  # one class
    s = [x.clone().requires_grad_() for x in t]
    out = _configured(QualityFocalKDLoss(), k=1)(s, t, avg_factor=2)
    out.backward()
    # BCE at its minimum is the teacher's entropy, but the focal factor |s - t| is 0
    assert out.item() == pytest.approx(0., abs=1e-7)
    assert all(g.grad.abs().max() < 1e-6 for g in s)


def test_quality_focal_kd_with_fcos_centerness_normaliser():
    s, t = _maps(SHAPES, 2, 5), _maps(SHAPES, 2, 6)
    # FCOS's targets: per level, images one after the other
    labels = [torch.full((2 * h * w, ), 2) for _, h, w in SHAPES]
    labels[0][3], labels[1][5] = 0, 1
    boxes = [torch.full((2 * h * w, 4), 1.) for _, h, w in SHAPES]
    boxes[0][3] = torch.tensor([1., 2., 3., 8.])  # centerness sqrt(1/3 * 2/8)
    boxes[1][5] = torch.tensor([4., 4., 4., 4.])  # centerness 1
    loss = _configured(QualityFocalKDLoss(normalizer='centerness'), k=2)
    got = loss(s, t, labels=labels, bbox_targets=boxes)
    z = math.sqrt(1 / 3 * 2 / 8) + 1
    unnorm = _configured(QualityFocalKDLoss(), k=2)(s, t, avg_factor=1)
    assert got.item() == pytest.approx(unnorm.item() / z, rel=1e-5)


def test_bckd_cls_leaves_out_the_levels_without_a_positive():
    s, t = _maps(SHAPES, 3, 7), _maps(SHAPES, 3, 8)
    labels = [torch.full((2, h * w), 3) for _, h, w in SHAPES]
    labels[0][1, 5] = 2  # a positive on level 0 only
    gated = _configured(BCKDClsLoss())(s, t, labels=labels, avg_factor=1)
    level0 = _configured(QualityFocalKDLoss())(s[:1], t[:1], avg_factor=1)
    assert gated.item() == pytest.approx(level0.item(), rel=1e-6)
    everywhere = _configured(BCKDClsLoss(positive_levels_only=False))(
        s, t, labels=labels, avg_factor=1)
    assert everywhere.item() > gated.item()


# -- DistributionKDLoss -------------------------------------------------------------------


def test_distribution_kd_equals_its_formula():
    bins = 5
    s, t = _maps(SHAPES, 4 * bins, 9), _maps(SHAPES, 4 * bins, 10)
    t_cls = _maps(SHAPES, 3, 11)
    lw = [torch.ones(2, h * w) for _, h, w in SHAPES]
    lw[1][0, 2] = 0
    got = _configured(DistributionKDLoss(loss_weight=4.0, T=2.0))(s, t, t_cls, lw)
    num = den = 0.
    for (i, lvl, r,
         vs), (_, _, _, vt), (_, _, _,
                              vc) in zip(_rows(s, 4 * bins), _rows(t, 4 * bins), _rows(t_cls, 3)):
        v = lw[lvl][i, r].item() * max(sig(c) for c in vc)
        kl = 0.
        for e in range(4):
            a = [x / 2 for x in vs[e * bins:(e + 1) * bins]]
            b = [x / 2 for x in vt[e * bins:(e + 1) * bins]]
            za, zb = sum(math.exp(x) for x in a), sum(math.exp(x) for x in b)
            kl += sum(
                math.exp(y) / zb * (y - math.log(zb) - x + math.log(za)) for x, y in zip(a, b))
        num += v * kl / 4
        den += v
    assert got.item() == pytest.approx(4.0 * 4 * num / den, rel=1e-5)  # T^2 = 4


# -- BoxKDLoss ----------------------------------------------------------------------------


def _decode_delta(anchor, d, stds=(0.1, 0.1, 0.2, 0.2)):
    cx, cy = (anchor[0] + anchor[2]) / 2, (anchor[1] + anchor[3]) / 2
    w, h = anchor[2] - anchor[0], anchor[3] - anchor[1]
    dx, dy, dw, dh = (d[j] * stds[j] for j in range(4))
    clip = abs(math.log(16 / 1000))
    dw, dh = max(-clip, min(clip, dw)), max(-clip, min(clip, dh))
    x, y = cx + dx * w, cy + dy * h
    w, h = w * math.exp(dw), h * math.exp(dh)
    return [x - w / 2, y - h / 2, x + w / 2, y + h / 2]


def test_box_kd_deltas_giou_weighted_by_the_teacher_score():
    s, t = _maps(SHAPES, 4, 12), _maps(SHAPES, 4, 13)
    t_cls = _maps(SHAPES, 3, 14)
    loss = _configured(BoxKDLoss(loss_weight=1.5, decode='deltas'))
    got = loss(s, t, t_cls, avg_factor=4)
    anchors = loss._head[0].prior_generator.grid_priors([(4, 4), (2, 2)], device='cpu')
    want = 0.
    for (i, lvl, r, vs), (_, _, _, vt), (_, _, _,
                                         vc) in zip(_rows(s, 4), _rows(t, 4), _rows(t_cls, 3)):
        a = anchors[lvl][r].tolist()
        giou, _ = _giou(_decode_delta(a, vs), _decode_delta(a, vt))
        want += max(sig(c) for c in vc) * (1 - giou)
    assert got.item() == pytest.approx(1.5 * want / 4, rel=1e-4)


def test_box_kd_points_log_iou_for_fcos_and_boxes_at_the_border():
    s = [x.abs() * 20 for x in _maps(SHAPES, 4, 15)]  # distances, some past the image edge
    t = [x.abs() * 20 for x in _maps(SHAPES, 4, 16)]
    t_cls = _maps(SHAPES, 2, 17)
    loss = _configured(BoxKDLoss(decode='distances', loss_type='iou_log'), 'point', 2)
    got = loss(s, t, t_cls, avg_factor=2)
    points = loss._head[0].prior_generator.grid_priors([(4, 4), (2, 2)], device='cpu')
    want = 0.
    for (i, lvl, r, vs), (_, _, _, vt), (_, _, _,
                                         vc) in zip(_rows(s, 4), _rows(t, 4), _rows(t_cls, 2)):
        x, y = points[lvl][r].tolist()[:2]
        box = lambda d: [x - d[0], y - d[1], x + d[2], y + d[3]]  # noqa: E731
        _, iou = _giou(box(vs), box(vt))
        want += max(sig(c) for c in vc) * -math.log(max(iou, 1e-6))
    assert got.item() == pytest.approx(want / 2, rel=1e-4)


def test_bckd_loc_decodes_gfl_distributions_and_weights_by_the_score_gap():
    bins = 5
    s, t = _maps(SHAPES, 4 * bins, 18), _maps(SHAPES, 4 * bins, 19)
    s_cls, t_cls = _maps(SHAPES, 3, 20), _maps(SHAPES, 3, 21)
    labels = [torch.full((2, h * w), 3) for _, h, w in SHAPES]
    labels[0][0, 0] = labels[1][1, 1] = 0  # positives on both levels
    loss = _configured(BCKDLocLoss(), 'gfl')
    got = loss(s, t, t_cls, s_cls, labels=labels, avg_factor=2)
    anchors = loss._head[0].prior_generator.grid_priors([(4, 4), (2, 2)], device='cpu')
    want = 0.
    for (i, lvl, r, vs), (_, _, _, vt), (_, _, _, cs), (_, _, _, ct) in zip(
            _rows(s, 4 * bins), _rows(t, 4 * bins), _rows(s_cls, 3), _rows(t_cls, 3)):
        a = anchors[lvl][r].tolist()
        cx, cy, stride = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2, 8 * 2**lvl

        def box(v):
            d = []
            for e in range(4):
                z = sum(math.exp(x) for x in v[e * bins:(e + 1) * bins])
                d.append(stride * sum(j * math.exp(x) / z
                                      for j, x in enumerate(v[e * bins:(e + 1) * bins])))
            return [cx - d[0], cy - d[1], cx + d[2], cy + d[3]]

        gap = max(abs(sig(p) - sig(q)) for p, q in zip(cs, ct))
        want += gap * (1 - _giou(box(vs), box(vt))[0])
    assert got.item() == pytest.approx(4.0 * want / 2, rel=1e-4)


def test_box_kd_without_a_box_weight_is_zero_and_finite():
    s, t = _maps(SHAPES, 4, 22), _maps(SHAPES, 4, 23)
    t_cls = _maps(SHAPES, 3, 24)
    lw = [torch.zeros(2, h * w) for _, h, w in SHAPES]
    got = _configured(BoxKDLoss())(s, t, t_cls, label_weights=lw, avg_factor=0)
    assert got.item() == 0.


def test_centerness_kd_at_the_positives_only():
    s, t = _maps(SHAPES, 1, 25), _maps(SHAPES, 1, 26)
    labels = [torch.full((2, h * w), 3) for _, h, w in SHAPES]
    labels[0][1, 3], labels[1][0, 2] = 1, 0
    got = _configured(CenternessKDLoss())(s, t, labels, avg_factor=2)
    want = _bce(s[0][1, 0].flatten()[3].item(), sig(t[0][1, 0].flatten()[3].item())) + _bce(
        s[1][0, 0].flatten()[2].item(), sig(t[1][0, 0].flatten()[2].item()))
    assert got.item() == pytest.approx(want / 2, rel=1e-5)
    none = [torch.full((2, h * w), 3) for _, h, w in SHAPES]
    assert _configured(CenternessKDLoss())(s, t, none, avg_factor=0).item() == 0.


def test_losses_refuse_mismatched_levels_and_shapes():
    s, t = _maps(SHAPES, 3, 27), _maps(SHAPES, 3, 28)
    with pytest.raises(ValueError, match='numbers of levels'):
        _configured(QualityFocalKDLoss())(s, t[:1], avg_factor=1)
    with pytest.raises(ValueError, match='same classes'):
        _configured(QualityFocalKDLoss())(s, _maps(SHAPES, 4, 29), avg_factor=1)
    with pytest.raises(ValueError, match='decode must be one of'):
        BoxKDLoss(decode='anchors')
    with pytest.raises(ValueError, match="has no bbox_coder"):
        _configured(BoxKDLoss(decode='deltas'), 'point')


# -- the cross-head forward ---------------------------------------------------------------


def test_align_to_teacher_gives_the_teacher_statistics():
    g = torch.Generator().manual_seed(30)
    s = torch.randn(2, 4, 5, 5, generator=g) * 3 + 1
    t = torch.randn(2, 4, 5, 5, generator=g) * 0.5 - 2
    out = align_to_teacher(s, t)
    dims = (0, 2, 3)
    assert torch.allclose(out.mean(dims), t.mean(dims), atol=1e-5)
    assert torch.allclose(out.std(dims), t.std(dims), atol=1e-4)
    assert torch.allclose(align_to_teacher(t, t), t, atol=1e-5)


@pytest.fixture(scope='module')
def crosskd_gfl():
    """The mini CrossKD GFL pair with the teacher of the student's own architecture and
    weights (a GFL R18vd teacher, random): the cross-head sees the teacher's features."""
    cfg, algo = build_pair('configs/crosskd/crosskd_gfl_r34vd_r18vd_mini.py',
                           {'model.teacher.backbone.depth': 18})
    algo.teacher.load_state_dict(algo.student.state_dict())
    return cfg, algo


def _samples(n=2):
    from test_fgd_pairs import _samples as samples
    return samples(n)


def test_cross_head_equals_the_teachers_predictions_on_the_teachers_features(crosskd_gfl):
    _, algo = crosskd_gfl
    algo.eval()  # the same norm statistics on both sides
    x = torch.randn(2, 3, 256, 256)
    samples = _samples()
    with torch.no_grad():
        algo.loss(x, samples)
    d = algo.distiller
    teacher_cls, teacher_reg = d.teacher_recorders.get_recorder('head').get_record_data()
    for name, want in (('cross_cls', teacher_cls), ('cross_reg', teacher_reg)):
        got = d.student_recorders.get_recorder(name).get_record_data()
        assert len(got) == len(want) == 5
        for g, w in zip(got, want):
            assert torch.allclose(g, w, atol=1e-4), name
    algo.train()


def test_cross_head_gradient_reaches_the_student_before_the_cross_point_only(crosskd_gfl):
    _, algo = crosskd_gfl
    algo.student.zero_grad()
    losses = algo.loss(torch.randn(2, 3, 256, 256), _samples())
    (losses['distill.loss_crosskd_cls'] + losses['distill.loss_crosskd_reg']).backward()
    grads = {
        n: p.grad
        for n, p in algo.student.named_parameters()
        if p.grad is not None and p.grad.abs().sum() > 0
    }
    assert any(n.startswith('bbox_head.cls_convs.0.') for n in grads)
    assert any(n.startswith('bbox_head.reg_convs.0.') for n in grads)
    assert any(n.startswith('neck.')
               for n in grads) and any(n.startswith('backbone.') for n in grads)
    # the student's layers after the cross point get nothing from the cross-head
    assert not any(
        n.startswith(('bbox_head.cls_convs.1.', 'bbox_head.gfl_cls', 'bbox_head.gfl_reg',
                      'bbox_head.scales')) for n in grads)
    assert all(p.grad is None and not p.requires_grad for p in algo.teacher.parameters())


def test_cross_head_bridges_other_widths_with_a_connector():
    """A teacher head twice as wide: the CrossHead's connector (a 1x1 conv) maps the
    student's features to the teacher's channels before they enter its layers."""
    wide = {'model.teacher.bbox_head.feat_channels': 128}
    with pytest.raises(ValueError, match='connector'):
        build_pair('configs/crosskd/crosskd_gfl_r34vd_r18vd_mini.py', wide)
    conn = dict(
        type='mmrazor.ConvModuleConnector',
        in_channel=64,
        out_channel=128,
        norm_cfg=None,
        act_cfg=None)
    options = {
        **wide, 'model.distiller.connectors': dict(cls_s=conn, reg_s=conn),
        'model.distiller.student_recorders.cross_cls.connector': 'cls_s',
        'model.distiller.student_recorders.cross_reg.connector': 'reg_s'
    }
    _, algo = build_pair('configs/crosskd/crosskd_gfl_r34vd_r18vd_mini.py', options)
    losses = algo.loss(torch.randn(2, 3, 256, 256), _samples())
    losses['distill.loss_crosskd_cls'].backward()
    assert algo.distiller.connectors['cls_s'].conv_module.conv.weight.grad is not None


def test_a_wrong_teacher_layer_is_refused_at_build_with_the_names():
    with pytest.raises(KeyError, match="no module 'bbox_head.cls_convs.7'"):
        build_pair(
            'configs/crosskd/crosskd_gfl_r34vd_r18vd_mini.py', {
                'model.distiller.student_recorders.cross_cls.teacher_layers':
                ('relu', 'bbox_head.cls_convs.7', 'bbox_head.gfl_cls')
            })
