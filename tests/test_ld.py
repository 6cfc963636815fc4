"""LD (Zheng et al., CVPR 2022): the KL kernel by hand, the VLR region against a per-anchor,
per-GT loop and against the authors' ``get_vlr_region`` written out, and the three terms
against loops over images, locations and edges, on the targets of a real mmdet ``GFLHead``
(the head of configs/_base_/models/gfl_mini.py)."""
import math
import statistics

import pytest
import torch
from mmdet.registry import MODELS as DET_MODELS
from mmengine.config import Config
from mmengine.structures import InstanceData
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.distill.losses import LDClsKDLoss, LDKLLoss, LDMainLoss, LDVLRLoss, vlr_region

K, REG_MAX = 7, 16  # gfl_mini's head
R = REG_MAX + 1
SIZE = 256  # input side: levels of 32, 16, 8, 4, 2 cells at strides 8..128

# image 0: three GTs, small to large; image 1: one GT, and padded less than the batch, so
# that its bottom anchors are invalid (zero rows in get_targets' anchors)
GTS_A = [[[14.3, 20.7, 62.1, 58.2], [90.6, 40.2, 230.4, 210.9], [150.1, 180.3, 171.7, 199.9]],
         [[30.5, 25.3, 150.2, 140.8]]]
SHAPES_A = [(SIZE, SIZE), (192, SIZE)]


@pytest.fixture(scope='module')
def head():
    return build_head()


