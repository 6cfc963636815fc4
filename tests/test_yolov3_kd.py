"""YOLOv3DistillLoss: PaddleDetection's DistillYOLOv3Loss written out cell by cell, the
objectness mask on background, the detached teacher, the paper's options and the errors."""
import math

import numpy as np
import pytest
import torch

import detkd  # noqa: F401
from detkd.distill.losses import YOLOv3DistillLoss

K, A = 4, 3  # classes, anchors per level
C = A * (5 + K)
SIZES = [(2, 3), (4, 5), (8, 6)]  # three levels, coarse to fine as mmdet's YOLOV3Head


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _bce(logit, target):
    """-t log sigma(z) - (1-t) log(1 - sigma(z)), evaluated the naive way in float64."""
    p = _sigmoid(logit)
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def reference_loss(levels_S, levels_T, weight=1000.0, soft=False, thr=0.5):
    """Paddle's obj_weighted_reg + obj_weighted_cls + obj_loss, one cell at a time: the
    channel of attribute j of anchor a is a*(5+K) + j, as Paddle's reshape (b, na, -1, h, w)."""
    total = 0.0
    for s, t in zip(levels_S, levels_T):
        s, t = s.double().numpy(), t.double().numpy()
        N, _, H, W = s.shape
        box = cls = obj = 0.0
        for n in range(N):
            for a in range(A):
                c = a * (5 + K)
                for y in range(H):
                    for x in range(W):
                        S, T = s[n, c:c + 5 + K, y, x], t[n, c:c + 5 + K, y, x]
                        m = _sigmoid(T[4])
                        box += m * (
                            _bce(S[0], _sigmoid(T[0])) + _bce(S[1], _sigmoid(T[1])) +
                            abs(S[2] - T[2]) + abs(S[3] - T[3]))
                        for k in range(K):
                            cls += m * _bce(S[5 + k], _sigmoid(T[5 + k]))
                        target = _sigmoid(T[4]) if soft else float(_sigmoid(T[4]) > thr)
                        obj += _bce(S[4], target)
        cells = N * A * H * W
        total += box / cells + cls / (cells * K) + obj / cells
    return weight * total


def random_levels(seed, scale=2.0, n=2):
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(n, C, h, w, generator=g) for h, w in SIZES]


def test_matches_paddle_written_out_on_three_levels():
    S, T = random_levels(0), random_levels(1)
    loss = YOLOv3DistillLoss(num_classes=K)(S, T)
    assert loss.dim() == 0
    np.testing.assert_allclose(loss.item(), reference_loss(S, T), rtol=1e-5)


def test_levels_are_summed_and_one_tensor_is_one_level():
    S, T = random_levels(2), random_levels(3)
    loss_fn = YOLOv3DistillLoss(num_classes=K, loss_weight=1.0)
    per_level = [loss_fn(s, t) for s, t in zip(S, T)]
    torch.testing.assert_close(loss_fn(tuple(S), tuple(T)), sum(per_level))
    torch.testing.assert_close(loss_fn([S[0]], [T[0]]), per_level[0])
    np.testing.assert_allclose(
        YOLOv3DistillLoss(num_classes=K, loss_weight=7.0)(S, T).item(),
        7.0 * sum(p.item() for p in per_level),
        rtol=1e-6)


def test_default_weight_is_paddles_1000():
    S, T = random_levels(4), random_levels(5)
    np.testing.assert_allclose(
        YOLOv3DistillLoss(num_classes=K)(S, T).item(),
        1000 * YOLOv3DistillLoss(num_classes=K, loss_weight=1.0)(S, T).item(),
        rtol=1e-6)


def _obj_channels():
    return [a * (5 + K) + 4 for a in range(A)]


def _box_cls_channels():
    return [c for c in range(C) if c not in _obj_channels()]


