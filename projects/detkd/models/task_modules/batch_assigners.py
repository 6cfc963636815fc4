"""PP-YOLOE's label assigners, batched over images with padded GT.

mmdet's ``ATSSAssigner`` and ``TaskAlignedAssigner`` work per image and differ
from PaddleDetection 2.6's in details that change which anchors are positive
(a strict ``>`` against the IoU threshold; an anchor claimed by several GTs
goes to the GT of highest IoU among *all* GTs, not among its candidates) and
in the soft scores (ATSS scores are the IoU of the *predicted* box with its GT).
These follow Paddle's (``ppdet/modeling/assigners/``) so that a converted
model trains as it did there.

Shapes: ``B`` images, ``n`` GT slots per image (padded; ``pad_gt_mask`` (B, n,
1) is 1 on real boxes), ``L`` anchors over all levels, ``C`` classes. Both
return a :class:`BatchAssignResult`; background is label ``C``.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.registry import TASK_UTILS
from torch import Tensor


class BatchAssignResult(NamedTuple):
    labels: Tensor  # (B, L) long, C for background
    bboxes: Tensor  # (B, L, 4) xyxy, the assigned GT (GT 0 on background, as Paddle)
    scores: Tensor  # (B, L, C) soft targets, 0 off the assigned class
    mask_positive: Tensor  # (B, n, L) float, 1 where the anchor is assigned to the GT


def batch_iou(box1: Tensor, box2: Tensor, eps: float = 1e-9) -> Tensor:
    """IoU of (B, M1, 4) with (B, M2, 4) xyxy boxes: (B, M1, M2)."""
    b1, b2 = box1.unsqueeze(2), box2.unsqueeze(1)
    lt = torch.maximum(b1[..., :2], b2[..., :2])
    rb = torch.minimum(b1[..., 2:], b2[..., 2:])
    overlap = (rb - lt).clamp(min=0).prod(-1)
    area1 = (b1[..., 2:] - b1[..., :2]).clamp(min=0).prod(-1)
    area2 = (b2[..., 2:] - b2[..., :2]).clamp(min=0).prod(-1)
    return overlap / (area1 + area2 - overlap + eps)


def points_inside_bboxes(points: Tensor, bboxes: Tensor, eps: float = 1e-9) -> Tensor:
    """(L, 2) points strictly inside (B, n, 4) boxes: (B, n, L) float."""
    x, y = points[:, 0], points[:, 1]
    x1, y1, x2, y2 = bboxes.unsqueeze(-1).unbind(2)
    delta = torch.stack([x - x1, y - y1, x2 - x, y2 - y], dim=-1)
    return (delta.min(dim=-1).values > eps).to(bboxes.dtype)


def atss_threshold(dist: Tensor,
                   ious: Tensor,
                   num_level: Sequence[int],
                   topk: int,
                   valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """ATSS's candidates and adaptive threshold, per GT (Zhang et al., CVPR 2020).

    ``dist`` and ``ious``: (..., A), the distance of the GT's centre to each anchor's and
    their IoU, the anchors of every level one level after the other (``num_level`` per
    level). On each level the min(topk, level size) nearest anchors are the GT's candidates;
    the threshold is the mean plus the unbiased std of the candidates' IoUs, over the ``valid``
    candidates only when ``valid`` ((..., A) bool) is given (LD's region: anchors outside the
    image take no part), whose count is returned too (a std needs two).

    Returns:
        tuple: candidate indices (..., C) into A, the threshold (..., 1), the valid
        candidates' count (..., 1) or None.
    """
    idxs, start = [], 0
    for d in dist.split(list(num_level), dim=-1):
        if d.shape[-1] > 0:
            idxs.append(d.topk(min(topk, d.shape[-1]), dim=-1, largest=False).indices + start)
        start += d.shape[-1]
    idx = torch.cat(idxs, dim=-1)
    cand = ious.gather(-1, idx)
    if valid is None:
        return idx, cand.mean(dim=-1, keepdim=True) + cand.std(dim=-1, keepdim=True), None
    ok = valid.gather(-1, idx).to(ious.dtype)
    count = ok.sum(-1, keepdim=True)
    mean = (cand * ok).sum(-1, keepdim=True) / count.clamp(min=1)
    var = ((cand - mean).pow(2) * ok).sum(-1, keepdim=True) / (count - 1).clamp(min=1)
    return idx, mean + var.sqrt(), count


def max_iou_gt_mask(ious: Tensor) -> Tensor:
    """(B, n, L): 1 at the GT of largest IoU of each anchor (first on ties)."""
    return F.one_hot(ious.argmax(dim=1), ious.shape[1]).permute(0, 2, 1).to(ious.dtype)


def _resolve(mask_positive: Tensor, ious: Tensor, gt_labels: Tensor, gt_bboxes: Tensor,
             num_classes: int):
    """An anchor positive for several GTs keeps the GT of largest IoU; then
    gather labels, boxes and one-hot scores (Paddle's steps 7-8)."""
    mask_sum = mask_positive.sum(dim=1)
    if mask_sum.numel() and mask_sum.max() > 1:
        multiple = (mask_sum.unsqueeze(1) > 1).expand_as(mask_positive)
        mask_positive = torch.where(multiple, max_iou_gt_mask(ious), mask_positive)
        mask_sum = mask_positive.sum(dim=1)
    gt_index = mask_positive.argmax(dim=1)  # (B, L)
    labels = gt_labels.squeeze(-1).long().gather(1, gt_index)
    labels = torch.where(mask_sum > 0, labels, torch.full_like(labels, num_classes))
    bboxes = gt_bboxes.gather(1, gt_index.unsqueeze(-1).expand(-1, -1, 4))
    scores = F.one_hot(labels, num_classes + 1)[..., :num_classes].to(gt_bboxes.dtype)
    return mask_positive, labels, bboxes, scores


def _empty(batch: int, num_anchors: int, num_classes: int, ref: Tensor) -> BatchAssignResult:
    """No GT slot in the whole batch: every anchor is background (Paddle's
    assigners return three values here, and its head crashes unpacking four)."""
    return BatchAssignResult(
        ref.new_full((batch, num_anchors), num_classes, dtype=torch.long),
        ref.new_zeros((batch, num_anchors, 4)), ref.new_zeros((batch, num_anchors, num_classes)),
        ref.new_zeros((batch, 0, num_anchors)))


@TASK_UTILS.register_module()
class BatchATSSAssigner:
    """ATSS (Zhang et al. 2020) as PP-YOLOE's static assigner: per level the
    ``topk`` anchors closest to each GT centre are candidates; positive where
    the candidate's IoU is strictly above mean + std (unbiased) of the
    candidates' IoUs and its centre lies inside the GT. With ``pred_bboxes``
    the class score target is the IoU of the prediction with its GT.

    Args:
        topk (int): Candidates per level. Defaults to 9.
        num_classes (int): C.
    """

    def __init__(self, topk: int = 9, num_classes: int = 80) -> None:
        self.topk = topk
        self.num_classes = num_classes

    @torch.no_grad()
    def __call__(self,
                 anchors: Tensor,
                 num_anchors_list: List[int],
                 gt_labels: Tensor,
                 gt_bboxes: Tensor,
                 pad_gt_mask: Tensor,
                 pred_bboxes: Tensor = None) -> BatchAssignResult:
        """anchors (L, 4) xyxy; gt_labels (B, n, 1); gt_bboxes (B, n, 4);
        pad_gt_mask (B, n, 1); pred_bboxes (B, L, 4) xyxy, optional."""
        num_anchors = anchors.shape[0]
        batch, n = gt_bboxes.shape[:2]
        if n == 0:
            return _empty(batch, num_anchors, self.num_classes, gt_bboxes)
        ious = batch_iou(gt_bboxes.reshape(1, -1, 4), anchors[None]).reshape(batch, n, -1)
        gt_centers = (gt_bboxes[..., :2] + gt_bboxes[..., 2:]) / 2
        anchor_centers = (anchors[:, :2] + anchors[:, 2:]) / 2
        dist = (gt_centers.unsqueeze(2) - anchor_centers[None, None]).norm(dim=-1)

        topk_idxs, threshold, _ = atss_threshold(dist, ious, num_anchors_list, self.topk)
        is_in_topk = torch.zeros_like(ious).scatter_(-1, topk_idxs, 1.) * pad_gt_mask
        iou_candidates = ious * is_in_topk
        is_in_topk = torch.where(iou_candidates > threshold, is_in_topk,
                                 torch.zeros_like(is_in_topk))
        is_in_gts = points_inside_bboxes(anchor_centers, gt_bboxes)
        mask_positive = is_in_topk * is_in_gts * pad_gt_mask

        mask_positive, labels, bboxes, scores = _resolve(mask_positive, ious, gt_labels, gt_bboxes,
                                                         self.num_classes)
        if pred_bboxes is not None:
            pred_ious = (batch_iou(gt_bboxes, pred_bboxes) * mask_positive).max(dim=1).values
            scores = scores * pred_ious.unsqueeze(-1)
        return BatchAssignResult(labels, bboxes, scores, mask_positive)


@TASK_UTILS.register_module()
class BatchTaskAlignedAssigner:
    """Task-aligned assignment (TOOD, Feng et al. 2021) as PP-YOLOE's: the
    metric ``s^alpha * IoU^beta`` of each prediction's score for the GT's class
    and its box IoU with the GT; the ``topk`` largest among anchors whose point
    lies inside the GT are positive; the class target is the metric normalised
    per GT to its best IoU.

    Args:
        topk (int): Defaults to 13.
        alpha (float): Defaults to 1.0.
        beta (float): Defaults to 6.0.
        eps (float): Defaults to 1e-9.
    """

    def __init__(self,
                 topk: int = 13,
                 alpha: float = 1.0,
                 beta: float = 6.0,
                 eps: float = 1e-9,
                 num_classes: int = 80) -> None:
        self.topk = topk
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self.num_classes = num_classes

    @torch.no_grad()
    def __call__(self, pred_scores: Tensor, pred_bboxes: Tensor, anchor_points: Tensor,
                 gt_labels: Tensor, gt_bboxes: Tensor, pad_gt_mask: Tensor) -> BatchAssignResult:
        """pred_scores (B, L, C) probabilities; pred_bboxes (B, L, 4) xyxy;
        anchor_points (L, 2); gt_labels (B, n, 1); gt_bboxes (B, n, 4);
        pad_gt_mask (B, n, 1)."""
        batch, num_anchors, num_classes = pred_scores.shape
        n = gt_bboxes.shape[1]
        if n == 0:
            return _empty(batch, num_anchors, num_classes, gt_bboxes)
        ious = batch_iou(gt_bboxes, pred_bboxes)
        labels_idx = gt_labels.squeeze(-1).long().unsqueeze(-1).expand(-1, -1, num_anchors)
        cls_scores = pred_scores.permute(0, 2, 1).gather(1, labels_idx)  # (B, n, L)
        metrics = cls_scores.pow(self.alpha) * ious.pow(self.beta)
        is_in_gts = points_inside_bboxes(anchor_points, gt_bboxes)
        topk_idx = (metrics * is_in_gts).topk(min(self.topk, num_anchors), dim=-1).indices
        is_in_topk = F.one_hot(topk_idx, num_anchors).sum(dim=-2).to(metrics.dtype) * pad_gt_mask
        mask_positive = is_in_topk * is_in_gts * pad_gt_mask

        mask_positive, labels, bboxes, scores = _resolve(mask_positive, ious, gt_labels, gt_bboxes,
                                                         num_classes)
        metrics = metrics * mask_positive
        max_metrics = metrics.max(dim=-1, keepdim=True).values
        max_ious = (ious * mask_positive).max(dim=-1, keepdim=True).values
        metrics = (metrics / (max_metrics + self.eps) * max_ious).max(dim=1).values
        return BatchAssignResult(labels, bboxes, scores * metrics.unsqueeze(-1), mask_positive)
