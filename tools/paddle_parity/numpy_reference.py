"""PP-YOLOE+'s decode, ATSS and task-aligned assignment, losses and NMS in plain numpy,
checked against the Paddle fixture: an executable statement of what Paddle computes.

Runs in any venv with numpy (no paddle, no torch)::

    python tools/paddle_parity/numpy_reference.py [tests/data/paddle/ppyoloe_plus_s.npz]

From the recorded logits, anchors and GT it recomputes the decoded boxes, both
assignments (labels and masks exact, scores to float32 rounding), the loss dicts
and the NMS output (labels, boxes and order exact), and fails if any of them
differs from Paddle's.
"""
import os.path as osp
import sys

import numpy as np

NC, REG = 80, 17
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT = osp.join(ROOT, 'tests', 'data', 'paddle', 'ppyoloe_plus_s.npz')


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def iou_matrix(a, b, eps):
    """(n, 4) x (m, 4) -> (n, m); areas of inverted boxes clip to 0."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    overlap = np.clip(rb - lt, 0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    return overlap / (area_a[:, None] + area_b[None] - overlap + eps)


def points_inside(points, gt):
    """(n, L): the point is strictly inside the box (min of l, t, r, b > 1e-9)."""
    ltrb = [
        points[None, :, 0] - gt[:, 0:1], points[None, :, 1] - gt[:, 1:2],
        gt[:, 2:3] - points[None, :, 0], gt[:, 3:4] - points[None, :, 1]
    ]
    return np.minimum.reduce(ltrb) > 1e-9


def resolve(mask_pos, ious, gt_labels, gt_bboxes):
    """An anchor positive for several GTs goes to the GT of largest IoU; then gather."""
    n = mask_pos.shape[0]
    count = mask_pos.sum(0)
    if count.max() > 1:
        best = np.eye(n)[ious.argmax(0)].T
        mask_pos = np.where((count > 1)[None], best, mask_pos)
        count = mask_pos.sum(0)
    idx = mask_pos.argmax(0)
    labels = np.where(count > 0, gt_labels[idx], NC)
    return mask_pos, labels, gt_bboxes[idx]


def atss(anchors, num_anchors_list, gt_bboxes, gt_labels, pad, pred_bboxes, topk=9):
    """One image. IoU(gt, anchor box) eps 1e-10; per level the 9 anchors of nearest
    centre; threshold mean + std (unbiased) of the 9 x levels candidates' IoUs; strict
    '>'; centre inside the GT; scores one-hot x IoU(gt, predicted box) eps 1e-9."""
    ious = iou_matrix(gt_bboxes, anchors, 1e-10)
    gc = (gt_bboxes[:, :2] + gt_bboxes[:, 2:]) / 2
    ac = (anchors[:, :2] + anchors[:, 2:]) / 2
    dist = np.linalg.norm(gc[:, None] - ac[None], axis=-1)
    in_topk, cand, start = np.zeros_like(ious), [], 0
    for n in num_anchors_list:
        idx = np.argsort(dist[:, start:start + n], -1, kind='stable')[:, :topk] + start
        np.put_along_axis(in_topk, idx, 1, -1)
        cand.append(idx)
        start += n
    in_topk *= pad[:, None]
    cand_iou = np.take_along_axis(ious * in_topk, np.concatenate(cand, -1), -1)
    thr = cand_iou.mean(-1, keepdims=True) + cand_iou.std(-1, ddof=1, keepdims=True)
    in_topk = np.where(ious * in_topk > thr, in_topk, 0)
    mask_pos = in_topk * points_inside(ac, gt_bboxes) * pad[:, None]
    mask_pos, labels, boxes = resolve(mask_pos, ious, gt_labels, gt_bboxes)
    pred_iou = (iou_matrix(gt_bboxes, pred_bboxes, 1e-9) * mask_pos).max(0)
    return labels, boxes, np.eye(NC + 1)[labels][:, :NC] * pred_iou[:, None], mask_pos


def tal(scores, pred_bboxes, points, gt_bboxes, gt_labels, pad, topk=13, alpha=1., beta=6.):
    """One image. metric = score[gt class]^alpha * IoU(gt, pred)^beta (eps 1e-9); top 13
    of metric * inside (anchor point strictly inside); scores = one-hot x max over GTs
    of metric / (max metric of the GT + 1e-9) * max IoU of the GT's positives."""
    ious = iou_matrix(gt_bboxes, pred_bboxes, 1e-9)
    metric = scores[:, gt_labels].T**alpha * ious**beta
    inside = points_inside(points, gt_bboxes)
    idx = np.argsort(-(metric * inside), -1, kind='stable')[:, :topk]
    in_topk = np.zeros_like(metric)
    np.put_along_axis(in_topk, idx, 1, -1)
    mask_pos = in_topk * inside * pad[:, None]
    mask_pos, labels, boxes = resolve(mask_pos, ious, gt_labels, gt_bboxes)
    m = metric * mask_pos
    m = m / (m.max(-1, keepdims=True) + 1e-9) * (ious * mask_pos).max(-1, keepdims=True)
    return labels, boxes, np.eye(NC + 1)[labels][:, :NC] * m.max(0)[:, None], mask_pos