def test_background_cells_teach_only_low_objectness():
    """Where the teacher's objectness logit is -20 (sigma = 2e-9), its boxes and classes
    are ignored, and the objectness term pulls the student's objectness down."""
    S = [s.requires_grad_() for s in random_levels(6)]
    T = random_levels(7)
    obj, rest = _obj_channels(), _box_cls_channels()
    for t in T:
        t[:, obj] = -20.0
    loss_fn = YOLOv3DistillLoss(num_classes=K)
    loss = loss_fn(S, T)

    # whatever the teacher's box and class maps say, the loss hardly moves...
    T_other = [t.clone() for t in T]
    for t in T_other:
        t[:, rest] = 5.0 * torch.randn_like(t[:, rest])
    assert abs(loss_fn(S, T_other).item() - loss.item()) < 1e-3
    # ... and it is the objectness term alone: BCE(s_obj, 0) averaged per level
    obj_only = sum(torch.nn.functional.softplus(s[:, obj]).mean() for s in S).item()
    np.testing.assert_allclose(loss.item(), 1000 * obj_only, rtol=1e-5)

    loss.backward()
    for s in S:
        assert s.grad[:, rest].abs().max() < 1e-6
        # d BCE(z, 0) / dz = sigma(z) > 0: gradient descent lowers every objectness logit
        assert (s.grad[:, obj] > 0).all()


def test_foreground_cells_teach_boxes_and_classes():
    """The counterpart: where the teacher is confident (logit +20), the student's box and
    class logits get a gradient towards the teacher's, and objectness is pushed up."""
    S = [s.requires_grad_() for s in random_levels(8)]
    T = random_levels(9)
    obj, rest = _obj_channels(), _box_cls_channels()
    for t in T:
        t[:, obj] = 20.0
    YOLOv3DistillLoss(num_classes=K)(S, T).backward()
    for s, t in zip(S, T):
        assert s.grad[:, rest].abs().max() > 1e-3
        assert (s.grad[:, obj] < 0).all()
        # x (BCE towards sigma(t_x)): the gradient is sigma(s_x) - sigma(t_x), scaled
        x = [a * (5 + K) for a in range(A)]
        expected_sign = torch.sign(s[:, x].detach().sigmoid() - t[:, x].sigmoid())
        assert (torch.sign(s.grad[:, x]) == expected_sign).all()


def test_no_gradient_reaches_the_teacher():
    S = [s.requires_grad_() for s in random_levels(10)]
    T = [t.requires_grad_() for t in random_levels(11)]
    YOLOv3DistillLoss(num_classes=K)(S, T).backward()
    assert all(t.grad is None for t in T)
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in S)


def test_soft_objectness_is_the_papers_target():
    S, T = random_levels(12), random_levels(13)
    loss = YOLOv3DistillLoss(num_classes=K, soft_objectness=True)(S, T)
    np.testing.assert_allclose(loss.item(), reference_loss(S, T, soft=True), rtol=1e-5)
    assert abs(loss.item() - YOLOv3DistillLoss(num_classes=K)(S, T).item()) > 1.0


def test_objectness_threshold():
    S, T = random_levels(14), random_levels(15)
    for thr in (0.3, 0.7):
        loss = YOLOv3DistillLoss(num_classes=K, objectness_thr=thr)(S, T)
        np.testing.assert_allclose(loss.item(), reference_loss(S, T, thr=thr), rtol=1e-5)
    # a teacher objectness of 0.62 (logit 0.5) is an object at 0.5 and background at 0.7
    S0 = [torch.zeros(1, C, 1, 1)]
    T0 = [torch.zeros(1, C, 1, 1)]
    T0[0][:, _obj_channels()] = 0.5
    at_05 = YOLOv3DistillLoss(num_classes=K, objectness_thr=0.5)
    at_07 = YOLOv3DistillLoss(num_classes=K, objectness_thr=0.7)
    S1 = [torch.zeros(1, C, 1, 1)]
    S1[0][:, _obj_channels()] = 3.0  # student says object
    assert at_05(S1, T0) < at_05(S0, T0) and at_07(S1, T0) > at_07(S0, T0)


