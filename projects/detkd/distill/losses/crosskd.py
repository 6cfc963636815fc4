"""CrossKD: Cross-Head Knowledge Distillation for Object Detection (Wang et al., CVPR 2024).

The student's head features at a cross point run through the teacher's remaining head layers
(``CrossHead`` recorders, ``detkd/distill/cross_head.py``); these cross-head predictions ``s``
are matched to the teacher's own ``t`` on every location of the student's assignment, over all
FPN levels at once (``sigma`` the sigmoid, ``lw`` the student's label weights, ``Z`` the number
of positives of the student's assignment, averaged over the processes)::

    cls   L = w * sum_{a,k} lw_a BCE(s_ak, sigma(t_ak)) |sigma(s_ak) - sigma(t_ak)|^beta / Z
    GFL   L = w * sum_a v_a mean_e KL_T(softmax(t_ae) || softmax(s_ae)) / sum_a v_a
    boxes L = w * sum_a v_a (1 - GIoU(dec(s_a), dec(t_a))) / Z      (FCOS: -log IoU)
    ATSS  L = w * sum_{a positive} BCE(c^s_a, sigma(c^t_a)) / Z     (centerness)

with ``v_a = lw_a max_k sigma(t_ak)`` (the teacher's confidence), ``e`` the four box edges of
GFL's distributions (T = 1, the KL summed over the bins, times T^2), ``dec`` the student head's
own box decoding (anchors and coder, points and distances, or GFL's integral), and FCOS's
``Z`` the sum of the GT centerness at the positives. The teacher's side is detached; the
student's gradient reaches its head's first layers, neck and backbone through the frozen
teacher layers. The same kernels, with other weights, are BCKD (``bckd.py``).

Where this follows the authors' code (github.com/jbwang1997/CrossKD, CC BY-NC: formulas and
settings only, nothing copied): the focal factor is not detached; the GFL box KD is normalised
by the sum of the teacher's confidences over the local batch; RetinaNet's KD skips the anchors
its assigner ignores (label weight 0); FCOS weighs every point (no label weights). Where it
differs: every normaliser ``Z`` is averaged over the processes (the authors' RetinaNet uses the
local count; the same on one GPU).
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps, distance2bbox
from mmdet.utils import reduce_mean
from mmrazor.registry import MODELS
from torch import Tensor

from ..ops import float32_forward

DECODINGS = ('deltas', 'distances', 'distribution')
WEIGHTINGS = ('teacher_score', 'score_gap')
BOX_LOSSES = ('giou', 'iou_log')
NORMALIZERS = ('avg_factor', 'centerness')


def flatten_levels(maps: Sequence[Tensor], channels: int) -> Tensor:
    """Per-level (N, A*C, H, W) maps as one (N, sum_l H*W*A, C) tensor, in mmdet's order
    (``permute(0, 2, 3, 1)``, priors inside a location, levels one after the other)."""
    n = maps[0].size(0)
    return torch.cat([m.permute(0, 2, 3, 1).reshape(n, -1, channels) for m in maps], dim=1)


def flatten_targets(targets: Sequence[Tensor], n: int, *tail: int) -> Tensor:
    """Per-level targets, (N, A_l, *tail) (anchor heads) or (N * A_l, *tail) (FCOS: images
    one after the other), as one (N, sum_l A_l, *tail) tensor."""
    return torch.cat([t.reshape(n, -1, *tail) for t in targets], dim=1)


def level_index(maps: Sequence[Tensor], rows: int) -> Tensor:
    """The level of each of the ``rows`` locations of ``flatten_levels``' layout (the priors
    per location: ``rows`` over the maps' summed H * W)."""
    sizes = torch.tensor([m.shape[-2] * m.shape[-1] for m in maps], device=maps[0].device)
    per_location = rows // int(sizes.sum())
    return torch.repeat_interleave(
        torch.arange(len(maps), device=sizes.device), sizes * per_location)


def normalizer(avg_factor, device) -> Tensor:
    """The positives' count of the student's assignment, averaged over the processes, >= 1."""
    return reduce_mean(torch.tensor(float(avg_factor), device=device)).clamp(min=1.)


def centerness_normalizer(labels: Tensor, bbox_targets: Tensor, num_classes: int) -> Tensor:
    """FCOS's: the sum of the GT centerness at the positives, averaged over processes."""
    pos = (labels >= 0) & (labels < num_classes)
    ltrb = bbox_targets[pos].float()
    lr, tb = ltrb[:, [0, 2]], ltrb[:, [1, 3]]
    ctr = ((lr.min(-1)[0] / lr.max(-1)[0].clamp(min=1e-12)) *
           (tb.min(-1)[0] / tb.max(-1)[0].clamp(min=1e-12))).clamp(min=0).sqrt()
    return reduce_mean(ctr.sum().detach()).clamp(min=1e-6)