def losses(scores, dist_logits, pred_s, points_s, labels, boxes_s, assigned_scores):
    """The loss dict, everything in stride units (boxes and points divided by stride)."""
    one_hot = np.eye(NC + 1)[labels][..., :NC]
    weight = 0.75 * scores**2 * (1 - one_hot) + assigned_scores * one_hot
    bce = -(
        assigned_scores * np.maximum(np.log(scores), -100) +
        (1 - assigned_scores) * np.maximum(np.log(1 - scores), -100))
    norm = max(assigned_scores.sum(), 1.)
    loss_cls = (weight * bce).sum() / norm
    pos = labels != NC
    p, g, w = pred_s[pos], boxes_s[pos], assigned_scores.sum(-1)[pos]
    overlap = np.clip(np.minimum(p[:, 2:], g[:, 2:]) - np.maximum(p[:, :2], g[:, :2]), 0,
                      None).prod(-1)
    union = (p[:, 2:] - p[:, :2]).prod(-1) + (g[:, 2:] - g[:, :2]).prod(-1) - overlap + 1e-10
    enclose = (np.maximum(p[:, 2:], g[:, 2:]) - np.minimum(p[:, :2], g[:, :2])).prod(-1) + 1e-10
    giou = overlap / union - (enclose - union) / enclose
    loss_iou = ((1 - giou) * w).sum() / norm
    pts = np.broadcast_to(points_s, pos.shape + (2, ))[pos]
    target = np.concatenate([pts - g[:, :2], g[:, 2:] - pts], -1).clip(0, REG - 1 - 0.01)
    left = np.floor(target).astype(int)
    logits = dist_logits[pos]
    lse = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)

    def ce(idx):
        return lse - np.take_along_axis(logits, idx[..., None], -1)[..., 0]

    w_left = left + 1 - target
    dfl = (ce(left) * w_left + ce(left + 1) * (1 - w_left)).mean(-1)
    loss_dfl = (dfl * w).sum() / norm
    return dict(
        loss=loss_cls + 2.5 * loss_iou + 0.5 * loss_dfl,
        loss_cls=loss_cls,
        loss_iou=loss_iou,
        loss_dfl=loss_dfl,
        loss_l1=np.abs(p - g).mean())


def jaccard(a, b):
    """Paddle's multiclass_nms3 JaccardOverlap, normalized=True."""
    if b[0] > a[2] or b[2] < a[0] or b[1] > a[3] or b[3] < a[1]:
        return 0.

    def area(q):
        return 0. if q[2] < q[0] or q[3] < q[1] else (q[2] - q[0]) * (q[3] - q[1])

    inter = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
    return inter / (area(a) + area(b) - inter)


def multiclass_nms(boxes, scores, thr=0.01, nms_top_k=1000, keep_top_k=300, iou_thr=0.7):
    """One image: boxes (L, 4), scores (L, C). Per class: score > thr, stable sort
    descending, first nms_top_k, greedy keep if IoU <= iou_thr with every kept box;
    then at most keep_top_k by score over all classes; rows ordered by class, then
    by score within the class: [label, score, x1, y1, x2, y2]."""
    kept = {}
    for c in range(scores.shape[1]):
        s = scores[:, c]
        idx = np.nonzero(s > thr)[0]
        order = idx[np.argsort(-s[idx], kind='stable')][:nms_top_k]
        keep = []
        for i in order:
            if all(jaccard(boxes[i], boxes[k]) <= iou_thr for k in keep):
                keep.append(i)
        if keep:
            kept[c] = keep
    pairs = [(scores[i, c], c, i) for c, ks in kept.items() for i in ks]
    if len(pairs) > keep_top_k:
        pairs = sorted(pairs, key=lambda t: -t[0])[:keep_top_k]  # stable
        kept = {}
        for _, c, i in pairs:
            kept.setdefault(c, []).append(i)
    rows = [[c, scores[i, c], *boxes[i]] for c in sorted(kept) for i in kept[c]]
    return np.array(rows, np.float32).reshape(-1, 6)


