"""LD: Localization Distillation for Dense Object Detection (Zheng et al., CVPR 2022).

Three losses on a GFL student taught by a GFL teacher, all computed on the student's own
ATSS assignment (the output of its ``GFLHead.get_targets``), level by level, and summed over
the FPN levels as mmdet sums a head's per-level losses:

- :class:`LDMainLoss`, "main LD": the teacher's box-edge distributions at the positives;
- :class:`LDVLRLoss`, LD on the "valuable localization region" (:func:`vlr_region`);
- :class:`LDClsKDLoss`, "main KD": the teacher's class logits at the positives.

Each is its own registered loss (its own line in the log, its own weight in a config).
:class:`LDKLLoss` is the KL kernel they share. All compute in float32 under mixed precision
(``float32_forward``: inputs cast, autocast off): a softmax at T = 10 over saturated logits
and KLs of nearly equal distributions are not safe in half precision. The semantics are those
of the authors' code (github.com/HikariTJU/LD, an mmdet 2.x fork:
``mmdet/models/dense_heads/ld_head.py``, ``ATSSAssigner.get_vlr_region`` in
``mmdet/core/bbox/assigners/atss_assigner.py``, ``mmdet/models/losses/kd_loss.py``), which
PaddleDetection 2.6 (``LDGFLHead`` in ``ppdet/modeling/heads/gfl_head.py``) copies; each class
says where they differ.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.models.losses.kd_loss import knowledge_distillation_kl_div_loss
from mmdet.structures.bbox import get_box_tensor
from mmrazor.registry import MODELS
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from ...models.task_modules.batch_assigners import atss_threshold
from ..ops import float32_forward
from .ld_inputs import check_ld_inputs

# mmdet's BboxOverlaps2D clamps unions (and the DIoU's enclosing diagonal) at this value.
_BOX_EPS = 1e-6
_DIOU_MODES = ('iof', 'iou')


def ld_kl_div(pred: Tensor,
              soft_label: Tensor,
              T: float,
              weight: Optional[Tensor] = None,
              reduction: str = 'mean',
              avg_factor: Optional[float] = None) -> Tensor:
    """``T^2 * mean_bins KL(softmax(soft_label/T) || softmax(pred/T))`` per row, then
    ``weight`` and mmdet's reduction rules; the soft label is detached.

    This is mmdet's ``knowledge_distillation_kl_div_loss`` (``mmdet/models/losses/
    kd_loss.py``, identical to the authors' and to Paddle's): ``F.kl_div(log_softmax(pred /
    T), softmax(soft_label / T), reduction='none').mean(1) * T * T``, wrapped by
    ``weighted_loss``, i.e. ``weight_reduce_loss(loss, weight, reduction, avg_factor)``.
    """
    return knowledge_distillation_kl_div_loss(
        pred, soft_label.detach(), weight, reduction=reduction, avg_factor=avg_factor, T=T)


@MODELS.register_module()
class LDKLLoss(nn.Module):
    """The KL divergence of LD and of its class KD, on (n, bins) logits.

    With ``p = softmax(soft_label / T)`` (the teacher, detached) and
    ``q = softmax(pred / T)`` (the student), per row i::

        l_i  = T^2 * (1 / bins) * sum_b p_ib * (log p_ib - log q_ib)
        loss = loss_weight * reduce(w_i * l_i)

    where ``reduce`` is mmdet's ``weight_reduce_loss``: ``'mean'`` with ``avg_factor`` is
    ``sum_i w_i l_i / (avg_factor + eps)`` (eps = float32's, mmdet 3.x; the authors'
    mmdet 2.x divides by ``avg_factor`` exactly), ``'mean'`` without it the mean over rows,
    ``'sum'`` the sum, ``'none'`` the (n,) values.

    The mean over the bins makes this ``1/bins`` of the true KL. It is the reference's
    reduction (``KnowledgeDistillationKLDivLoss`` of the authors, of mmdet and of Paddle
    alike) and the published loss weights (0.25 for LD with 17 bins, 10 for KD over the
    classes) were tuned with it, so it is kept. The computation is mmdet's own kernel,
    ``knowledge_distillation_kl_div_loss``, which is exactly this.

    Args:
        loss_weight (float): Multiplies the loss. Defaults to 1.0.
        T (float): Temperature. Defaults to 10 (LD's; the class KD uses 2).
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
    """

    def __init__(self, loss_weight: float = 1.0, T: float = 10, reduction: str = 'mean'):
        super().__init__()
        if T <= 0:
            raise ValueError(f'LDKLLoss: T must be > 0, got {T}')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError("LDKLLoss: reduction must be 'none', 'mean' or 'sum', got "
                             f'{reduction!r}')
        self.loss_weight = loss_weight
        self.T = T
        self.reduction = reduction

    @float32_forward
    def forward(self,
                pred: Tensor,
                soft_label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Args:
            pred (Tensor): (n, bins) student logits.
            soft_label (Tensor): (n, bins) teacher logits (detached here).
            weight (Tensor, optional): (n,) weight of each row.
            avg_factor (float, optional): divisor of the weighted sum (``'mean'`` only).
            reduction_override (str, optional): overrides ``reduction``.

        Returns:
            Tensor: the scalar loss, or (n,) with ``reduction='none'``.
        """
        if pred.dim() != 2 or pred.shape != soft_label.shape:
            raise ValueError('LDKLLoss expects student and teacher logits of the same '
                             f'(n, bins) shape, got {tuple(pred.shape)} and '
                             f'{tuple(soft_label.shape)}')
        reduction = reduction_override or self.reduction
        return self.loss_weight * ld_kl_div(pred, soft_label, self.T, weight, reduction,
                                            avg_factor)


def _positive_or_none(name: str, value, owner: str) -> Optional[int]:
    if value is not None and (not isinstance(value, int) or value < 1):
        raise ValueError(f'{owner}: {name} must be a positive int or None, got {value!r}')
    return value


def _pairwise_geometry(anchors: Tensor, gts: Tensor,
                       diou_mode: str) -> Tuple[Tensor, Tensor, Tensor]:
    """IoU, DIoU and centre distance of every anchor with every GT.

    anchors (N, A, 4) and gts (N, M, 4), xyxy; returns three (N, A, M) tensors, computed as
    mmdet's ``bbox_overlaps`` does (unions and squared diagonals clamped at 1e-6).
    """
    a = anchors[:, :, None, :]
    g = gts[:, None, :, :]
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_g = (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1])
    wh = (torch.minimum(a[..., 2:], g[..., 2:]) - torch.maximum(a[..., :2], g[..., :2]))
    inter = wh.clamp(min=0).prod(-1)
    iou = inter / (area_a + area_g - inter).clamp(min=_BOX_EPS)
    # the authors' 'diou' divides by the anchor's area (see LDVLRLoss)
    base = iou if diou_mode == 'iou' else inter / area_a.clamp(min=_BOX_EPS)
    enclose = (torch.maximum(a[..., 2:], g[..., 2:]) - torch.minimum(a[..., :2], g[..., :2]))
    diag2 = enclose.clamp(min=0).pow(2).sum(-1).clamp(min=_BOX_EPS)
    ctr_a = (a[..., :2] + a[..., 2:]) / 2
    ctr_g = (g[..., :2] + g[..., 2:]) / 2
    rho2 = (ctr_g - ctr_a).pow(2).sum(-1)
    diou = base - rho2 / diag2
    return iou, diou, rho2.sqrt()