def build_head():
    """The mini GFL head, with the shapes of its real outputs (``out_shapes``)."""
    cfg = Config.fromfile('configs/_base_/models/gfl_mini.py')
    head_cfg = cfg.model.bbox_head.copy()
    assert (head_cfg.num_classes, head_cfg.reg_max) == (K, REG_MAX)
    head_cfg.update(train_cfg=cfg.model.train_cfg)
    gfl = DET_MODELS.build(head_cfg)
    # one forward (slow-ish on a shared CPU), for the shapes of the real outputs
    feats = [torch.zeros(1, 64, SIZE // s, SIZE // s) for s in (8, 16, 32, 64, 128)]
    with torch.no_grad():
        cls_scores, bbox_preds = gfl(feats)
    gfl.out_shapes = [(c.shape[1:], b.shape[1:]) for c, b in zip(cls_scores, bbox_preds)]
    return gfl


def gt_instances(boxes_per_image):
    return [
        InstanceData(
            bboxes=torch.tensor(b, dtype=torch.float32).reshape(-1, 4),
            labels=torch.arange(len(b)) % K) for b in boxes_per_image
    ]


def make_batch(head, boxes_per_image, shapes=None, seed=0, scale=3.0):
    """Random logits of the shapes the real GFLHead outputs (large enough for KLs well above
    rounding) and the real ``get_targets`` of the batch."""
    g = torch.Generator().manual_seed(seed)
    N = len(boxes_per_image)
    shapes = shapes or [(SIZE, SIZE)] * N
    s_cls, s_box, t_cls, t_box = [[
        (scale * torch.randn(N, *shape[i], generator=g)).requires_grad_()
        for shape in head.out_shapes
    ] for i in (0, 1, 0, 1)]
    metas = [dict(img_shape=s, pad_shape=s, batch_input_shape=(SIZE, SIZE)) for s in shapes]
    gts = gt_instances(boxes_per_image)
    anchors, valid = head.get_anchors([c.shape[-2:] for c in s_cls], metas, device='cpu')
    targets = head.get_targets(anchors, valid, gts, metas)
    return dict(
        cls_scores=s_cls,
        bbox_preds=s_box,
        teacher_cls_scores=t_cls,
        teacher_bbox_preds=t_box,
        targets=targets,
        batch_gt_instances=gts)


# ---------------------------------------------------------------- independent references


def kl_row(s, t, T):
    """T^2 * mean over bins of p (log p - log q), p = softmax(t/T), q = softmax(s/T)."""
    s, t = [float(v) / T for v in s], [float(v) / T for v in t]
    ls = math.log(sum(math.exp(v - max(s)) for v in s)) + max(s)
    lt = math.log(sum(math.exp(v - max(t)) for v in t)) + max(t)
    return T * T * sum(math.exp(b - lt) * ((b - lt) - (a - ls)) for a, b in zip(s, t)) / len(s)


def box_iou(a, g):
    iw = max(0.0, min(a[2], g[2]) - max(a[0], g[0]))
    ih = max(0.0, min(a[3], g[3]) - max(a[1], g[1]))
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_g = (g[2] - g[0]) * (g[3] - g[1])
    return inter, area_a, inter / max(area_a + area_g - inter, 1e-6)


def box_diou(a, g, mode):
    inter, area_a, iou = box_iou(a, g)
    base = iou if mode == 'iou' else inter / max(area_a, 1e-6)
    rho2 = ((a[0] + a[2]) / 2 - (g[0] + g[2]) / 2)**2 + ((a[1] + a[3]) / 2 - (g[1] + g[3]) / 2)**2
    c2 = (max(a[2], g[2]) - min(a[0], g[0]))**2 + (max(a[3], g[3]) - min(a[1], g[1]))**2
    return base - rho2 / max(c2, 1e-6)


def centre_dist(a, g):
    return math.hypot((a[0] + a[2]) / 2 - (g[0] + g[2]) / 2, (a[1] + a[3]) / 2 - (g[1] + g[3]) / 2)


def loop_region(anchors, num_level, gts, topk=9, mode='iof'):
    """One image, anchor by anchor and GT by GT, as the paper and the authors describe it."""
    anchors = [[float(v) for v in a] for a in anchors]
    valid = [a[2] > a[0] and a[3] > a[1] for a in anchors]
    v = [0.0] * len(anchors)
    for g in gts:
        g = [float(x) for x in g]
        cands, start = [], 0
        for n_l in num_level:
            idx = sorted((i for i in range(start, start + n_l) if valid[i]),
                         key=lambda i: centre_dist(anchors[i], g))
            cands += idx[:topk]
            start += n_l
        ious = [box_iou(anchors[i], g)[2] for i in cands]
        if len(ious) < 2:
            continue
        thr = statistics.mean(ious) + statistics.stdev(ious)
        for i, a in enumerate(anchors):
            if valid[i] and 0.25 * thr <= box_diou(a, g, mode) < thr:
                v[i] = max(v[i], box_iou(a, g)[2])
    return v


def authors_get_vlr_region(bboxes, num_level_bboxes, gt_bboxes, topk=9):
    """The authors' ``ATSSAssigner.get_vlr_region`` (HikariTJU/LD, mmdet/core/bbox/assigners/
    atss_assigner.py) for one image of inside anchors, with their ``bbox_overlaps`` 'diou'
    (union = area1), kept to its steps; the ignore branch (off in LD's configs) left out."""

    def overlaps_fn(b1, b2, diou):
        area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
        area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
        lt = torch.max(b1[:, None, :2], b2[None, :, :2])
        rb = torch.min(b1[:, None, 2:], b2[None, :, 2:])
        wh = (rb - lt).clamp(min=0)
        overlap = wh[..., 0] * wh[..., 1]
        union = area1[:, None] if diou else area1[:, None] + area2[None, :] - overlap
        eps = union.new_tensor([1e-6])
        ious = overlap / torch.max(union, eps)
        if not diou:
            return ious
        e_lt = torch.min(b1[:, None, :2], b2[None, :, :2])
        e_rb = torch.max(b1[:, None, 2:], b2[None, :, 2:])
        left = ((b2[None, :, 0] + b2[None, :, 2]) - (b1[:, None, 0] + b1[:, None, 2]))**2 / 4
        right = ((b2[None, :, 1] + b2[None, :, 3]) - (b1[:, None, 1] + b1[:, None, 3]))**2 / 4
        ewh = (e_rb - e_lt).clamp(min=0)
        c = torch.max(ewh[..., 0]**2 + ewh[..., 1]**2, eps)
        return ious - (left + right) / c

    INF = 100000000
    num_gt, num_bboxes = gt_bboxes.size(0), bboxes.size(0)
    overlaps = overlaps_fn(bboxes, gt_bboxes, False)
    diou = overlaps_fn(bboxes, gt_bboxes, True)
    vlr_region_iou = overlaps.new_zeros((num_bboxes, ))
    gt_points = torch.stack(
        ((gt_bboxes[:, 0] + gt_bboxes[:, 2]) / 2.0, (gt_bboxes[:, 1] + gt_bboxes[:, 3]) / 2.0),
        dim=1)
    bboxes_points = torch.stack(
        ((bboxes[:, 0] + bboxes[:, 2]) / 2.0, (bboxes[:, 1] + bboxes[:, 3]) / 2.0), dim=1)
    distances = (bboxes_points[:, None, :] - gt_points[None, :, :]).pow(2).sum(-1).sqrt()
    candidate_idxs, candidate_idxs_t, start_idx = [], [], 0
    for bboxes_per_level in num_level_bboxes:
        end_idx = start_idx + bboxes_per_level
        distances_per_level = distances[start_idx:end_idx, :]
        selectable_t = min(topk, bboxes_per_level)
        selectable_k = min(bboxes_per_level, bboxes_per_level)
        _, topk_idxs_per_level = distances_per_level.topk(selectable_k, dim=0, largest=False)
        _, topt_idxs_per_level = distances_per_level.topk(selectable_t, dim=0, largest=False)
        candidate_idxs.append(topk_idxs_per_level + start_idx)
        candidate_idxs_t.append(topt_idxs_per_level + start_idx)
        start_idx = end_idx
    candidate_idxs = torch.cat(candidate_idxs, dim=0)
    candidate_idxs_t = torch.cat(candidate_idxs_t, dim=0)
    candidate_overlaps_t = overlaps[candidate_idxs_t, torch.arange(num_gt)]
    t_diou = diou[candidate_idxs, torch.arange(num_gt)]
    overlaps_thr_per_gt = candidate_overlaps_t.mean(0) + candidate_overlaps_t.std(0)
    is_pos = (t_diou < overlaps_thr_per_gt[None, :]) & (
        t_diou >= 0.25 * overlaps_thr_per_gt[None, :])
    for gt_idx in range(num_gt):
        candidate_idxs[:, gt_idx] += gt_idx * num_bboxes
    candidate_idxs = candidate_idxs.view(-1)
    overlaps_inf = torch.full_like(overlaps, -INF).t().contiguous().view(-1)
    index = candidate_idxs.view(-1)[is_pos.view(-1)]
    overlaps_inf[index] = overlaps.t().contiguous().view(-1)[index]
    overlaps_inf = overlaps_inf.view(num_gt, -1).t()
    max_overlaps, _ = overlaps_inf.max(dim=1)
    vlr_region_iou[max_overlaps != -INF] = max_overlaps[max_overlaps != -INF] + 0
    return vlr_region_iou


def loop_terms(batch, vlr_topk=9):
    """The three terms location by location: (main LD, VLR LD, class KD), default weights."""
    s_cls, s_box = batch['cls_scores'], batch['bbox_preds']
    t_cls, t_box = batch['teacher_cls_scores'], batch['teacher_bbox_preds']
    anchors, labels, label_weights = batch['targets'][:3]
    num_level = [a.size(1) for a in anchors]
    all_anchors = torch.cat(anchors, dim=1)
    regions = [
        loop_region(all_anchors[n].tolist(), num_level, gt.bboxes.tolist(), vlr_topk)
        for n, gt in enumerate(batch['batch_gt_instances'])
    ]
    main = vlr = kd = 0.0
    start = 0
    for lvl in range(len(s_cls)):
        N, _, H, W = s_cls[lvl].shape
        sc_l, tc_l, sb_l, tb_l = [x[lvl].tolist() for x in (s_cls, t_cls, s_box, t_box)]
        lab_l, lw_l = labels[lvl].tolist(), label_weights[lvl].tolist()
        main_l = vlr_l = kd_l = 0.0
        npos = 0
        for n in range(N):
            for y in range(H):
                for x in range(W):
                    a = y * W + x
                    sc = [sc_l[n][k][y][x] for k in range(K)]
                    tc = [tc_l[n][k][y][x] for k in range(K)]
                    edges = []  # (student, teacher) bins of the edges l, t, r, b
                    for e in range(4):
                        bins = range(e * R, (e + 1) * R)
                        edges.append(
                            ([sb_l[n][b][y][x] for b in bins], [tb_l[n][b][y][x] for b in bins]))
                    if 0 <= lab_l[n][a] < K:
                        npos += 1
                        w = max(1 / (1 + math.exp(-c)) for c in sc)
                        main_l += sum(w * kl_row(s, t, 10) for s, t in edges)
                        kd_l += lw_l[n][a] * kl_row(sc, tc, 2)
                    v = regions[n][start + a]
                    if v > 0:
                        vlr_l += sum(v * kl_row(s, t, 10) for s, t in edges)
        main += main_l / 4
        vlr += vlr_l / 16
        kd += kd_l / npos if npos else 0.0
        start += H * W
    return 0.25 * main, 0.25 * vlr, 10 * kd


# ---------------------------------------------------------------- the KL kernel


def test_kl_kernel_by_hand():
    # two bins; p = softmax(soft/10), q = softmax(pred/10)
    soft = torch.tensor([[0.0, 10 * math.log(3)], [0.0, 10 * math.log(3)]])
    pred = torch.tensor([[0.0, 0.0], [10 * math.log(3), 0.0]], requires_grad=True)
    # row 0: p = (1/4, 3/4), q = (1/2, 1/2); row 1: p = (1/4, 3/4), q = (3/4, 1/4)
    row0 = 100 / 2 * (0.25 * math.log(0.5) + 0.75 * math.log(1.5))  # 6.5406
    row1 = 100 / 2 * (0.5 * math.log(3))  # 27.4653
    loss = LDKLLoss(T=10)
    assert loss(
        pred, soft, reduction_override='none').tolist() == pytest.approx([row0, row1], rel=1e-5)
    assert float(loss(pred, soft)) == pytest.approx((row0 + row1) / 2, rel=1e-5)
    w = torch.tensor([1.0, 0.5])
    assert float(loss(pred, soft, weight=w, avg_factor=4)) == pytest.approx(
        (row0 + 0.5 * row1) / 4, rel=1e-5)
    assert float(LDKLLoss(loss_weight=0.25, reduction='sum')(pred, soft, weight=w)) == \
        pytest.approx(0.25 * (row0 + 0.5 * row1), rel=1e-5)
    with pytest.raises(ValueError, match='avg_factor'):
        LDKLLoss(reduction='sum')(pred, soft, avg_factor=2)


def test_kl_kernel_random_rows_and_detached_teacher():
    g = torch.Generator().manual_seed(3)
    pred = (5 * torch.randn(6, R, generator=g)).requires_grad_()
    soft = (5 * torch.randn(6, R, generator=g)).requires_grad_()
    w = torch.rand(6, generator=g)
    got = LDKLLoss(T=10)(pred, soft, weight=w, avg_factor=3.0)
    want = sum(float(w[i]) * kl_row(pred[i].tolist(), soft[i].tolist(), 10) for i in range(6)) / 3
    assert float(got) == pytest.approx(want, rel=1e-5)
    got.backward()
    assert soft.grad is None and pred.grad is not None
    with pytest.raises(ValueError, match='same'):
        LDKLLoss()(pred, soft[:, :5])
    with pytest.raises(ValueError, match='T must be'):
        LDKLLoss(T=0)


# ---------------------------------------------------------------- the VLR region


def small_grid():
    """Two levels: 6x6 anchors of 16 px at stride 8, 3x3 of 32 px at stride 16."""
    anchors = []
    for stride, side, size in ((8, 6, 16), (16, 3, 32)):
        for y in range(side):
            for x in range(side):
                cx, cy = (x + 0.5) * stride, (y + 0.5) * stride
                anchors.append([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2])
    return torch.tensor(anchors, dtype=torch.float64), [36, 9]


GTS_SMALL = [[3.3, 5.1, 17.9, 15.2], [10.7, 8.2, 38.4, 41.9], [2.1, 1.3, 45.6, 46.8]]


@pytest.mark.parametrize('mode', ['iof', 'iou'])
@pytest.mark.parametrize('topk', [9, 4])
def test_vlr_region_matches_loop_on_small_grid(mode, topk):
    anchors, num_level = small_grid()
    got = vlr_region(
        anchors[None],
        num_level,
        torch.tensor([GTS_SMALL], dtype=torch.float64),
        torch.ones(1, 3, dtype=torch.bool),
        topk=topk,
        diou_mode=mode)
    want = loop_region(anchors.tolist(), num_level, GTS_SMALL, topk, mode)
    assert got.shape == (1, 45)
    assert got[0].tolist() == pytest.approx(want, abs=1e-9)
    # a real region: on both levels, neither empty nor everything
    inside = got[0] > 0
    assert inside[:36].any() and inside[36:].any() and not inside.all()


def test_vlr_region_batch_with_padding_and_invalid_anchors():
    anchors, num_level = small_grid()
    batch = anchors[None].repeat(2, 1, 1)
    batch[1, 30:36] = 0  # anchors outside image 1, as unmap leaves them
    batch[1, 44] = 0
    gts = [GTS_SMALL, [[20.2, 18.9, 44.3, 40.1]]]
    gt_bboxes = torch.zeros(2, 3, 4, dtype=torch.float64)
    gt_bboxes[0] = torch.tensor(GTS_SMALL, dtype=torch.float64)
    gt_bboxes[1, 0] = torch.tensor(gts[1][0], dtype=torch.float64)
    gt_bboxes[1, 1:] = torch.tensor([5.0, 5.0, 30.0, 30.0])  # padding: must be ignored
    mask = torch.tensor([[True, True, True], [True, False, False]])
    got = vlr_region(batch, num_level, gt_bboxes, mask)
    for n in range(2):
        want = loop_region(batch[n].tolist(), num_level, gts[n])
        assert got[n].tolist() == pytest.approx(want, abs=1e-9)
    assert (got[1, 30:36] == 0).all() and got[1, 44] == 0
    # no GT at all: an empty region, not NaN
    empty = vlr_region(batch, num_level, gt_bboxes[:, :0], mask[:, :0])
    assert empty.shape == (2, 45) and (empty == 0).all()
    with pytest.raises(ValueError, match='num_level_anchors'):
        vlr_region(batch, [36, 8], gt_bboxes, mask)


def test_vlr_region_matches_authors_code_on_gfl_anchors(head):
    batch = make_batch(head, GTS_A, SHAPES_A)
    anchors = batch['targets'][0]
    num_level = [a.size(1) for a in anchors]
    all_anchors = torch.cat(anchors, dim=1)
    gts = torch.tensor(GTS_A[0])
    got = vlr_region(all_anchors[:1], num_level, gts[None], torch.ones(1, 3, dtype=torch.bool))
    want = authors_get_vlr_region(all_anchors[0], num_level, gts)
    assert torch.allclose(got[0], want, atol=1e-6)
    assert (want > 0).sum() > 10


# ---------------------------------------------------------------- the three terms


def terms():
    return LDMainLoss(num_classes=K), LDVLRLoss(num_classes=K), LDClsKDLoss(num_classes=K)


def test_terms_match_loops_on_gfl_targets(head):
    batch = make_batch(head, GTS_A, SHAPES_A)
    labels = batch['targets'][1]
    pos_levels = [int(((lab >= 0) & (lab < K)).sum()) for lab in labels]
    assert sum(v > 0 for v in pos_levels) >= 2, pos_levels  # positives on several levels
    assert (batch['targets'][0][0][1].abs().sum(-1) == 0).any()  # invalid anchors in image 1
    got = [float(loss(**batch)) for loss in terms()]
    want = loop_terms(batch)
    assert got == pytest.approx(list(want), rel=1e-4)
    assert all(v > 0 for v in want)


def test_terms_with_an_image_without_gt(head):
    batch = make_batch(head, [GTS_A[0][:2], []], seed=1)
    got = [loss(**batch) for loss in terms()]
    assert all(torch.isfinite(v) for v in got)
    assert [float(v) for v in got] == pytest.approx(list(loop_terms(batch)), rel=1e-4)


def test_no_gt_gives_zero_not_nan(head):
    batch = make_batch(head, [[], []], seed=2)
    for loss in terms():
        value = loss(**batch)
        assert float(value) == 0.0
        value.backward()
        assert all(torch.isfinite(x.grad).all() for x in batch['bbox_preds'] if x.grad is not None)


def test_normalisation_is_per_batch_sum_for_ld_and_per_positive_for_kd(head):
    """Twice the same images: the LD terms (divided by 4 and 16) double, the KD (divided by
    the positives) stays."""
    one = make_batch(head, GTS_A[:1], seed=4)
    two = dict(one)
    for key in ('cls_scores', 'bbox_preds', 'teacher_cls_scores', 'teacher_bbox_preds'):
        two[key] = [torch.cat([x, x]) for x in one[key]]
    two['targets'] = tuple([torch.cat([x, x]) for x in t] if isinstance(t, list) else 2 * t
                           for t in one['targets'])
    two['batch_gt_instances'] = one['batch_gt_instances'] * 2
    main, vlr, kd = terms()
    assert float(main(**two)) == pytest.approx(2 * float(main(**one)), rel=1e-5)
    assert float(vlr(**two)) == pytest.approx(2 * float(vlr(**one)), rel=1e-5)
    assert float(kd(**two)) == pytest.approx(float(kd(**one)), rel=1e-5)


def test_reference_batch_and_classes_keep_the_seeds_balance(head):
    """ref_images_per_gpu: main and VLR LD of a batch of twice the same images equal the
    one-image batch's times ref / 1 (the per-image strength of the reference batch, whatever
    the batch); ref_num_classes: the class KD times K / K_ref."""
    one = make_batch(head, GTS_A[:1], seed=4)
    two = dict(one)
    for key in ('cls_scores', 'bbox_preds', 'teacher_cls_scores', 'teacher_bbox_preds'):
        two[key] = [torch.cat([x, x]) for x in one[key]]
    two['targets'] = tuple([torch.cat([x, x]) for x in t] if isinstance(t, list) else 2 * t
                           for t in one['targets'])
    two['batch_gt_instances'] = one['batch_gt_instances'] * 2
    for cls in (LDMainLoss, LDVLRLoss):
        plain, ref = cls(), cls(ref_images_per_gpu=2)
        assert float(ref(**two)) == pytest.approx(float(ref(**one)), rel=1e-5)
        assert float(ref(**one)) == pytest.approx(2 * float(plain(**one)), rel=1e-5)
    kd, kd80 = LDClsKDLoss(), LDClsKDLoss(ref_num_classes=80)
    assert float(kd80(**one)) == pytest.approx(float(kd(**one)) * K / 80, rel=1e-6)
    with pytest.raises(ValueError, match='ref_num_classes must be a positive int'):
        LDClsKDLoss(ref_num_classes=0)
    with pytest.raises(ValueError, match='ref_images_per_gpu must be a positive int'):
        LDMainLoss(ref_images_per_gpu=1.5)


def test_the_ld_fragment_keeps_the_seeds_balance_and_is_a_no_op_on_coco():
    from mmengine.config import Config
    losses = Config.fromfile('configs/ld_gfl_r101vd_r18vd.py').model.distiller.distill_losses
    assert losses.loss_ld.ref_images_per_gpu == losses.loss_ld_vlr.ref_images_per_gpu == 2
    assert losses.loss_kd.ref_num_classes == 80
    coco = Config.fromfile('configs/ld_gfl_r101vd_r18vd.py')
    assert coco.train_dataloader.batch_size == 2
    assert coco.model.architecture.bbox_head.num_classes == 80


def test_gradient_reaches_the_student_only(head):
    batch = make_batch(head, GTS_A, SHAPES_A, seed=5)
    total = sum(loss(**batch) for loss in terms())
    total.backward()
    for key in ('teacher_cls_scores', 'teacher_bbox_preds'):
        assert all(x.grad is None for x in batch[key])
    assert batch['bbox_preds'][0].grad.abs().sum() > 0
    assert batch['cls_scores'][0].grad.abs().sum() > 0


def test_weights_and_registry(head):
    batch = make_batch(head, GTS_A, SHAPES_A, seed=6)
    for name, default in (('LDMainLoss', 0.25), ('LDVLRLoss', 0.25), ('LDClsKDLoss', 10.0)):
        base = MODELS.build(dict(type=name))
        assert base.loss_weight == default
        doubled = MODELS.build(dict(type=name, loss_weight=2 * default))
        assert float(doubled(**batch)) == pytest.approx(2 * float(base(**batch)), rel=1e-6)
        assert float(MODELS.build(dict(type=name, loss_weight=0))(**batch)) == 0
    assert isinstance(MODELS.build(dict(type='LDKLLoss', T=2)), LDKLLoss)


# ---------------------------------------------------------------- errors


def test_bad_shapes_raise_with_the_setting_to_change(head):
    batch = make_batch(head, GTS_A, SHAPES_A)
    main = LDMainLoss(num_classes=K)

    def bad(**change):
        return dict(batch, **change)

    with pytest.raises(ValueError, match='reg_max'):
        main(**bad(teacher_bbox_preds=[x[:, :36] for x in batch['teacher_bbox_preds']]))
    with pytest.raises(ValueError, match='68 channels, as reg_max=16 makes'):
        LDMainLoss(reg_max=8)(**batch)
    with pytest.raises(ValueError, match='num_classes'):
        LDClsKDLoss(num_classes=80)(**batch)
    with pytest.raises(ValueError, match='same bbox_head.num_classes'):
        LDMainLoss()(**bad(teacher_cls_scores=[torch.cat([x, x], 1) for x in batch['cls_scores']]))
    with pytest.raises(ValueError, match='levels'):
        main(**bad(teacher_cls_scores=batch['teacher_cls_scores'][:4]))
    with pytest.raises(ValueError, match='batch'):
        main(**bad(teacher_bbox_preds=[x[:1] for x in batch['teacher_bbox_preds']]))
    with pytest.raises(ValueError, match='targets have 4 levels'):
        main(**bad(targets=tuple(t[:4] if isinstance(t, list) else t for t in batch['targets'])))
    with pytest.raises(ValueError, match='get_targets'):
        main(**bad(targets=batch['targets'][1]))
    with pytest.raises(ValueError, match='GT instances'):
        LDVLRLoss()(**bad(batch_gt_instances=batch['batch_gt_instances'][:1]))
    with pytest.raises(ValueError, match='batch_gt_instances'):
        LDVLRLoss()(**bad(batch_gt_instances=None))
    # the build-time dry run: only head outputs, no targets nor GT
    for loss in terms():
        loss.check_inputs(
            cls_scores=batch['cls_scores'], teacher_bbox_preds=batch['teacher_bbox_preds'])
    with pytest.raises(ValueError, match='reg_max'):
        main.check_inputs(teacher_bbox_preds=[x[:, :36] for x in batch['teacher_bbox_preds']])
    with pytest.raises(ValueError, match='diou_mode'):
        LDVLRLoss(diou_mode='giou')