def test_hard_target_at_05_is_paddles_positive_logit_test():
    """Paddle binarises with t_obj > 0 on logits; a tiny positive logit whose sigmoid
    rounds to 0.5 in float32 is still an object."""
    assert torch.sigmoid(torch.tensor(1e-9)) == 0.5
    S, T = torch.zeros(1, C, 1, 1), torch.zeros(1, C, 1, 1)
    T[:, _obj_channels()] = 1e-9
    S[:, _obj_channels()] = 4.0
    # other logits 0: box = m * 2 BCE(0, 0.5) = m * 2 ln 2, class = m * ln 2, m = 0.5;
    # objectness target 1: BCE(4, 1) = log(1 + e^-4) (target 0 would give log(1 + e^4))
    expected = 0.5 * 3 * math.log(2) + math.log1p(math.exp(-4.0))
    np.testing.assert_allclose(
        YOLOv3DistillLoss(num_classes=K, loss_weight=1.0)(S, T).item(), expected, rtol=1e-6)


@pytest.mark.parametrize('bad, match', [
    (dict(num_classes=0), 'num_classes must be a positive int'),
    (dict(num_classes=K, num_anchors=0), 'num_anchors must be a positive int'),
    (dict(num_classes=K, objectness_thr=1.0), r'objectness_thr is a probability in \(0, 1\)'),
    (dict(num_classes=K, image_reduction='batch'), "image_reduction must be 'mean'"),
    (dict(num_classes=K, ref_num_classes=0), 'ref_num_classes must be a positive int'),
])
def test_bad_settings(bad, match):
    with pytest.raises(ValueError, match=match):
        YOLOv3DistillLoss(**bad)


def _error(loss_fn, S, T):
    with pytest.raises(ValueError) as from_check:
        loss_fn.check_inputs(S, T)
    with pytest.raises(ValueError) as from_forward:
        loss_fn(S, T)
    assert str(from_check.value) == str(from_forward.value)
    return str(from_check.value)


def test_wrong_channel_count_says_what_to_set():
    # a 7-class head (3 * 12 = 36 channels) against a loss left at COCO's 80 classes
    S, T = torch.zeros(2, 36, 4, 4), torch.zeros(2, 36, 4, 4)
    msg = _error(YOLOv3DistillLoss(num_classes=80), S, T)
    assert '255 channels' in msg and '3 * (5 + 80)' in msg and 'has 36' in msg
    assert 'num_classes=7 would match' in msg and 'student' in msg


def test_teacher_channel_count_is_checked_too():
    msg = _error(
        YOLOv3DistillLoss(num_classes=K), [torch.zeros(1, C, 2, 2)], [torch.zeros(1, C + 3, 2, 2)])
    assert 'teacher head map of level 0' in msg


def test_shape_mismatch_names_the_level_and_shapes():
    S = [torch.zeros(2, C, 2, 2), torch.zeros(2, C, 4, 4)]
    T = [torch.zeros(2, C, 2, 2), torch.zeros(2, C, 8, 8)]
    msg = _error(YOLOv3DistillLoss(num_classes=K), S, T)
    assert 'differ at level 1' in msg and f'(2, {C}, 4, 4) vs (2, {C}, 8, 8)' in msg


def test_level_count_and_nesting_errors():
    one, two = [torch.zeros(1, C, 2, 2)], [torch.zeros(1, C, 2, 2)] * 2
    assert 'gives 1 head levels and the teacher 2' in _error(
        YOLOv3DistillLoss(num_classes=K), one, two)
    # mmdet's YOLOV3Head.forward output as recorded: a 1-tuple around the levels
    nested = (tuple(two), )
    assert 'data_idx=0' in _error(YOLOv3DistillLoss(num_classes=K), nested, nested)
    assert 'non-empty list/tuple' in _error(YOLOv3DistillLoss(num_classes=K), [], [])