@torch.no_grad()
def vlr_region(anchors: Tensor,
               num_level_anchors: Sequence[int],
               gt_bboxes: Tensor,
               gt_mask: Tensor,
               topk: int = 9,
               diou_mode: str = 'iof') -> Tensor:
    """The valuable localization region of LD, and its weight, for a batch.

    For each image and each GT g (as the authors' ``ATSSAssigner.get_vlr_region``)::

        C_g   = on each level, the min(topk, anchors of the level) anchors whose centres
                are nearest g's centre (ATSS's candidates)
        thr_g = mean + std (unbiased) of IoU(a, g) over a in C_g   (ATSS's threshold)
        R_g   = {a among ALL anchors of all levels: 0.25 thr_g <= DIoU(a, g) < thr_g}
        v(a)  = max over {g: a in R_g} of IoU(a, g), and 0 where a is in no R_g

    IoU is the plain IoU; DIoU is ``inter/area(anchor) - rho^2/c^2`` with
    ``diou_mode='iof'`` (what the authors' and Paddle's ``bbox_overlaps(mode='diou')``
    compute, see :class:`LDVLRLoss`) or ``IoU - rho^2/c^2`` with ``'iou'`` (the DIoU of
    Zheng et al., AAAI 2020, which the paper names); rho is the distance between the
    centres, c the diagonal of the smallest box enclosing both. ATSS positives are not
    excluded. A GT with fewer than two candidates (std undefined, NaN in the reference)
    has an empty region.

    Anchors with zero width or height take no part (neither candidate nor region): they are
    what mmdet's ``unmap`` leaves in ``get_targets``' anchors for anchors outside the image
    (invalid flags, or ``allowed_border``), which the authors' assigner never sees.

    Args:
        anchors (Tensor): (N, A, 4) xyxy anchors of every level, level after level (the
            levels of ``get_targets``' anchor list concatenated along dim 1).
        num_level_anchors (list[int]): anchors per level, summing to A.
        gt_bboxes (Tensor): (N, M, 4) xyxy GT boxes, padded to the largest count M.
        gt_mask (Tensor): (N, M) bool, True for a real GT, False for padding.
        topk (int): candidates per level, the student's ``assigner.topk``. Defaults to 9.
        diou_mode (str): ``'iof'`` (default, the authors') or ``'iou'``.

    Returns:
        Tensor: (N, A) v, the weight of each anchor's LD (0 outside the region).
    """
    if diou_mode not in _DIOU_MODES:
        raise ValueError(f"vlr_region: diou_mode must be 'iof' or 'iou', got {diou_mode!r}")
    if anchors.dim() != 3 or anchors.size(-1) != 4:
        raise ValueError(f'vlr_region: anchors must be (N, A, 4), got {tuple(anchors.shape)}')
    N, A, _ = anchors.shape
    if sum(num_level_anchors) != A:
        raise ValueError(f'vlr_region: num_level_anchors {list(num_level_anchors)} sums to '
                         f'{sum(num_level_anchors)}, anchors have {A}')
    if gt_bboxes.shape[:1] != (N, ) or gt_mask.shape != gt_bboxes.shape[:2]:
        raise ValueError(f'vlr_region: gt_bboxes {tuple(gt_bboxes.shape)} and gt_mask '
                         f'{tuple(gt_mask.shape)} do not fit {N} images')
    region = anchors.new_zeros((N, A))
    if gt_bboxes.size(1) == 0 or A == 0:
        return region

    gt_bboxes = gt_bboxes.to(anchors.dtype)
    valid = (anchors[..., 2] > anchors[..., 0]) & (anchors[..., 3] > anchors[..., 1])
    iou, diou, dist = _pairwise_geometry(anchors, gt_bboxes, diou_mode)
    dist = dist.masked_fill(~valid[..., None], float('inf'))

    # ATSS's candidates and threshold (BatchATSSAssigner's), on the valid anchors only;
    # every image and GT at once, (N, M, A)
    _, thr, count = atss_threshold(
        dist.transpose(1, 2), iou.transpose(1, 2), num_level_anchors, topk,
        valid[:, None, :].expand(-1, gt_bboxes.size(1), -1))
    thr, count = thr.transpose(1, 2), count[..., 0]  # (N, 1, M), (N, M)

    gt_ok = (gt_mask.bool() & (count >= 2))[:, None]
    inside = (diou < thr) & (diou >= 0.25 * thr) & gt_ok & valid[..., None]
    best = iou.masked_fill(~inside, float('-inf')).amax(dim=2)
    return torch.where(inside.any(dim=2), best, region)