def positive_levels(labels: Tensor, levels: Tensor, num_classes: int) -> Tensor:
    """(N, A) bool: the locations of the levels with at least one positive in the batch."""
    pos = ((labels >= 0) & (labels < num_classes)).any(0)
    has = torch.zeros(int(levels.max()) + 1, dtype=torch.bool, device=labels.device)
    has.scatter_(0, levels[pos], True)
    return has[levels][None].expand_as(labels)


def qfl_kd(pred: Tensor, target_logits: Tensor, beta: float) -> Tensor:
    """Elementwise ``BCE(pred, sigma(t)) * |sigma(pred) - sigma(t)|^beta`` (t detached)."""
    target = target_logits.detach().sigmoid()
    bce = F.binary_cross_entropy_with_logits(pred, target, reduction='none')
    return bce * (pred.sigmoid() - target).abs().pow(beta)


class _DenseKD(nn.Module):
    """What the dense-head KD losses share: weight, options checked, the student's head read
    for what the config leaves unset, the teacher and the student of the same classes."""
    compares_classes = True

    def __init__(self, loss_weight: float = 1.0, num_classes: Optional[int] = None):
        super().__init__()
        self.loss_weight = loss_weight
        self.num_classes = num_classes

    def configure_from_student(self, student) -> None:
        head = getattr(student, 'bbox_head', None)
        if self.num_classes is None and head is not None:
            self.num_classes = getattr(head, 'num_classes', None)

    def _check_levels(self, **maps) -> None:
        name = type(self).__name__
        maps = {k: v for k, v in maps.items() if v is not None}
        counts = {k: len(v) for k, v in maps.items()}
        if len(set(counts.values())) > 1:
            raise ValueError(f'{name}: the inputs have different numbers of levels ({counts}); '
                             'student and teacher heads need the same strides')
        ref = next(iter(maps), None)
        for key, levels in maps.items():
            for lvl, (x, r) in enumerate(zip(levels, maps[ref])):
                if x.dim() != 4 or x.shape[0] != r.shape[0] or x.shape[-2:] != r.shape[-2:]:
                    raise ValueError(
                        f'{name}: {key}[{lvl}] is {tuple(x.shape)}, {ref}[{lvl}] '
                        f'{tuple(r.shape)}: (N, C, H, W) maps of the same batch and size are '
                        'needed (the same strides in both heads)')


