"""PP-YOLOE+ on mmdet: the modules' shapes and options, the batched assigners against
per-GT loop formulations, the head's losses on edge cases (no GT, mixed batches, tiny and
border boxes), Paddle's NMS rules, the configs, and the converter's errors. Parity with
PaddleDetection's own model is tests/test_ppyoloe_parity.py."""
import math
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import detkd  # noqa: F401
from detkd.converters.paddle import (ConversionError, load_pdparams, ppyoloe_arch_from_state,
                                     ppyoloe_model_cfg, ppyoloe_paddle_to_mmdet)
from detkd.models import CSPResNet, CustomCSPPAN, PPYOLOEHead
from detkd.models.task_modules import BatchATSSAssigner, BatchTaskAlignedAssigner

SIZES = {'s': (0.33, 0.50), 'm': (0.67, 0.75), 'l': (1.0, 1.0), 'x': (1.33, 1.25)}


def build_model(depth=0.33, width=0.25, num_classes=7, **head):
    from mmdet.registry import MODELS
    cfg = ppyoloe_model_cfg(
        dict(
            depth_mult=depth,
            width_mult=width,
            num_classes=num_classes,
            use_large_stem=True,
            use_alpha=True))
    cfg['bbox_head'].update(head)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.fixture(autouse=True)
def epoch_zero():
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0)
    yield hub
    hub.update_info('epoch', 0)