class _LDTerm(nn.Module):
    """What the three LD terms share: their inputs, checks and per-level layout.

    Inputs (all three take the same; the wiring records them):

    - ``cls_scores``, ``bbox_preds``: the student's head outputs, the inputs of
      ``GFLHead.loss_by_feat``: lists over the L levels of (N, K, H_l, W_l) class logits
      and (N, 4*(reg_max+1), H_l, W_l) distribution logits (edges l, t, r, b, each
      reg_max+1 bins, as ``GFLHead`` reads them);
    - ``teacher_cls_scores``, ``teacher_bbox_preds``: the same from the teacher's
      ``GFLHead.forward``, same shapes (detached here);
    - ``targets``: the tuple the student's ``GFLHead.get_targets`` returns (mmdet 3.3):
      ``(anchor_list, labels_list, label_weights_list, bbox_targets_list,
      bbox_weights_list, avg_factor)``, the lists over levels of (N, A_l, 4) xyxy anchors
      (zero rows for anchors outside the image), (N, A_l) long labels (positives in
      [0, K), background K), (N, A_l) label weights (1 at positives and negatives, or
      ``train_cfg.pos_weight`` at positives if > 0, 0 at ignored anchors), (N, A_l, 4),
      (N, A_l, 4), and the positive count. GFL has one anchor per location, so
      A_l = H_l * W_l, in the row-major order of ``permute(0, 2, 3, 1)``;
    - ``batch_gt_instances``: the N ``InstanceData`` with ``bboxes`` (used by VLR only).

    Args:
        loss_weight (float): Multiplies the term.
        T (float): Temperature of the KL.
        num_classes (int, optional): K, the student head's ``num_classes`` (checked against
            both heads); None takes the student's channel count.
        reg_max (int): the heads' ``reg_max`` (checked against both). Defaults to 16.
    """
    # the terms that sum over the batch set it (LDMainLoss, LDVLRLoss): ``forward`` then
    # scales the term by ref_images_per_gpu / N
    ref_images_per_gpu: Optional[int] = None

    def __init__(self,
                 loss_weight: float,
                 T: float,
                 num_classes: Optional[int] = None,
                 reg_max: int = 16):
        super().__init__()
        name = type(self).__name__
        if T <= 0:
            raise ValueError(f'{name}: T must be > 0, got {T}')
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f'{name}: num_classes must be a positive int or None, got '
                             f'{num_classes!r}')
        if not isinstance(reg_max, int) or reg_max < 1:
            raise ValueError(f'{name}: reg_max must be a positive int, got {reg_max!r}')
        self.loss_weight = loss_weight
        self.T = T
        self.num_classes = num_classes
        self.reg_max = reg_max
        self.kl = LDKLLoss(T=T)  # the kernel the three terms share

    def check_inputs(self,
                     cls_scores: Optional[Sequence[Tensor]] = None,
                     bbox_preds: Optional[Sequence[Tensor]] = None,
                     teacher_cls_scores: Optional[Sequence[Tensor]] = None,
                     teacher_bbox_preds: Optional[Sequence[Tensor]] = None,
                     targets: Optional[Sequence] = None,
                     batch_gt_instances: Optional[Sequence] = None) -> None:
        """Raise ``ValueError`` naming the setting to change when the inputs do not fit
        (``ld_inputs.check_ld_inputs``); ``forward`` calls it, and ``DetDistill`` at build time
        with what a dry run records (any argument may be left out)."""
        check_ld_inputs(self, cls_scores, bbox_preds, teacher_cls_scores, teacher_bbox_preds,
                        targets, batch_gt_instances)

    @float32_forward
    def forward(self,
                cls_scores: Sequence[Tensor],
                bbox_preds: Sequence[Tensor],
                teacher_cls_scores: Sequence[Tensor],
                teacher_bbox_preds: Sequence[Tensor],
                targets: Sequence,
                batch_gt_instances: Optional[Sequence] = None) -> Tensor:
        """The scalar term of the batch: ``loss_weight`` times the sum over the levels of
        ``level_loss`` (the subclass's), on the checked inputs, the teacher detached."""
        self.check_inputs(cls_scores, bbox_preds, teacher_cls_scores, teacher_bbox_preds, targets,
                          batch_gt_instances)
        regions = self.regions(targets, batch_gt_instances)
        bins = self.reg_max + 1
        total = 0.
        for lvl, (s_cls, s_box, t_cls, t_box) in enumerate(
                zip(cls_scores, bbox_preds, teacher_cls_scores, teacher_bbox_preds)):
            N, K = s_cls.shape[:2]

            def flat(x, *tail):  # (N, C, H, W) -> (N, H*W, *tail), as GFLHead reads it
                return x.permute(0, 2, 3, 1).reshape(N, -1, *tail)

            total = total + self.level_loss(
                flat(s_cls, K), flat(s_box, 4, bins), flat(t_cls.detach(), K),
                flat(t_box.detach(), 4, bins), targets[1][lvl], targets[2][lvl],
                None if regions is None else regions[lvl])
        scale = 1.
        if self.ref_images_per_gpu is not None:
            scale = self.ref_images_per_gpu / cls_scores[0].size(0)
        return self.loss_weight * scale * total

    def regions(self, targets: Sequence,
                batch_gt_instances: Optional[Sequence]) -> Optional[List[Tensor]]:
        """Per level, an (N, A_l) weight of each location for ``level_loss``; None (the
        default) where the term lives on the positives alone."""
        return None

    def level_loss(self, s_cls: Tensor, s_box: Tensor, t_cls: Tensor, t_box: Tensor,
                   labels: Tensor, label_weights: Tensor, region: Optional[Tensor]) -> Tensor:
        """One level's term before ``loss_weight``: class logits (N, A, K), distributions
        (N, A, 4, bins) of the student and the (detached) teacher, labels and label weights
        (N, A) of the student's assignment, and ``regions``' weight of the level."""
        raise NotImplementedError

    @staticmethod
    def _positives(labels: Tensor, num_classes: int) -> Tensor:
        return (labels >= 0) & (labels < num_classes)


