r"""PP-YOLOE+ logits distillation, as PaddleDetection 2.6's ``DistillPPYOLOELoss``.

On the student's positives (its assignment, which after the static epochs is the teacher's,
see ``configs/_base_/distill/ppyoloe_kd.py``), with p the sigmoid class probabilities over
all anchors, b the decoded boxes and d the box-edge distribution logits (stride units),
w the positive's assigned-score sum and S the assigned-score sum of the batch (at least 1)::

    cls  = sum_{anchors, classes} BCE(p_S, p_T) |p_S - p_T|^2 / S          (quality focal)
    box  = sum_pos w (1 - GIoU(b_S, b_T)) / sum w
    dfl  = sum_{pos, edges} w CE(d_S, softmax(d_T)) / sum w / 4
    kd   = sum_pos 100 mean_classes KL(softmax(p_T / 10) || softmax(p_S / 10)) / #pos
    loss = 4 (1.0 cls + 2.5 box + 0.5 dfl + 20000 kd)

(the probabilities are the logits of the ``kd`` softmax, as in the reference). Each term is a
function of this file; :class:`PPYOLOELogitsLoss` computes one term, so that each is logged
and weighted on its own (a weight of 0 switches it off).
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps
from mmdet.utils import reduce_mean
from mmrazor.registry import MODELS
from torch import Tensor

from ...models.dense_heads.ppyoloe_head import decode_distances, flatten_levels


def ppyoloe_cls_distill(scores_S: Tensor, scores_T: Tensor, num_pos) -> Tensor:
    """Sum of ``BCE(p_S, p_T) * |p_S - p_T|^2`` over every anchor and class,
    divided by ``num_pos``; probabilities of any shape (..., K)."""
    loss = F.binary_cross_entropy(scores_S, scores_T, reduction='none')
    return (loss * (scores_S - scores_T).abs().pow(2)).sum() / num_pos


def ppyoloe_box_distill(boxes_S: Tensor, boxes_T: Tensor, weight: Tensor) -> Tensor:
    """GIoU loss of (n, 4) xyxy boxes weighted by ``weight`` (n, 1), divided
    by the sum of the weights."""
    giou = bbox_overlaps(boxes_S, boxes_T, mode='giou', is_aligned=True, eps=1e-10)
    return ((1 - giou) * weight.reshape(-1)).sum() / weight.sum()


def ppyoloe_dfl_distill(dist_S: Tensor, dist_T: Tensor, weight: Tensor) -> Tensor:
    """Soft cross-entropy of (n, 4, R) logits against ``softmax(dist_T)``, per
    positive and edge, weighted by ``weight`` (n, 1), divided by the sum of the
    weights and by 4."""
    ce = -(F.softmax(dist_T, -1) * F.log_softmax(dist_S, -1)).sum(-1)  # (n, 4)
    return (ce * weight.reshape(-1, 1)).sum() / weight.sum() / 4


def ppyoloe_kd_distill(mask_positive: Tensor,
                       scores_S: Tensor,
                       scores_T: Tensor,
                       T: float = 10.) -> Tensor:
    """At the positives of the (N, L) mask, ``KL(softmax(p_T / T) || softmax(p_S / T))``
    over the classes of the (N, L, K) probabilities (used as logits), mean over classes
    times T^2, summed over positives and divided by their number (0 without any)."""
    num_pos = mask_positive.sum()
    if num_pos == 0:
        return scores_S.sum() * 0.
    s, t = scores_S[mask_positive], scores_T[mask_positive]
    target = F.softmax(t / T, -1)
    kl = target * (torch.log(target) - F.log_softmax(s / T, -1))
    return (kl.mean(-1) * T * T).sum() / num_pos


@MODELS.register_module()
class PPYOLOELogitsLoss(nn.Module):
    """One term of PP-YOLOE+'s logits distillation (see the module docstring).

    The student's inputs are those of its ``PPYOLOEHead.loss_from_assignment``
    (its flattened logits, decoded boxes, anchor points in stride units and the
    assignment), recorded as it computes its own loss; the teacher's are its
    head's raw outputs per level.

    Args:
        term (str): ``'cls'``, ``'box'``, ``'dfl'`` or ``'kd'``.
        loss_weight (float): The term's weight (the seed: 4 x 1.0, 4 x 2.5,
            4 x 0.5, 4 x 20000).
        kd_T (float): Temperature of ``kd``. Defaults to 10.
    """
    TERMS = ('cls', 'box', 'dfl', 'kd')

    def __init__(self, term: str, loss_weight: float = 1.0, kd_T: float = 10.) -> None:
        super().__init__()
        if term not in self.TERMS:
            raise ValueError(f'PPYOLOELogitsLoss: term must be one of {self.TERMS}, got '
                             f'{term!r}')
        self.term = term
        self.loss_weight = loss_weight
        self.kd_T = kd_T

    def check_inputs(self,
                     teacher_cls_scores: Optional[List[Tensor]] = None,
                     teacher_bbox_preds: Optional[List[Tensor]] = None,
                     cls_logits: Optional[Tensor] = None,
                     dist_logits: Optional[Tensor] = None) -> None:
        """Teacher maps per level whose anchors and classes match the student's."""
        if teacher_cls_scores is not None and teacher_bbox_preds is not None:
            if len(teacher_cls_scores) != len(teacher_bbox_preds):
                raise ValueError(f'teacher: {len(teacher_cls_scores)} class maps but '
                                 f'{len(teacher_bbox_preds)} box maps')
            for c, r in zip(teacher_cls_scores, teacher_bbox_preds):
                if c.shape[-2:] != r.shape[-2:] or r.shape[1] % 4:
                    raise ValueError(f'teacher maps {tuple(c.shape)} and {tuple(r.shape)}: '
                                     'not a PP-YOLOE head output')
        if cls_logits is not None and teacher_cls_scores is not None:
            t = flatten_levels(teacher_cls_scores)
            if t.shape != cls_logits.shape:
                raise ValueError(f'teacher class logits {tuple(t.shape)} vs student '
                                 f'{tuple(cls_logits.shape)} (anchors, classes): the two '
                                 'heads must have the same strides and num_classes')
        if dist_logits is not None and teacher_bbox_preds is not None:
            t = flatten_levels(teacher_bbox_preds, dist_logits.shape[-1])
            if t.shape != dist_logits.shape:
                raise ValueError(f'teacher distributions {tuple(t.shape)} vs student '
                                 f'{tuple(dist_logits.shape)}: the heads must share reg_max')

    def forward(self, cls_logits: Tensor, dist_logits: Tensor, pred_bboxes: Tensor,
                points_s: Tensor, assigned, teacher_cls_scores: List[Tensor],
                teacher_bbox_preds: List[Tensor]) -> Tensor:
        self.check_inputs(teacher_cls_scores, teacher_bbox_preds, cls_logits, dist_logits)
        if self.loss_weight == 0:
            return cls_logits.sum() * 0.
        t_cls = flatten_levels(teacher_cls_scores).detach()
        t_dist = flatten_levels(teacher_bbox_preds, dist_logits.shape[-1]).detach()
        num_classes = cls_logits.shape[-1]
        pos = assigned.labels != num_classes
        s_scores, t_scores = cls_logits.sigmoid(), t_cls.sigmoid()
        if self.term == 'cls':
            num_pos = reduce_mean(assigned.scores.sum().detach()).clamp(min=1.)
            loss = ppyoloe_cls_distill(s_scores, t_scores, num_pos)
        elif self.term == 'kd':
            loss = ppyoloe_kd_distill(pos, s_scores, t_scores, self.kd_T)
        elif not pos.any():
            loss = dist_logits.sum() * 0.
        else:
            weight = assigned.scores.sum(-1)[pos].unsqueeze(-1)
            if self.term == 'box':
                t_boxes = decode_distances(points_s, t_dist)
                loss = ppyoloe_box_distill(pred_bboxes[pos], t_boxes[pos], weight)
            else:
                loss = ppyoloe_dfl_distill(dist_logits[pos], t_dist[pos], weight)
        return self.loss_weight * loss