def test_builds_through_mmrazor_registry():
    from mmrazor.registry import MODELS
    loss_fn = MODELS.build(
        dict(type='YOLOv3DistillLoss', _scope_='mmrazor', num_classes=7, soft_objectness=True))
    assert isinstance(loss_fn, YOLOv3DistillLoss)
    assert (loss_fn.num_classes, loss_fn.num_anchors, loss_fn.loss_weight) == (7, 3, 1000.0)
    assert loss_fn.soft_objectness


# ---- balance against mmdet's YOLOv3 loss --------------------------------------------------


def _mini_head():
    from mmdet.registry import MODELS as DET_MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile('configs/yolov3/yolov3_mv1_mini.py').model
    with DefaultScope.overwrite_default_scope('mmdet'):
        head = DET_MODELS.build(dict(cfg.bbox_head, train_cfg=cfg.train_cfg))
    return head


def _gradient_ratio(head, copies, reduction):
    """|d distill / d maps| / |d detection / d maps| on a batch of ``copies`` times the same
    two images (student and teacher maps random, mmdet's own YOLOv3 loss as detection)."""
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(0)
    K7 = head.num_classes
    sizes = [(4, 4), (8, 8), (16, 16)]  # a 128x128 input, strides 32, 16, 8
    base_S = [torch.randn(2, 3 * (5 + K7), h, w, generator=g) for h, w in sizes]
    base_T = [2 * torch.randn(2, 3 * (5 + K7), h, w, generator=g) for h, w in sizes]
    gts = [
        InstanceData(
            bboxes=torch.tensor([[10., 12., 60., 70.], [70., 20., 120., 50.]]),
            labels=torch.tensor([1, 4])),
        InstanceData(bboxes=torch.tensor([[30., 30., 100., 110.]]), labels=torch.tensor([6]))
    ]
    maps_S = [x.repeat(copies, 1, 1, 1).requires_grad_() for x in base_S]
    maps_T = [x.repeat(copies, 1, 1, 1) for x in base_T]
    metas = [dict(img_shape=(128, 128), batch_input_shape=(128, 128))] * (2 * copies)
    det = sum(
        sum(v) if isinstance(v, list) else v
        for v in head.loss_by_feat(maps_S, gts * copies, metas).values())
    g_det = torch.autograd.grad(det, maps_S)
    kd = YOLOv3DistillLoss(num_classes=K7, image_reduction=reduction)(maps_S, maps_T)
    g_kd = torch.autograd.grad(kd, maps_S)
    norm = lambda gs: sum(float(x.pow(2).sum()) for x in gs)**0.5  # noqa: E731
    return norm(g_kd) / norm(g_det), norm(g_kd), norm(g_det)


def test_image_reduction_sum_keeps_paddles_balance_at_any_images_per_gpu():
    """Paddle averages its YOLOv3 loss over the images, mmdet sums it: against mmdet's loss,
    the distillation's gradient must be N times Paddle's mean to keep Paddle's ratio. With
    image_reduction='sum' the ratio is the same at 2 and at 8 images, and equals Paddle's
    formula (its mean distillation against the detection loss averaged over the images);
    with 'mean' (Paddle's own reduction against mmdet's sum) it falls as 1/N."""
    head = _mini_head()
    sum2, _, det2 = _gradient_ratio(head, 1, 'sum')
    sum8, _, _ = _gradient_ratio(head, 4, 'sum')
    mean2, kd_mean2, _ = _gradient_ratio(head, 1, 'mean')
    mean8, _, _ = _gradient_ratio(head, 4, 'mean')
    paddle = kd_mean2 / (det2 / 2)  # mean over cells vs detection averaged over 2 images
    assert sum2 == pytest.approx(paddle, rel=1e-5)
    assert sum8 == pytest.approx(paddle, rel=1e-5)
    assert mean8 == pytest.approx(mean2 / 4, rel=1e-5)