@MODELS.register_module()
class LDMainLoss(_LDTerm):
    """Main LD: the teacher's box-edge distributions at the student's positives.

    Per level, over the positives p of the whole batch (``labels`` in [0, K)) and the four
    edges e, with ``w_p = max_k sigmoid(student cls logit)`` (detached) and KL as
    :class:`LDKLLoss` (T = 10, mean over the reg_max+1 bins, times T^2)::

        L = loss_weight * sum_levels sum_{p, e} w_p * KL_T(t_pe || s_pe) / 4

    as the authors' ``LDHead.loss_single`` (``weight_targets = cls_score.detach()
    .sigmoid().max(dim=1)[0][pos_inds]``; ``self.loss_ld(pred_corners, soft_corners,
    weight=weight_targets[:, None].expand(-1, 4).reshape(-1), avg_factor=4.0)``), which
    mmdet 3.3's ``LDHead`` and Paddle's ``LDGFLHead`` keep. The divisor is 4, the number
    of edges, NOT the number of positives: the loss is a sum over positives and grows with
    the images per GPU (and with the objects per image), while GFL's own losses are means
    over the positives. So its 0.25 weight belongs to the seed's 2 images per GPU:
    ``ref_images_per_gpu=2`` multiplies the term by 2 / N for a batch of N images, which
    keeps the seed's strength against GFL's loss at any batch (objects per image still
    count: the mini dataset has about 3.4, COCO 7.3).

    Args:
        loss_weight (float): Defaults to 0.25 (the authors' ``loss_ld``).
        T (float): Defaults to 10.
        num_classes (int, optional), reg_max (int): see the inputs below.
        ref_images_per_gpu (int, optional): the images per GPU the weight was tuned at;
            None (default) keeps the authors' formula.

    Inputs of ``forward`` (all by name): ``cls_scores``, ``bbox_preds``,
    ``teacher_cls_scores``, ``teacher_bbox_preds``, ``targets`` and, unused here,
    ``batch_gt_instances``; their layout: see ``_LDTerm``. Returns the scalar loss
    (0 when no location is positive).
    """

    def __init__(self,
                 loss_weight: float = 0.25,
                 T: float = 10,
                 num_classes: Optional[int] = None,
                 reg_max: int = 16,
                 ref_images_per_gpu: Optional[int] = None):
        super().__init__(loss_weight, T, num_classes, reg_max)
        self.ref_images_per_gpu = _positive_or_none('ref_images_per_gpu', ref_images_per_gpu,
                                                    type(self).__name__)

    def level_loss(self, s_cls, s_box, t_cls, t_box, labels, label_weights, region):
        pos = self._positives(labels, s_cls.size(-1))
        w = s_cls.detach().sigmoid().amax(dim=-1)[pos]
        bins = s_box.size(-1)
        return self.kl(
            s_box[pos].reshape(-1, bins),
            t_box[pos].reshape(-1, bins),
            weight=w.repeat_interleave(4),
            avg_factor=4.0)