@MODELS.register_module()
class QualityFocalKDLoss(_DenseKD):
    """The classification KD of CrossKD and BCKD: per-class binary cross-entropy against the
    teacher's sigmoid scores, scaled by the score gap to the power ``beta`` (see the module
    docstring), summed over locations and classes, over the student's positives.

    Args:
        loss_weight (float): Defaults to 1 (CrossKD's GFL, RetinaNet and ATSS; 0.4 FCOS).
        beta (float): the focal exponent. Defaults to 1.
        normalizer (str): ``'avg_factor'`` (the positives' count) or ``'centerness'``
            (FCOS: the GT centerness summed at the positives; needs ``labels`` and
            ``bbox_targets``).
        positive_levels_only (bool): the loss only on the FPN levels with a positive in the
            batch (BCKD's code); False (default) everywhere.
        num_classes (int, optional): K, from the student's head when None.

    Inputs of ``forward``: ``preds_S``, ``preds_T``: per-level (N, A*K, H, W) logits (the
    cross-head's or the student's, and the teacher's); ``label_weights`` (per level, (N, A_l)
    or (N*A_l,): 0 where the student's assigner ignores a location; None: 1); ``labels`` (same
    layout; background K); ``avg_factor``; ``bbox_targets`` (FCOS's normalizer).
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 beta: float = 1.0,
                 normalizer: str = 'avg_factor',
                 positive_levels_only: bool = False,
                 num_classes: Optional[int] = None):
        super().__init__(loss_weight, num_classes)
        if normalizer not in NORMALIZERS:
            raise ValueError(f'QualityFocalKDLoss: normalizer must be one of {NORMALIZERS}, got '
                             f'{normalizer!r}')
        self.beta = beta
        self.normalizer = normalizer
        self.positive_levels_only = positive_levels_only

    def check_inputs(self, preds_S=None, preds_T=None, **kwargs) -> None:
        self._check_levels(preds_S=preds_S, preds_T=preds_T)
        for lvl, (s, t) in enumerate(zip(preds_S or [], preds_T or [])):
            if s.shape != t.shape:
                raise ValueError(f'QualityFocalKDLoss: level {lvl}: student {tuple(s.shape)}, '
                                 f'teacher {tuple(t.shape)}: the heads need the same classes '
                                 'and priors per location')

    @float32_forward
    def forward(self,
                preds_S: Sequence[Tensor],
                preds_T: Sequence[Tensor],
                label_weights: Optional[Sequence[Tensor]] = None,
                labels: Optional[Sequence[Tensor]] = None,
                avg_factor: Optional[float] = None,
                bbox_targets: Optional[Sequence[Tensor]] = None) -> Tensor:
        self.check_inputs(preds_S, preds_T)
        n, k = preds_S[0].size(0), self.num_classes or preds_S[0].size(1)
        s, t = flatten_levels(preds_S, k), flatten_levels(preds_T, k)
        loss = qfl_kd(s, t, self.beta).sum(-1)  # (N, M)
        if label_weights is not None:
            loss = loss * flatten_targets(label_weights, n).to(loss)
        flat_labels = None if labels is None else flatten_targets(labels, n)
        if self.positive_levels_only:
            loss = loss * positive_levels(flat_labels, level_index(preds_S, s.size(1)), k)
        z = (
            centerness_normalizer(flat_labels, flatten_targets(bbox_targets, n, 4), k)
            if self.normalizer == 'centerness' else normalizer(avg_factor, loss.device))
        return self.loss_weight * loss.sum() / z


@MODELS.register_module()
class DistributionKDLoss(_DenseKD):
    """CrossKD's box KD on GFL: the KL between the cross-head's and the teacher's box-edge
    distributions (reg_max + 1 bins), weighted by the teacher's confidence ``v`` and normalised
    by its sum (see the module docstring).

    Args:
        loss_weight (float): Defaults to 4 (CrossKD's GFL).
        T (float): temperature (the loss is multiplied by T^2). Defaults to 1.
        num_classes (int, optional): K, from the student's head when None.

    Inputs: ``preds_S``, ``preds_T``: per-level (N, 4*(reg_max+1), H, W) distribution logits;
    ``teacher_cls``: the teacher's per-level class logits; ``label_weights`` as
    ``QualityFocalKDLoss``.
    """

    def __init__(self,
                 loss_weight: float = 4.0,
                 T: float = 1.0,
                 num_classes: Optional[int] = None):
        super().__init__(loss_weight, num_classes)
        if T <= 0:
            raise ValueError(f'DistributionKDLoss: T must be > 0, got {T}')
        self.T = T

    def check_inputs(self, preds_S=None, preds_T=None, teacher_cls=None, **kwargs) -> None:
        self._check_levels(preds_S=preds_S, preds_T=preds_T, teacher_cls=teacher_cls)
        for lvl, (s, t) in enumerate(zip(preds_S or [], preds_T or [])):
            if s.shape != t.shape or s.size(1) % 4:
                raise ValueError(f'DistributionKDLoss: level {lvl}: student {tuple(s.shape)}, '
                                 f'teacher {tuple(t.shape)}: GFL distributions of the same '
                                 'reg_max are needed')

    @float32_forward
    def forward(self,
                preds_S: Sequence[Tensor],
                preds_T: Sequence[Tensor],
                teacher_cls: Sequence[Tensor],
                label_weights: Optional[Sequence[Tensor]] = None) -> Tensor:
        self.check_inputs(preds_S, preds_T, teacher_cls)
        n, c = preds_S[0].shape[:2]
        bins = c // 4
        s = flatten_levels(preds_S, c).reshape(n, -1, 4, bins) / self.T
        t = flatten_levels(preds_T, c).detach().reshape(n, -1, 4, bins) / self.T
        p_t = t.softmax(-1)
        kl = (p_t * (p_t.clamp(min=1e-12).log() - s.log_softmax(-1))).sum(-1).mean(-1)
        v = flatten_levels(teacher_cls, self.num_classes
                           or teacher_cls[0].size(1)).detach().amax(-1).sigmoid()
        if label_weights is not None:
            v = v * flatten_targets(label_weights, n).to(v)
        return self.loss_weight * self.T**2 * (v * kl).sum() / v.sum().clamp(min=1e-12)


@MODELS.register_module()
class BoxKDLoss(_DenseKD):
    """The box KD of CrossKD (RetinaNet, ATSS, FCOS) and BCKD (GFL): an IoU loss between the
    student's (or cross-head's) and the teacher's boxes, decoded as the student's head decodes
    them, at every location of the assignment, weighted per location (see the module
    docstring).

    Args:
        loss_weight (float): Defaults to 1 (CrossKD RetinaNet, ATSS; FCOS 0.75; BCKD 4).
        decode (str): how the head's regression becomes boxes: ``'deltas'`` (anchors and the
            head's ``bbox_coder``: RetinaNet, ATSS), ``'distances'`` (points and edge
            distances: FCOS), ``'distribution'`` (GFL: the integral of the edge distributions,
            in strides, from the anchor centres).
        loss_type (str): ``'giou'`` (1 - GIoU, default) or ``'iou_log'`` (-log IoU, FCOS).
        weighting (str): ``'teacher_score'`` (CrossKD: the teacher's max class score) or
            ``'score_gap'`` (BCKD: the largest class-score gap between teacher and student;
            needs ``student_cls``).
        normalizer (str), positive_levels_only (bool), num_classes (int, optional): as
            ``QualityFocalKDLoss``.

    The priors, strides, box coder and ``reg_max`` are the student head's
    (``configure_from_student``).

    Inputs: ``preds_S``, ``preds_T``: per-level box regressions; ``teacher_cls`` (and for
    ``'score_gap'`` ``student_cls``): per-level class logits; ``label_weights``, ``labels``,
    ``avg_factor``, ``bbox_targets`` as ``QualityFocalKDLoss``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 decode: str = 'deltas',
                 loss_type: str = 'giou',
                 weighting: str = 'teacher_score',
                 normalizer: str = 'avg_factor',
                 positive_levels_only: bool = False,
                 num_classes: Optional[int] = None):
        super().__init__(loss_weight, num_classes)
        for key, value, valid in (('decode', decode, DECODINGS), ('loss_type', loss_type,
                                                                  BOX_LOSSES),
                                  ('weighting', weighting, WEIGHTINGS), ('normalizer', normalizer,
                                                                         NORMALIZERS)):
            if value not in valid:
                raise ValueError(f'BoxKDLoss: {key} must be one of {valid}, got {value!r}')
        self.decode, self.loss_type, self.weighting = decode, loss_type, weighting
        self.normalizer = normalizer
        self.positive_levels_only = positive_levels_only
        self._head = None

    def configure_from_student(self, student) -> None:
        super().configure_from_student(student)
        head = getattr(student, 'bbox_head', None)
        need = {
            'deltas': ('prior_generator', 'bbox_coder'),
            'distances': ('prior_generator', ),
            'distribution': ('prior_generator', 'reg_max')
        }[self.decode]
        missing = [a for a in need if not hasattr(head, a)]
        if missing:
            raise ValueError(
                f"BoxKDLoss(decode={self.decode!r}): the student's head "
                f'({type(head).__name__}) has no {", ".join(missing)}; decode=\'deltas\' is for '
                "anchor heads with a bbox_coder, 'distances' for point heads (FCOS), "
                "'distribution' for GFL heads")
        self._head = [head]  # a reference, not a submodule

    def boxes(self, regs: Sequence[Tensor]) -> Tensor:
        """(N, M, 4) boxes from per-level regressions, as the student's head decodes them."""
        head = self._head[0]
        n = regs[0].size(0)
        sizes = [r.shape[-2:] for r in regs]
        priors = head.prior_generator.grid_priors(sizes, device=regs[0].device)
        out = []
        for lvl, (reg, prior) in enumerate(zip(regs, priors)):
            stride = float(head.prior_generator.strides[lvl][0])
            if self.decode == 'deltas':
                deltas = reg.permute(0, 2, 3, 1).reshape(n, -1, 4)
                anchors = prior[None].expand(n, -1, -1).reshape(-1, 4)
                boxes = head.bbox_coder.decode(anchors, deltas.reshape(-1, 4)).reshape(n, -1, 4)
            elif self.decode == 'distances':
                dist = reg.permute(0, 2, 3, 1).reshape(n, -1, 4)
                if getattr(head, 'norm_on_bbox', False):
                    dist = dist * stride
                pts = prior[:, :2][None].expand(n, -1, -1)
                boxes = distance2bbox(pts.reshape(-1, 2), dist.reshape(-1, 4)).reshape(n, -1, 4)
            else:
                bins = head.reg_max + 1
                p = reg.permute(0, 2, 3, 1).reshape(n, -1, 4, bins).softmax(-1)
                dist = p @ torch.linspace(0, head.reg_max, bins, device=reg.device) * stride
                ctr = ((prior[:, :2] + prior[:, 2:]) / 2)[None].expand(n, -1, -1)
                boxes = distance2bbox(ctr.reshape(-1, 2), dist.reshape(-1, 4)).reshape(n, -1, 4)
            out.append(boxes)
        return torch.cat(out, dim=1)

    def check_inputs(self,
                     preds_S=None,
                     preds_T=None,
                     teacher_cls=None,
                     student_cls=None,
                     **kwargs) -> None:
        self._check_levels(
            preds_S=preds_S, preds_T=preds_T, teacher_cls=teacher_cls, student_cls=student_cls)
        if self.weighting == 'score_gap' and teacher_cls is not None and student_cls is None \
                and preds_S is not None:
            raise ValueError("BoxKDLoss(weighting='score_gap') needs student_cls: map it to the "
                             "student's class logits")

    @float32_forward
    def forward(self,
                preds_S: Sequence[Tensor],
                preds_T: Sequence[Tensor],
                teacher_cls: Sequence[Tensor],
                student_cls: Optional[Sequence[Tensor]] = None,
                label_weights: Optional[Sequence[Tensor]] = None,
                labels: Optional[Sequence[Tensor]] = None,
                avg_factor: Optional[float] = None,
                bbox_targets: Optional[Sequence[Tensor]] = None) -> Tensor:
        self.check_inputs(preds_S, preds_T, teacher_cls, student_cls)
        if self._head is None:
            raise RuntimeError('BoxKDLoss needs the student head: it is set by DetDistill '
                               '(configure_from_student)')
        n = preds_S[0].size(0)
        k = self.num_classes or teacher_cls[0].size(1)
        b_s, b_t = self.boxes(preds_S), self.boxes([t.detach() for t in preds_T])
        t_score = flatten_levels(teacher_cls, k).detach().sigmoid()
        if self.weighting == 'teacher_score':
            v = t_score.amax(-1)
        else:
            s_score = flatten_levels(student_cls, k).detach().sigmoid()
            v = (t_score - s_score).abs().amax(-1)
        if v.shape != b_s.shape[:2]:
            raise ValueError(f'BoxKDLoss: {v.size(1)} scored locations, {b_s.size(1)} boxes: '
                             'the class and box maps must have the same priors per location')
        if label_weights is not None:
            v = v * flatten_targets(label_weights, n).to(v)
        flat_labels = None if labels is None else flatten_targets(labels, n)
        if self.positive_levels_only:
            v = v * positive_levels(flat_labels, level_index(preds_S, b_s.size(1)), k)
        mode = 'giou' if self.loss_type == 'giou' else 'iou'
        iou = bbox_overlaps(b_s, b_t.detach(), mode=mode, is_aligned=True, eps=1e-6)
        loss = 1 - iou if self.loss_type == 'giou' else -iou.clamp(min=1e-6).log()
        z = (
            centerness_normalizer(flat_labels, flatten_targets(bbox_targets, n, 4), k)
            if self.normalizer == 'centerness' else normalizer(avg_factor, loss.device))
        return self.loss_weight * (v * loss).sum() / z