@pytest.mark.parametrize('k', [2, 7, 80])
def test_ref_num_classes_makes_the_class_gradient_independent_of_the_class_count(k):
    """Teacher and student agree on every class but the GT's: the class term's gradient on
    the GT logit falls as 1/K with Paddle's mean over the classes; with ref_num_classes=80 it
    is the same at any K (the detector's own class loss, a sum, does not depend on K)."""
    n_attrib = 5 + k
    s = torch.zeros(1, 3 * n_attrib, 2, 2)
    t = torch.zeros(1, 3 * n_attrib, 2, 2)
    t[:, 4] = 3.  # anchor 0 sees an object
    t[:, 5], s[:, 5] = 2., -1.  # the GT class: the student disagrees
    s.requires_grad_()
    grads = {}
    for ref in (None, 80):
        loss = YOLOv3DistillLoss(num_classes=k, ref_num_classes=ref)
        (grad, ) = torch.autograd.grad(loss([s], [t]), s)
        grads[ref] = float(grad[0, 5, 0, 0])
    cells = 3 * 2 * 2
    assert grads[80] == pytest.approx(
        1000 * torch.sigmoid(torch.tensor(3.)).item() *
        (torch.sigmoid(torch.tensor(-1.)).item() - torch.sigmoid(torch.tensor(2.)).item()) /
        (cells * 80),
        rel=1e-5)
    assert grads[None] == pytest.approx(grads[80] * 80 / k, rel=1e-5)


def test_the_yolov3_fragment_sums_over_images_and_scales_classes_to_80():
    from mmengine.config import Config
    for path in ('configs/yolov3_r34_mv1_distill.py',
                 'configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py'):
        for loss in Config.fromfile(path).model.distiller.distill_losses.values():
            assert (loss.image_reduction, loss.ref_num_classes) == ('sum', 80), path


def test_ref_map_size_gives_every_cell_the_reference_inputs_strength_at_any_size():
    """Paddle's means over the cells make a cell weigh 1/(H W): at 256 px a cell is distilled
    (608/256)^2 times harder than at 608. With ref_map_size=S the gradient on a cell is the
    same at any map size, that of an S x S map; at S = the map's own size it is Paddle's."""
    torch.manual_seed(0)
    per_anchor_S = torch.randn(1, 3 * 12, 1, 1)
    per_anchor_T = torch.randn(1, 3 * 12, 1, 1)
    grads = {}
    for size in (4, 8):
        s = per_anchor_S.expand(1, -1, size, size).clone().requires_grad_()
        t = per_anchor_T.expand(1, -1, size, size).clone()
        for ref in (None, 19, size):
            loss = YOLOv3DistillLoss(num_classes=7, ref_map_size=ref)
            (grads[size, ref], ) = torch.autograd.grad(loss([s], [t]), s)
    cell = (0, slice(None), 0, 0)
    assert torch.allclose(grads[4, 19][cell], grads[8, 19][cell], rtol=1e-5, atol=0)
    for size in (4, 8):
        assert torch.allclose(
            grads[size, 19][cell], grads[size, None][cell] * size**2 / 19**2, rtol=1e-5, atol=0)
        assert torch.equal(grads[size, size], grads[size, None])
    with pytest.raises(ValueError, match=r'ref_map_size .*\(e\.g\. 19 for stride 32 at 608\)'):
        YOLOv3DistillLoss(num_classes=7, ref_map_size=(19, 0))


def test_the_ref608_ablation_names_each_levels_map_size_at_608():
    """loss_yolov3_kd{i} reads bbox_head.convs_pred.{i}, whose stride is the head's
    featmap_strides[i]: its reference map side is 608 / that stride."""
    from detkd.utils import load_config
    cfg = load_config('configs/yolov3_kd/yolov3_r34_mv1_distill_ref608_mini.py')
    strides = cfg.model.architecture.bbox_head.featmap_strides
    recorders = cfg.model.distiller.student_recorders
    for i, stride in enumerate(strides):
        assert recorders[f'pred{i}'].source == f'bbox_head.convs_pred.{i}'
        assert cfg.model.distiller.distill_losses[
            f'loss_yolov3_kd{i}'].ref_map_size == 608 // stride