@MODELS.register_module()
class LDVLRLoss(_LDTerm):
    """LD on the valuable localization region (VLR).

    With ``v`` the region and its weights from :func:`vlr_region` (on the student's anchors
    and the GT), per level, over the anchors a with v_a > 0 in the whole batch and the four
    edges e, KL as :class:`LDKLLoss` (T = 10)::

        L = loss_weight * sum_levels sum_{a, e} v_a * KL_T(t_ae || s_ae) / 16

    Where the authors' code (``LDHead.loss_single`` and ``ATSSAssigner.get_vlr_region``)
    decides, this follows it:

    - the divisor is a constant 16 (``self.loss_ld_vlr(..., avg_factor=16.0)``): a sum over
      the region, growing with the batch as the main LD does (``ref_images_per_gpu`` as
      there);
    - "DIoU" is the authors' ``bbox_overlaps(bboxes, gt_bboxes, mode='diou')``, whose
      ``union = area1[..., None]`` for every mode but 'iou'/'giou'
      (``mmdet/core/bbox/iou_calculators/iou2d_calculator.py`` of their fork): the
      intersection over the ANCHOR's area, minus rho^2/c^2, not the DIoU of the paper.
      Paddle copies it (``ppdet/data/transform/atss_assigner.py``). ``diou_mode='iou'``
      gives the paper's DIoU instead;
    - the region spans every anchor of every level (``selectable_k =
      min(bboxes_per_level, bboxes_per_level)``), the threshold only the topk candidates'
      plain IoUs (``candidate_overlaps_t = overlaps[candidate_idxs_t, ...]``, ``.std(0)``,
      unbiased; Paddle ``ddof=1``);
    - ATSS positives are not excluded (``remain_inds = (vlr_region > 0)``, no label test);
      an anchor that is positive and in a region gets both the main and the VLR LD;
    - v is the largest plain IoU among the GTs whose region holds the anchor
      (``overlaps_inf[index] = overlaps...[index]``; ``max_overlaps = overlaps_inf.max``);
    - ignored GTs play no part (the seed's ATSS has ``ignore_iof_thr=-1``, which turns the
      authors' ignore branch off).

    Elsewhere: an image without GT has an empty region (the authors' ``get_vlr_region``
    then returns an ``AssignResult`` instead of the region, which their ``unmap`` cannot
    take; Paddle's returns a tuple); anchors outside the image (zero rows in ``targets``)
    are left out, as the authors' assigner never sees them (Paddle computes on every grid
    cell of the padded batch).

    Args:
        loss_weight (float): Defaults to 0.25 (the authors' ``loss_ld_vlr``).
        T (float): Defaults to 10.
        topk (int): ATSS candidates per level, the student's ``train_cfg.assigner.topk``.
            Defaults to 9.
        diou_mode (str): ``'iof'`` (default, the authors' and Paddle's) or ``'iou'``.
        num_classes (int, optional), reg_max (int), ref_images_per_gpu (int, optional): as
            ``LDMainLoss``.

    Inputs of ``forward`` as ``LDMainLoss``, ``batch_gt_instances`` required (``bboxes``,
    (n_i, 4) xyxy, a tensor or mmdet box type). Returns the scalar loss (0 without GT).
    """

    def __init__(self,
                 loss_weight: float = 0.25,
                 T: float = 10,
                 topk: int = 9,
                 diou_mode: str = 'iof',
                 num_classes: Optional[int] = None,
                 reg_max: int = 16,
                 ref_images_per_gpu: Optional[int] = None):
        super().__init__(loss_weight, T, num_classes, reg_max)
        self.ref_images_per_gpu = _positive_or_none('ref_images_per_gpu', ref_images_per_gpu,
                                                    type(self).__name__)
        if not isinstance(topk, int) or topk < 1:
            raise ValueError(f'LDVLRLoss: topk must be a positive int, got {topk!r}')
        if diou_mode not in _DIOU_MODES:
            raise ValueError(f"LDVLRLoss: diou_mode must be 'iof' or 'iou', got {diou_mode!r}")
        self.topk = topk
        self.diou_mode = diou_mode

    def regions(self, targets: Sequence, batch_gt_instances: Sequence) -> List[Tensor]:
        """v per level, (N, A_l) each, from the student's anchors and the GT."""
        if batch_gt_instances is None:
            raise ValueError('LDVLRLoss needs batch_gt_instances: map it to a record of the '
                             "student's GT (e.g. the batch_gt_instances input of "
                             'bbox_head.loss_by_feat)')
        anchor_list = list(targets[0])
        anchors = torch.cat(anchor_list, dim=1)
        boxes = [get_box_tensor(gt.bboxes).reshape(-1, 4).to(anchors) for gt in batch_gt_instances]
        counts = torch.tensor([len(b) for b in boxes], device=anchors.device)
        gt_bboxes = pad_sequence(boxes, batch_first=True)
        gt_mask = torch.arange(gt_bboxes.size(1), device=anchors.device) < counts[:, None]
        num_level = [a.size(1) for a in anchor_list]
        v = vlr_region(anchors, num_level, gt_bboxes, gt_mask, self.topk, self.diou_mode)
        return list(v.split(num_level, dim=1))

    def level_loss(self, s_cls, s_box, t_cls, t_box, labels, label_weights, region):
        keep = region > 0
        bins = s_box.size(-1)
        return self.kl(
            s_box[keep].reshape(-1, bins),
            t_box[keep].reshape(-1, bins),
            weight=region[keep].repeat_interleave(4),
            avg_factor=16.0)