@MODELS.register_module()
class CenternessKDLoss(_DenseKD):
    """CrossKD's centerness KD (ATSS): binary cross-entropy between the cross-head's
    centerness logits and the teacher's sigmoid centerness, at the student's positives, over
    their count (see the module docstring).

    Args:
        loss_weight (float): Defaults to 1.
        num_classes (int, optional): K (the background label), from the student's head.

    Inputs: ``preds_S``, ``preds_T``: per-level (N, A, H, W) centerness logits; ``labels``,
    ``avg_factor`` of the student's assignment.
    """

    def check_inputs(self, preds_S=None, preds_T=None, **kwargs) -> None:
        self._check_levels(preds_S=preds_S, preds_T=preds_T)

    @float32_forward
    def forward(self, preds_S: Sequence[Tensor], preds_T: Sequence[Tensor],
                labels: Sequence[Tensor], avg_factor: float) -> Tensor:
        self.check_inputs(preds_S, preds_T)
        n = preds_S[0].size(0)
        s, t = flatten_levels(preds_S, 1)[..., 0], flatten_levels(preds_T, 1)[..., 0].detach()
        lab = flatten_targets(labels, n)
        pos = (lab >= 0) & (lab < self.num_classes)
        loss = F.binary_cross_entropy_with_logits(s[pos], t[pos].sigmoid(), reduction='sum')
        return self.loss_weight * loss / normalizer(avg_factor, loss.device)


__all__: List[str] = ['QualityFocalKDLoss', 'DistributionKDLoss', 'BoxKDLoss', 'CenternessKDLoss']
