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

**What the terms' strength depends on.** ``cls`` sums over every anchor and class but, at the
anchors where teacher and student differ, mostly over the GT class: its scale hardly depends on
the class count K. ``box`` and ``dfl`` are weighted means over the positives: independent of K,
of the images per batch and of the image size. ``kd`` scales like 1/K^2, not 1/K: with
z = p / T (probabilities in [0, 1], T = 10, so |z| <= 0.1) the softmax is nearly uniform,
q_k ~ (1 + z_k - mean(z)) / K, and for two such distributions

    KL(q_T || q_S) ~ 1/2 sum_k (q_T,k - q_S,k)^2 / q_k ~ 1 / (2 K T^2) sum_k (d_k - mean(d))^2

with d = p_T - p_S; the term's mean over the classes adds another 1/K and its T^2 cancels
T^-2. Where teacher and student differ mostly at the GT class (d_g, the others near 0),
sum_k (d_k - mean(d))^2 = d_g^2 (K - 1) / K, so per positive

    kd ~ d_g^2 (K - 1) / (2 K^3):    f(K) = (K - 1) / K^3.

The seed's weight of 20000 was tuned at K = 80; at K = 7, f is 113 times f(80): the kd term is
two orders of magnitude stronger against cls, box and dfl than in the seed (measured: 182.8 vs
1.64 per positive at p_T = 0.8, p_S = 0.3 on the GT class, 0.01 elsewhere). With
``ref_num_classes=K_ref`` the term is multiplied by f(K_ref) / f(K), which keeps its ratio to the
other terms at K classes what it was at K_ref (the default None is Paddle's exact formula). At
K = 1 the term is identically 0 (a softmax over one class is 1), whatever its weight or
normalisation: a one-class pair has no kd term, and ``ref_num_classes`` refuses K = 1.
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
from ..ops import float32_forward


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


def kd_class_factor(num_classes: int, ref_num_classes: int) -> float:
    """f(K_ref) / f(K) with f(K) = (K - 1) / K^3: what makes the ``kd`` term's strength
    against the other terms at K classes that of K_ref classes (see the module docstring)."""
    if num_classes < 2 or ref_num_classes < 2:
        raise ValueError(
            f'the kd term is identically 0 with one class (K = {num_classes}, reference '
            f'{ref_num_classes}): a softmax over one class is 1. Set the kd loss_weight to 0 '
            'for a one-class dataset.')
    K, R = num_classes, ref_num_classes
    return (R - 1) * K**3 / (R**3 * (K - 1))


def ppyoloe_kd_distill(mask_positive: Tensor,
                       scores_S: Tensor,
                       scores_T: Tensor,
                       T: float = 10.,
                       ref_num_classes: Optional[int] = None) -> Tensor:
    """At the positives of the (N, L) mask, ``KL(softmax(p_T / T) || softmax(p_S / T))``
    over the classes of the (N, L, K) probabilities (used as logits), mean over classes
    times T^2, summed over positives and divided by their number (0 without any); times
    ``kd_class_factor(K, ref_num_classes)`` when that is given."""
    num_pos = mask_positive.sum()
    if num_pos == 0:
        return scores_S.sum() * 0.
    s, t = scores_S[mask_positive], scores_T[mask_positive]
    target = F.softmax(t / T, -1)
    kl = target * (torch.log(target) - F.log_softmax(s / T, -1))
    loss = (kl.mean(-1) * T * T).sum() / num_pos
    if ref_num_classes is not None:
        loss = loss * kd_class_factor(scores_S.shape[-1], ref_num_classes)
    return loss


@MODELS.register_module()
class PPYOLOELogitsLoss(nn.Module):
    """One term of PP-YOLOE+'s logits distillation (see the module docstring).

    The student's inputs are those of its ``PPYOLOEHead.loss_from_assignment``
    (its flattened logits, decoded boxes, anchor points in stride units and the
    assignment), recorded as it computes its own loss; the teacher's are its
    head's raw outputs per level. Under mixed precision it computes in float32
    (``float32_forward``): the kd KL of two nearly uniform softmaxes cancels to
    about 1e-3 of its terms already in float32, and the BCE of saturated
    probabilities needs float32's logs.

    Args:
        term (str): ``'cls'``, ``'box'``, ``'dfl'`` or ``'kd'``.
        loss_weight (float): The term's weight (the seed: 4 x 1.0, 4 x 2.5,
            4 x 0.5, 4 x 20000).
        kd_T (float): Temperature of ``kd``. Defaults to 10.
        ref_num_classes (int, optional): ``kd`` only: the class count its weight was tuned
            for (80, COCO, for the seed's 20000). Given, the term is multiplied by
            f(K_ref) / f(K), f(K) = (K - 1) / K^3, so that its strength against the other
            terms at the heads' K classes is the seed's (see the module docstring).
            Defaults to None: Paddle's exact formula.
    """
    # class scores, and the teacher's assignment: DetDistill refuses a teacher of other classes
    compares_classes = True
    TERMS = ('cls', 'box', 'dfl', 'kd')

    def __init__(self,
                 term: str,
                 loss_weight: float = 1.0,
                 kd_T: float = 10.,
                 ref_num_classes: Optional[int] = None) -> None:
        super().__init__()
        if term not in self.TERMS:
            raise ValueError(f'PPYOLOELogitsLoss: term must be one of {self.TERMS}, got '
                             f'{term!r}')
        if ref_num_classes is not None and term != 'kd':
            raise ValueError('PPYOLOELogitsLoss: ref_num_classes normalises the kd term only '
                             f"(the {term} term does not scale with the classes); drop it here")
        self.term = term
        self.loss_weight = loss_weight
        self.kd_T = kd_T
        self.ref_num_classes = ref_num_classes

    def check_inputs(self,
                     teacher_cls_scores: Optional[List[Tensor]] = None,
                     teacher_bbox_preds: Optional[List[Tensor]] = None,
                     cls_logits: Optional[Tensor] = None,
                     dist_logits: Optional[Tensor] = None) -> None:
        """Teacher maps per level whose anchors and classes match the student's; more than
        one class where ``kd`` is normalised by the class count."""
        if self.ref_num_classes is not None and teacher_cls_scores is not None:
            kd_class_factor(teacher_cls_scores[0].shape[1], self.ref_num_classes)
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

    @float32_forward
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
            loss = ppyoloe_kd_distill(pos, s_scores, t_scores, self.kd_T, self.ref_num_classes)
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