@pytest.mark.parametrize('size', sorted(SIZES))
def test_sizes_widths_and_strides(size):
    depth, width = SIZES[size]
    backbone = CSPResNet(depth_mult=depth, width_mult=width)
    neck = CustomCSPPAN((256, 512, 1024), depth_mult=depth, width_mult=width)
    expect = [round(c * width) for c in (256, 512, 1024)]
    assert backbone.out_channels == expect
    assert neck.out_channels == [round(c * width) for c in (192, 384, 768)]
    assert len(backbone.stages[0].blocks) == max(round(3 * depth), 1)
    feats = backbone(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape[1:]) for f in feats] == [(c, 64 // s, 96 // s)
                                                   for c, s in zip(expect, (8, 16, 32))]
    outs = neck(feats)
    assert [f.shape[-2:] for f in outs] == [f.shape[-2:] for f in feats]


def test_frozen_stages_and_norm_eval():
    backbone = CSPResNet(depth_mult=0.33, width_mult=0.25, frozen_stages=1, norm_eval=True)
    backbone.train()
    assert not any(p.requires_grad for p in backbone.stem.parameters())
    assert not any(p.requires_grad for p in backbone.stages[0].parameters())
    assert all(p.requires_grad for p in backbone.stages[1].parameters())
    bns = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    with pytest.raises(ValueError, match='out_indices'):
        CSPResNet(out_indices=(4, ))


def test_head_outputs_are_raw_logits_per_level():
    model = build_model()
    x = torch.randn(2, 3, 96, 128)
    cls, reg = model.bbox_head(model.extract_feat(x))
    assert [tuple(c.shape) for c in cls] == [(2, 7, 96 // s, 128 // s) for s in (8, 16, 32)]
    assert [tuple(r.shape) for r in reg] == [(2, 68, 96 // s, 128 // s) for s in (8, 16, 32)]
    # Paddle's init: zero prediction convs, class prior 0.01, distribution bias 1
    assert torch.allclose(cls[0].sigmoid(), torch.full_like(cls[0], 0.01), atol=1e-6)
    assert torch.allclose(reg[0], torch.ones_like(reg[0]))


# ---- assigners against per-GT loops -------------------------------------------------------


def np_iou(a, b):
    lt = np.maximum(a[:2], b[:2])
    rb = np.minimum(a[2:], b[2:])
    inter = np.prod(np.clip(rb - lt, 0, None))
    area = lambda r: np.prod(np.clip(r[2:] - r[:2], 0, None))  # noqa: E731
    return inter / (area(a) + area(b) - inter + 1e-9)


def inside(p, box):
    return min(p[0] - box[0], p[1] - box[1], box[2] - p[0], box[3] - p[1]) > 1e-9


def resolve(pos_sets, ious_fn, num_gt, num_anchors):
    """anchor -> GT: the only one, or the largest IoU over all GTs if several."""
    owner = {}
    for a in range(num_anchors):
        gts = [j for j in range(num_gt) if a in pos_sets[j]]
        if len(gts) == 1:
            owner[a] = gts[0]
        elif len(gts) > 1:
            owner[a] = int(np.argmax([ious_fn(j, a) for j in range(num_gt)]))
    return owner


def ref_atss(anchors, num_list, gts, pred, topk=9):
    centers = (anchors[:, :2] + anchors[:, 2:]) / 2
    pos_sets = []
    for g in gts:
        gc = (g[:2] + g[2:]) / 2
        cand, start = [], 0
        for n in num_list:
            d = np.linalg.norm(centers[start:start + n] - gc, axis=1)
            cand += list(np.argsort(d, kind='stable')[:topk] + start)
            start += n
        ious = np.array([np_iou(g, anchors[a]) for a in cand])
        thr = ious.mean() + ious.std(ddof=1)
        pos_sets.append({a for a, v in zip(cand, ious) if v > thr and inside(centers[a], g)})
    owner = resolve(pos_sets, lambda j, a: np_iou(gts[j], anchors[a]), len(gts), len(anchors))
    return owner, {a: np_iou(gts[j], pred[a]) for a, j in owner.items()}


def ref_tal(scores, pred, points, gts, labels, topk=13, alpha=1.0, beta=6.0):
    metric = np.array(
        [[scores[a, labels[j]]**alpha * np_iou(g, pred[a])**beta for a in range(len(points))]
         for j, g in enumerate(gts)])
    ins = np.array([[inside(p, g) for p in points] for g in gts], dtype=float)
    pos_sets = [
        set(np.argsort(-(metric[j] * ins[j]), kind='stable')[:topk]) & set(np.nonzero(ins[j])[0])
        for j in range(len(gts))
    ]
    owner = resolve(pos_sets, lambda j, a: np_iou(gts[j], pred[a]), len(gts), len(points))
    norm = {}
    for j in range(len(gts)):
        mine = [a for a, o in owner.items() if o == j]
        if mine:
            m = max(metric[j, a] for a in mine)
            best = max(np_iou(gts[j], pred[a]) for a in mine)
            for a in mine:
                norm[a] = metric[j, a] / (m + 1e-9) * best
    return owner, norm


def scene(seed=0):
    """Two images of 96x128: image 0 with a large, an overlapping, a border and a tiny box;
    image 1 with none (padded). The tiny box holds one cell centre of stride 8."""
    g = torch.Generator().manual_seed(seed)
    head = PPYOLOEHead(num_classes=5, in_channels=(64, 64, 64))
    anchors, points, num_list, strides = head.grid_anchors([(12, 16), (6, 8), (3, 4)], 'cpu')
    gts = torch.tensor([[[10.3, 12.7, 70.1, 80.9], [30.2, 20.4, 90.6, 60.3],
                         [0.0, 41.3, 22.8, 95.9], [99.5, 33.0, 105.9, 38.5]], [[0.] * 4] * 4])
    labels = torch.tensor([[[1], [3], [0], [4]], [[0]] * 4])
    mask = torch.tensor([[[1.]] * 4, [[0.]] * 4])
    dist = torch.rand(2, len(points), 4, generator=g) * 3 + 0.2
    pred = torch.cat([points - dist[..., :2] * strides, points + dist[..., 2:] * strides], -1)
    scores = torch.rand(2, len(points), 5, generator=g)
    return anchors, points, num_list, gts, labels, mask, pred, scores


def test_atss_matches_a_per_gt_loop():
    anchors, points, num_list, gts, labels, mask, pred, _ = scene()
    out = BatchATSSAssigner(topk=9, num_classes=5)(anchors, num_list, labels, gts, mask, pred)
    owner, score = ref_atss(anchors.numpy(), num_list, gts[0].numpy(), pred[0].numpy())
    assert owner, 'the scene must have positives'
    assert {int(j) for j in owner.values()} >= {0, 1, 2}  # the border box gets anchors
    lab = out.labels[0].numpy()
    for a in range(len(anchors)):
        if a in owner:
            assert lab[a] == labels[0, owner[a], 0]
            assert np.allclose(out.bboxes[0, a].numpy(), gts[0, owner[a]].numpy())
            assert out.scores[0, a, lab[a]] == pytest.approx(score[a], abs=1e-6)
            assert out.scores[0, a].sum() == pytest.approx(score[a], abs=1e-6)
        else:
            assert lab[a] == 5 and out.scores[0, a].sum() == 0
    # the image without GT: all background
    assert (out.labels[1] == 5).all() and out.scores[1].sum() == 0


def test_tal_matches_a_per_gt_loop():
    anchors, points, num_list, gts, labels, mask, pred, scores = scene(1)
    out = BatchTaskAlignedAssigner(topk=13, num_classes=5)(scores, pred, points, labels, gts, mask)
    owner, norm = ref_tal(scores[0].numpy(), pred[0].numpy(), points.numpy(), gts[0].numpy(),
                          labels[0, :, 0].numpy())
    assert len(set(owner.values())) == 4  # every box, the tiny one included
    lab = out.labels[0].numpy()
    for a in range(len(points)):
        if a in owner:
            assert lab[a] == labels[0, owner[a], 0]
            assert out.scores[0, a, lab[a]] == pytest.approx(norm[a], rel=1e-4, abs=1e-7)
        else:
            assert lab[a] == 5 and out.scores[0, a].sum() == 0
    assert (out.labels[1] == 5).all()


@pytest.mark.parametrize('assigner', ['atss', 'tal'])
def test_assigners_without_any_gt(assigner):
    anchors, points, num_list, gts, labels, mask, pred, scores = scene()
    empty = gts[:, :0], labels[:, :0], mask[:, :0]
    if assigner == 'atss':
        out = BatchATSSAssigner(num_classes=5)(anchors, num_list, empty[1], empty[0], empty[2],
                                               pred)
    else:
        out = BatchTaskAlignedAssigner(num_classes=5)(scores, pred, points, empty[1], empty[0],
                                                      empty[2])
    assert (out.labels == 5).all() and out.scores.sum() == 0
    assert out.bboxes.shape == pred.shape


# ---- losses -------------------------------------------------------------------------------


def samples(boxes_per_image, shape=(96, 128)):
    from mmdet.structures import DetDataSample
    out = []
    for boxes, labels in boxes_per_image:
        s = DetDataSample(
            metainfo=dict(
                img_shape=shape, scale_factor=(1., 1.), pad_shape=shape, batch_input_shape=shape))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.tensor(labels, dtype=torch.long))
        out.append(s)
    return out


@pytest.mark.parametrize('epoch', [0, 30])
@pytest.mark.parametrize('which', ['all', 'some'])
def test_batches_without_gt_train(epoch, which, epoch_zero):
    """Paddle's head crashes on a batch without boxes; here the class loss pushes every score
    down and the box losses are zero, with gradients to every prediction conv."""
    epoch_zero.update_info('epoch', epoch)
    model = build_model()
    boxes = [([], []),
             ([], [])] if which == 'all' else [([[4, 5, 60, 70], [0, 80, 9, 96]], [2, 6]),
                                               ([], [])]
    losses = model.loss(torch.randn(2, 3, 96, 128), samples(boxes))
    assert all(torch.isfinite(v) for v in losses.values())
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    head = model.bbox_head
    assert head.pred_cls[0].bias.grad.abs().sum() > 0
    if which == 'all':
        assert losses['loss_iou'] == 0 and losses['loss_dfl'] == 0
    else:
        assert losses['loss_iou'] > 0 and head.pred_reg[0].bias.grad.abs().sum() > 0


def test_static_then_task_aligned_assignment(epoch_zero, monkeypatch):
    model = build_model(static_assigner_epoch=3)
    head = model.bbox_head
    calls = []
    for name in ('static_assigner', 'assigner'):
        fn = getattr(head, name)
        monkeypatch.setattr(head, name, lambda *a, _n=name, _f=fn: calls.append(_n) or _f(*a))
    data = samples([([[4, 5, 60, 70]], [2])])
    for epoch in (0, 2, 3, 10):
        epoch_zero.update_info('epoch', epoch)
        model.loss(torch.randn(1, 3, 96, 128), data)
    assert calls == ['static_assigner'] * 2 + ['assigner'] * 2


def test_loss_terms_by_hand():
    """One positive anchor with known logits: VFL, GIoU and DFL computed by hand."""
    from detkd.models.task_modules.batch_assigners import BatchAssignResult
    head = PPYOLOEHead(num_classes=2, in_channels=(8, 8, 8), reg_max=4)
    L = 3
    cls = torch.tensor([[[0.5, -1.0], [-2.0, 0.0], [1.0, 1.0]]])
    dist = torch.zeros(1, L, 4, 5)
    dist[0, 1, :, 2] = 3.0  # anchor 1 peaks at distance 2 on every edge
    points = torch.tensor([[2.5, 2.5], [4.5, 4.5], [6.5, 6.5]])
    stride = torch.ones(L, 1)
    pred = head.decode(points, dist)
    gt = torch.tensor([2.0, 3.0, 7.0, 6.5])
    assigned = BatchAssignResult(
        labels=torch.tensor([[2, 1, 2]]),
        bboxes=gt.expand(1, L, 4).clone(),
        scores=torch.tensor([[[0., 0.], [0., 0.6], [0., 0.]]]),
        mask_positive=torch.zeros(1, 1, L))
    out = head.loss_from_assignment(cls, dist, pred, points, stride, assigned)

    def bce(x, t):
        p = 1 / (1 + math.exp(-x))
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    vfl = 0.
    for a in range(L):
        for c in range(2):
            t = 0.6 if (a, c) == (1, 1) else 0.
            w = t if (a, c) == (1, 1) else 0.75 * sig(cls[0, a, c].item())**2
            vfl += w * bce(cls[0, a, c].item(), t)
    assert out['loss_cls'].item() == pytest.approx(vfl / 1.0, rel=1e-5)  # score sum < 1 -> 1
    # the positive's box: expectation of softmax([0,0,3,0,0]) = 2 on every edge
    e = math.exp(3) / (math.exp(3) + 4)
    d = 2 * e + (1 + 3 + 4) * (1 - e) / 4
    box = [4.5 - d, 4.5 - d, 4.5 + d, 4.5 + d]
    inter = (min(box[2], 7.0) - max(box[0], 2.0)) * (min(box[3], 6.5) - max(box[1], 3.0))
    union = (2 * d)**2 + 5.0 * 3.5 - inter
    hull = (max(box[2], 7.0) - min(box[0], 2.0)) * (max(box[3], 6.5) - min(box[1], 3.0))
    giou = inter / union - (hull - union) / hull
    assert out['loss_iou'].item() == pytest.approx(2.5 * 0.6 * (1 - giou) / 1.0, rel=1e-5)
    # DFL: targets l, t, r, b = 2.5, 1.5, 2.5, 2.0 from (4.5, 4.5)
    logp = torch.log_softmax(dist[0, 1, 0], -1)
    dfl = 0.
    for tgt in (2.5, 1.5, 2.5, 2.0):
        lo = int(math.floor(tgt))
        dfl += -(logp[lo] * (lo + 1 - tgt) + logp[lo + 1] * (tgt - lo)).item() / 4
    assert out['loss_dfl'].item() == pytest.approx(0.5 * 0.6 * dfl, rel=1e-5)


# ---- inference ----------------------------------------------------------------------------


def test_paddle_nms_rules():
    """Per class the nms_top_k best above score_thr, class-wise NMS, max_per_img overall."""
    head = PPYOLOEHead(num_classes=3, in_channels=(8, 8, 8))
    boxes = torch.tensor(
        [[0, 0, 10, 10], [0, 0, 10, 10.5], [50, 50, 60, 60], [0, 0, 10, 10], [20, 20, 30, 30]],
        dtype=torch.float32)
    scores = torch.tensor([[0.9, 0.0, 0.0], [0.8, 0.0, 0.0], [0.7, 0.005, 0.0], [0.0, 0.6, 0.0],
                           [0.5, 0.0, 0.4]])
    cfg = dict(score_thr=0.01, nms_top_k=2, nms=dict(type='nms', iou_threshold=0.7), max_per_img=3)
    r = head._predict_single(scores, boxes, dict(scale_factor=(2., 4.)), cfg, True, True)
    # class 0: top 2 are anchors 0 and 1 (0.7 and 0.5 dropped by top_k), 1 suppressed by 0;
    # class 1: anchor 3 (0.005 under the threshold); class 2: anchor 4; 3 kept at most
    assert r.scores.tolist() == pytest.approx([0.9, 0.6, 0.4])
    assert r.labels.tolist() == [0, 1, 2]
    assert r.bboxes[2].tolist() == [10, 5, 15, 7.5]  # divided by the scale factor (w, h)


# ---- configs ------------------------------------------------------------------------------


@pytest.mark.parametrize('size', sorted(SIZES))
def test_coco_configs_are_paddles_recipe(size):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(f'configs/ppyoloe/ppyoloe_plus_{size}_80e_coco.py')
    depth, width = SIZES[size]
    m = cfg.model
    assert (m.backbone.depth_mult, m.backbone.width_mult) == (depth, width)
    assert (m.neck.depth_mult, m.neck.width_mult, m.bbox_head.width_mult) == (depth, width, width)
    assert m.bbox_head.static_assigner_epoch == 30 and m.bbox_head.num_classes == 80
    assert m.bbox_head.assigner == dict(
        type='BatchTaskAlignedAssigner', topk=13, alpha=1.0, beta=6.0)
    assert m.test_cfg.nms_top_k == 1000 and m.test_cfg.max_per_img == 300
    assert cfg.train_cfg.max_epochs == 80
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end, cosine.type, cosine.T_max) == ('LinearLR', 5,
                                                                    'CosineAnnealingLR', 96)
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4)
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0
    assert cfg.auto_scale_lr.base_batch_size == 64 and cfg.train_dataloader.batch_size == 8
    ema = cfg.custom_hooks[0]
    assert (ema.ema_type, ema.momentum, ema.update_buffers) == ('ThresholdEMA', 0.0002, True)
    resize = cfg.model.data_preprocessor.batch_augments[0]
    assert resize.random_size_range == (320, 768)
    assert cfg.load_from == f'checkpoints/ppyoloe_crn_{size}_obj365_paddle.pth'
    if size == 's':
        with DefaultScope.overwrite_default_scope('mmdet'):
            model = MODELS.build(cfg.model)
        n = sum(p.numel() for p in model.parameters())
        assert n == 8084594  # as Paddle's own s (tests/data/paddle/ppyoloe_plus_s_spec.json)


def test_threshold_ema_warms_up_as_paddle():
    from detkd.models import ThresholdEMA
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.)
    ema = ThresholdEMA(model, momentum=0.0002)
    for t, v in enumerate([1., 2., 3.]):
        with torch.no_grad():
            model.weight.fill_(v)
        ema.update_parameters(model)
    # update 0 copies (1.0); update 1: decay 2/11; update 2: decay 3/12
    w1 = 2 / 11 * 1. + 9 / 11 * 2.
    assert ema.module.weight.item() == pytest.approx(3 / 12 * w1 + 9 / 12 * 3.)


# ---- converter errors ---------------------------------------------------------------------


def test_converter_refuses_other_files(tmp_path):
    bad = tmp_path / 'trunc.pdparams'
    bad.write_bytes(pickle.dumps({'a': np.zeros(3)})[:10])
    with pytest.raises(ConversionError, match='truncated'):
        load_pdparams(str(bad))
    with pytest.raises(ConversionError, match='not a PP-YOLOE'):
        ppyoloe_arch_from_state({'backbone.conv1.weight': np.zeros((8, 3, 3, 3))})
    state = {
        'backbone.stem.conv1.conv.weight': np.zeros((16, 3, 3, 3)),
        'backbone.stages.0.blocks.0.conv1.conv.weight': np.zeros(1),
        'yolo_head.unknown.weight': np.zeros(1)
    }
    assert ppyoloe_arch_from_state(state)['size'] == 's'
    _, unplaced = ppyoloe_paddle_to_mmdet(state)
    assert unplaced == ['yolo_head.unknown.weight']