@MODELS.register_module()
class LDClsKDLoss(_LDTerm):
    """Main KD: the teacher's class logits at the student's positives.

    The K sigmoid logits of a location are read as softmax logits (as the authors do); per
    level, with P_l the positives of the level in the whole batch, lw the label weights and
    KL as :class:`LDKLLoss` (T = 2, mean over the K classes, times T^2)::

        L = loss_weight * sum_levels sum_{p in P_l} lw_p * KL_T(t_p || s_p) / |P_l|

    as the authors' ``self.loss_kd(cls_score[pos_inds], soft_label[pos_inds],
    weight=label_weights[pos_inds], avg_factor=pos_inds.shape[0])``: the divisor is the
    level's own positive count on this GPU (not all-reduced, not the total over levels);
    the label weights are 1 unless ``train_cfg.pos_weight`` > 0. A level without positives
    adds 0 (mmdet's ``weight_reduce_loss`` divides 0 by ``0 + eps``; the authors skip it).
    The authors' ``loss_kd_neg`` (weight 0 in their code) and ``loss_im`` (weight 0 in
    the LD configs) add nothing and are not provided.

    Strength against the student's own loss: a mean over the positives, so independent of
    the images per GPU and of the image size; but the KL is averaged over the K classes.
    Where teacher and student disagree mostly on the GT class its gradient falls as 1/K,
    while GFL's quality focal loss (a sum over the classes) does not: at the mini dataset's
    7 classes the term weighs 80/7 times what it weighs on COCO. (Unlike PP-YOLOE's kd,
    whose inputs are probabilities, these are logits: the softmax at a positive is peaked,
    not uniform, and carries no second 1/K.) ``ref_num_classes=K_ref`` multiplies the term
    by K / K_ref, i.e. divides the KL's sum over the classes by K_ref, the class count the
    weight was tuned for (80 for the authors' 10).

    Args:
        loss_weight (float): Defaults to 10 (the authors' ``loss_kd``).
        T (float): Defaults to 2.
        num_classes (int, optional), reg_max (int): as ``LDMainLoss``.
        ref_num_classes (int, optional): see above. Defaults to None (the authors' formula).

    Inputs of ``forward`` as ``LDMainLoss`` (``batch_gt_instances`` unused). Returns the
    scalar loss (0 when no location is positive).
    """

    # DetDistill refuses a teacher of other classes at build
    compares_classes = True

    def __init__(self,
                 loss_weight: float = 10.,
                 T: float = 2,
                 num_classes: Optional[int] = None,
                 reg_max: int = 16,
                 ref_num_classes: Optional[int] = None):
        super().__init__(loss_weight, T, num_classes, reg_max)
        self.ref_num_classes = _positive_or_none('ref_num_classes', ref_num_classes,
                                                 type(self).__name__)

    def level_loss(self, s_cls, s_box, t_cls, t_box, labels, label_weights, region):
        pos = self._positives(labels, s_cls.size(-1))
        loss = self.kl(s_cls[pos], t_cls[pos], weight=label_weights[pos], avg_factor=pos.sum())
        if self.ref_num_classes is not None:
            loss = loss * (s_cls.size(-1) / self.ref_num_classes)
        return loss