def check(path=DEFAULT):
    z = np.load(path)
    results = {}
    for case in ('sq', 'ns'):
        if f'{case}.cls_logits.0' not in z.files:
            continue
        f = {k[len(case) + 1:]: z[k] for k in z.files if k.startswith(case + '.')}
        cls = np.concatenate([f[f'cls_logits.{i}'].reshape(2, NC, -1) for i in range(3)], -1)
        reg = np.concatenate([f[f'reg_logits.{i}'].reshape(2, 4 * REG, -1) for i in range(3)], -1)
        scores = sigmoid(cls.transpose(0, 2, 1).astype(np.float64)).astype(np.float32)
        dist_logits = reg.transpose(0, 2, 1).astype(np.float64).reshape(2, -1, 4, REG)
        prob = np.exp(dist_logits - dist_logits.max(-1, keepdims=True))
        dist = (prob / prob.sum(-1, keepdims=True) * np.arange(REG)).sum(-1)
        stride = f['train.stride_tensor'].astype(np.float64)
        points_s = f['train.anchor_points'] / stride
        pred_s = np.concatenate([points_s - dist[..., :2], points_s + dist[..., 2:]], -1)
        out = {'decode': np.abs(pred_s * stride - f['train.pred_bboxes']).max()}
        eval_pts = f['eval.anchor_points']
        eval_boxes = np.concatenate([eval_pts - dist[..., :2], eval_pts + dist[..., 2:]], -1)
        out['decode_eval'] = np.abs(eval_boxes * f['eval.stride_tensor'] -
                                    f['eval.pre_nms_bboxes']).max()
        pred = f['train.pred_bboxes']
        for key, mode in (('atss', 'static'), ('tal', 'tal')):
            assigned = []
            for b in range(2):
                pad = f['pad_gt_mask'][b, :, 0]
                gt, lab = f['gt_bbox'][b], f['gt_class'][b, :, 0]
                if key == 'atss':
                    assigned.append(
                        atss(f['train.anchors'], f['train.num_anchors_list'], gt, lab, pad,
                             pred[b]))
                else:
                    assigned.append(
                        tal(scores[b], pred[b], f['train.anchor_points'], gt, lab, pad))
            labels, boxes, sc, mask = (np.stack(x) for x in zip(*assigned))
            assert np.array_equal(labels, f[f'{key}.assigned_labels']), (case, key)
            assert np.array_equal(mask, f[f'{key}.mask_positive']), (case, key)
            assert np.array_equal(boxes, f[f'{key}.assigned_bboxes']), (case, key)
            ref = f[f'{key}.assigned_scores']
            out[f'{key}_scores_rel'] = (np.abs(sc - ref) / np.maximum(ref, 1e-30)).max()
            mine = losses(
                scores.astype(np.float64), dist_logits, pred_s, points_s, labels,
                f[f'{key}.assigned_bboxes'] / stride, ref.astype(np.float64))
            out[f'loss_{mode}_rel'] = max(
                abs(mine[k] - f[f'loss_{mode}.{k}']) / abs(f[f'loss_{mode}.{k}']) for k in mine)
        boxes = f['eval.pre_nms_bboxes']
        dets = [multiclass_nms(boxes[b], scores[b]) for b in range(2)]
        assert [len(d) for d in dets] == f['eval.bbox_num'].tolist(), case
        dets = np.concatenate(dets)
        assert np.array_equal(dets[:, [0, 2, 3, 4, 5]], f['eval.bbox'][:, [0, 2, 3, 4, 5]]), case
        out['nms_score'] = np.abs(dets[:, 1] - f['eval.bbox'][:, 1]).max()  # sigmoid rounding
        results[case] = out
    return results


if __name__ == '__main__':
    for case, out in check(*sys.argv[1:]).items():
        print(case, {k: f'{v:.2g}' for k, v in out.items()})
