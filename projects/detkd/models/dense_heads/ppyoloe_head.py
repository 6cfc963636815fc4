"""PP-YOLOE's efficient task-aligned head, as PaddleDetection 2.6's ``PPYOLOEHead``."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.ops import batched_nms
from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps, scale_boxes
from mmdet.utils import reduce_mean
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData
from torch import Tensor

from ..layers import ConvNormAct
from ..task_modules.batch_assigners import BatchAssignResult


class ESEAttn(nn.Module):
    """The head's effective SE: ``conv(feat * sigmoid(fc(avg(feat))))``, with
    ``conv`` a 1x1 conv-norm-act."""

    def __init__(self, channels: int, norm_cfg: Dict, act_cfg: Dict) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)
        self.conv = ConvNormAct(channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, feat: Tensor, avg_feat: Tensor) -> Tensor:
        return self.conv(feat * torch.sigmoid(self.fc(avg_feat)))


def flatten_levels(maps: Sequence[Tensor], last: Optional[int] = None) -> Tensor:
    """(N, C, H, W) per level -> (N, sum HW, C), or (N, sum HW, C / last, last)."""
    out = torch.cat([m.flatten(2).transpose(1, 2) for m in maps], dim=1)
    return out if last is None else out.reshape(*out.shape[:2], -1, last)


def decode_distances(points: Tensor, dist_logits: Tensor) -> Tensor:
    """xyxy boxes from (..., 4, R) edge-distribution logits: the expected distance
    (over 0..R-1) per edge from ``points``, in the points' units."""
    proj = torch.arange(dist_logits.shape[-1], dtype=dist_logits.dtype, device=dist_logits.device)
    d = dist_logits.softmax(-1) @ proj
    return torch.cat([points - d[..., :2], points + d[..., 2:]], dim=-1)


def pad_gt(batch_gt_instances: Sequence[InstanceData], ref: Tensor):
    """Pad per-image GT into (B, n, 1) labels, (B, n, 4) boxes and a (B, n, 1)
    mask of real boxes, n the largest count in the batch (0 if no image has
    any)."""
    n = max([len(g) for g in batch_gt_instances] + [0])
    batch = len(batch_gt_instances)
    labels = ref.new_zeros((batch, n, 1), dtype=torch.long)
    bboxes = ref.new_zeros((batch, n, 4))
    mask = ref.new_zeros((batch, n, 1))
    for i, gt in enumerate(batch_gt_instances):
        k = len(gt)
        if k:
            labels[i, :k, 0] = gt.labels.long()
            bboxes[i, :k] = gt.bboxes if isinstance(gt.bboxes, Tensor) else gt.bboxes.tensor
            mask[i, :k] = 1
    return labels, bboxes, mask


@MODELS.register_module()
class PPYOLOEHead(BaseDenseHead):
    r"""The efficient task-aligned head (ET-head) of
    `PP-YOLOE <https://arxiv.org/abs/2203.16250>`_, as PaddleDetection 2.6's
    ``PPYOLOEHead`` with PP-YOLOE+'s settings.

    Per level (strides 8, 16, 32; Paddle runs them from 32 down)::

        a          = avg_pool(x)
        cls_logit  = pred_cls(stem_cls(x, a) + x)      (N, C, H, W)
        reg_logit  = pred_reg(stem_reg(x, a))          (N, 4 * (reg_max + 1), H, W)

    ``forward`` returns these raw logits, as mmdet's GFL head does. Boxes are
    distributions over 0..reg_max grid cells per edge (left, top, right,
    bottom from the cell centre), decoded by their expectation.

    Training (all in units of the level's stride, as Paddle)::

        static epochs (epoch < static_assigner_epoch): ATSS on 5-stride
            square anchors; class targets = IoU(pred box, GT) on positives
        then: task-aligned assignment on the predictions (topk 13, alpha 1,
            beta 6); class targets = normalised alignment metric
        S         = max(1, sum of class targets, averaged over processes)
        loss_cls  = sum VFL(p, t) / S,   VFL weight alpha p^gamma (1 - y) + t y
        loss_iou  = sum_pos w (1 - GIoU(box, GT)) / S,  w = positive's target sum
        loss_dfl  = sum_pos w mean_edges DFL / S
        weighted 1.0 / 2.5 / 0.5; ``bbox_l1`` (mean L1 on positives) is logged
        only, as Paddle's ``loss_l1``.

    A batch where some or all images have no GT trains (all-background class
    loss, zero box losses); Paddle's head crashes there.

    The epoch comes from MMEngine's message hub (``epoch``, 0-based like
    Paddle's ``epoch_id``). :meth:`assign` is the one place the assignment is
    computed, so that a distiller can substitute the teacher's.

    Parameter names mirror Paddle's (``stem_cls.{i}.fc``, ``stem_cls.{i}.conv``,
    ``pred_cls.{i}``, ``pred_reg.{i}``) with the level index reversed (Paddle's
    level 0 is stride 32). Paddle's fixed ``proj_conv`` (0..reg_max) is the expectation in
    :func:`decode_distances`.

    Args:
        num_classes (int): C.
        in_channels (Sequence[int]): Widths at strides 8, 16, 32 before
            ``width_mult``. Defaults to (192, 384, 768).
        width_mult (float): Width multiplier, as the neck's.
        strides (Sequence[int]): Defaults to (8, 16, 32).
        reg_max (int): Defaults to 16.
        grid_cell_scale (float): ATSS anchor size in strides. Defaults to 5.
        grid_cell_offset (float): Defaults to 0.5.
        static_assigner_epoch (int): Epochs of ATSS. Defaults to 30.
        static_assigner, assigner (dict): The two assigners.
        loss_weight (dict): ``cls``, ``iou``, ``dfl``. Defaults 1.0/2.5/0.5.
        vfl_alpha, vfl_gamma (float): Varifocal loss. Defaults 0.75, 2.0.
        test_cfg (dict): ``score_thr`` (0.01), ``nms_top_k`` (1000, per class,
            before NMS, as Paddle), ``nms`` (IoU 0.7), ``max_per_img`` (300).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int] = (192, 384, 768),
                 width_mult: float = 1.0,
                 strides: Sequence[int] = (8, 16, 32),
                 reg_max: int = 16,
                 grid_cell_scale: float = 5.0,
                 grid_cell_offset: float = 0.5,
                 static_assigner_epoch: int = 30,
                 static_assigner: Dict = dict(type='BatchATSSAssigner', topk=9),
                 assigner: Dict = dict(
                     type='BatchTaskAlignedAssigner', topk=13, alpha=1.0, beta=6.0),
                 loss_weight: Dict = dict(cls=1.0, iou=2.5, dfl=0.5),
                 vfl_alpha: float = 0.75,
                 vfl_gamma: float = 2.0,
                 norm_cfg: Dict = dict(type='BN', momentum=0.1, eps=1e-5),
                 act_cfg: Dict = dict(type='SiLU'),
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        if len(in_channels) != len(strides):
            raise ValueError(f'PPYOLOEHead: {len(in_channels)} in_channels for '
                             f'{len(strides)} strides')
        if set(loss_weight) != {'cls', 'iou', 'dfl'}:
            raise ValueError(f'PPYOLOEHead: loss_weight needs the keys cls, iou, dfl; got '
                             f'{sorted(loss_weight)}')
        self.num_classes = num_classes
        self.in_channels = [max(round(c * width_mult), 1) for c in in_channels]
        self.strides = list(strides)
        self.reg_max = reg_max
        self.grid_cell_scale = grid_cell_scale
        self.grid_cell_offset = grid_cell_offset
        self.static_assigner_epoch = static_assigner_epoch
        self.static_assigner = TASK_UTILS.build(dict(static_assigner, num_classes=num_classes))
        self.assigner = TASK_UTILS.build(dict(assigner, num_classes=num_classes))
        self.loss_weight = dict(loss_weight)
        self.vfl_alpha = vfl_alpha
        self.vfl_gamma = vfl_gamma
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg or dict(
            score_thr=0.01,
            nms_top_k=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            max_per_img=300)

        self.stem_cls = nn.ModuleList(ESEAttn(c, norm_cfg, act_cfg) for c in self.in_channels)
        self.stem_reg = nn.ModuleList(ESEAttn(c, norm_cfg, act_cfg) for c in self.in_channels)
        self.pred_cls = nn.ModuleList(
            nn.Conv2d(c, num_classes, 3, padding=1) for c in self.in_channels)
        self.pred_reg = nn.ModuleList(
            nn.Conv2d(c, 4 * (reg_max + 1), 3, padding=1) for c in self.in_channels)

    def init_weights(self) -> None:
        """Paddle's init: Kaiming-normal (fan_in) convs, SE ``fc`` normal
        (std 0.001), prediction convs zero with class bias for prior 0.01 and
        distribution bias 1."""
        super().init_weights()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for stem in [*self.stem_cls, *self.stem_reg]:
            nn.init.normal_(stem.fc.weight, std=0.001)
        for cls_, reg_ in zip(self.pred_cls, self.pred_reg):
            nn.init.zeros_(cls_.weight)
            nn.init.constant_(cls_.bias, -math.log((1 - 0.01) / 0.01))
            nn.init.zeros_(reg_.weight)
            nn.init.constant_(reg_.bias, 1.0)

    def forward(self, x: Sequence[Tensor]) -> Tuple[List[Tensor], List[Tensor]]:
        """Raw class logits (N, C, H, W) and distribution logits
        (N, 4 * (reg_max + 1), H, W) per level."""
        if len(x) != len(self.strides):
            raise ValueError(f'PPYOLOEHead expects {len(self.strides)} maps (strides '
                             f'{self.strides}), got {len(x)}')
        cls_scores, bbox_preds = [], []
        for i, feat in enumerate(x):
            avg = F.adaptive_avg_pool2d(feat, 1)
            cls_scores.append(self.pred_cls[i](self.stem_cls[i](feat, avg) + feat))
            bbox_preds.append(self.pred_reg[i](self.stem_reg[i](feat, avg)))
        return cls_scores, bbox_preds

    # ---- geometry -------------------------------------------------------------------------

    def grid_anchors(self, featmap_sizes: Sequence[Tuple[int, int]], device, dtype=torch.float32):
        """Cell centres ``(i + offset) * stride`` over the levels: square
        anchors of ``grid_cell_scale`` strides (L, 4), points (L, 2) in pixels,
        anchors per level, and the stride of each (L, 1)."""
        anchors, points, strides = [], [], []
        for (h, w), s in zip(featmap_sizes, self.strides):
            sy = (torch.arange(h, device=device, dtype=dtype) + self.grid_cell_offset) * s
            sx = (torch.arange(w, device=device, dtype=dtype) + self.grid_cell_offset) * s
            yy, xx = torch.meshgrid(sy, sx, indexing='ij')
            pts = torch.stack([xx, yy], dim=-1).reshape(-1, 2)
            half = self.grid_cell_scale * s * 0.5
            anchors.append(torch.cat([pts - half, pts + half], dim=-1))
            points.append(pts)
            strides.append(pts.new_full((len(pts), 1), s))
        return (torch.cat(anchors), torch.cat(points), [len(p)
                                                        for p in points], torch.cat(strides))

    def flatten(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor]):
        """(B, L, C) class logits and (B, L, 4, reg_max + 1) distribution
        logits over the levels."""
        return flatten_levels(cls_scores), flatten_levels(bbox_preds, self.reg_max + 1)

    def decode(self, points: Tensor, dist_logits: Tensor) -> Tensor:
        """xyxy boxes from (B, L, 4, reg_max + 1) logits: the expected
        distance per edge from ``points``, in the points' units."""
        return decode_distances(points, dist_logits)

    # ---- training -------------------------------------------------------------------------

    def current_epoch(self) -> int:
        return MessageHub.get_current_instance().get_info('epoch', 0)

    def assign(self, pred_scores: Tensor, pred_bboxes: Tensor, anchors: Tensor,
               anchor_points: Tensor, num_anchors_list: List[int], gt_labels: Tensor,
               gt_bboxes: Tensor, pad_gt_mask: Tensor) -> BatchAssignResult:
        """The assignment in pixels: ATSS before ``static_assigner_epoch``,
        then task-aligned. ``pred_*`` are detached probabilities and pixel
        boxes."""
        if self.current_epoch() < self.static_assigner_epoch:
            return self.static_assigner(anchors, num_anchors_list, gt_labels, gt_bboxes,
                                        pad_gt_mask, pred_bboxes)
        return self.assigner(pred_scores, pred_bboxes, anchor_points, gt_labels, gt_bboxes,
                             pad_gt_mask)

    def assign_for_student(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                           batch_data_samples) -> Optional[BatchAssignResult]:
        """The teacher's side of PP-YOLOE distillation: after the static epochs, its
        task-aligned assignment (through :meth:`assign`, where a delivery records it for
        the student); None before (the student assigns itself with ATSS, as Paddle). No
        loss is computed."""
        if self.current_epoch() < self.static_assigner_epoch:
            return None
        return self._assign_batch(cls_scores, bbox_preds,
                                  [s.gt_instances for s in batch_data_samples])[-1]

    def _assign_batch(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                      batch_gt_instances: List[InstanceData]):
        """Flattened logits, anchor points and strides, boxes decoded in stride units, and
        :meth:`assign` on the (detached) predictions and the padded GT."""
        cls_logits, dist_logits = self.flatten(cls_scores, bbox_preds)
        anchors, points, num_list, stride = self.grid_anchors([c.shape[-2:] for c in cls_scores],
                                                              cls_logits.device, cls_logits.dtype)
        points_s = points / stride
        pred_bboxes = self.decode(points_s, dist_logits)  # stride units
        gt_labels, gt_bboxes, pad_mask = pad_gt(batch_gt_instances, cls_logits)
        assigned = self.assign(cls_logits.sigmoid().detach(),
                               pred_bboxes.detach() * stride, anchors, points, num_list, gt_labels,
                               gt_bboxes, pad_mask)
        return cls_logits, dist_logits, pred_bboxes, points_s, stride, assigned

    def loss_by_feat(self,
                     cls_scores: List[Tensor],
                     bbox_preds: List[Tensor],
                     batch_gt_instances: List[InstanceData],
                     batch_img_metas: List[dict],
                     batch_gt_instances_ignore=None) -> Dict[str, Tensor]:
        return self.loss_from_assignment(
            *self._assign_batch(cls_scores, bbox_preds, batch_gt_instances))

    def loss_from_assignment(self, cls_logits: Tensor, dist_logits: Tensor, pred_bboxes: Tensor,
                             points_s: Tensor, stride: Tensor,
                             assigned: BatchAssignResult) -> Dict[str, Tensor]:
        """The three losses (Paddle's ``get_loss_from_assign``), in stride
        units."""
        target_scores = assigned.scores.to(cls_logits.dtype)
        one_hot = F.one_hot(assigned.labels, self.num_classes + 1)[..., :-1].to(cls_logits.dtype)
        p = cls_logits.sigmoid()
        weight = self.vfl_alpha * p.pow(self.vfl_gamma) * (1 - one_hot) + target_scores * one_hot
        loss_cls = (
            F.binary_cross_entropy_with_logits(cls_logits, target_scores, reduction='none') *
            weight).sum()
        scores_sum = reduce_mean(target_scores.sum().detach()).clamp(min=1.)

        pos = assigned.labels != self.num_classes
        if pos.any():
            assigned_bboxes = assigned.bboxes / stride
            box_pos = pred_bboxes[pos]
            target_pos = assigned_bboxes[pos]
            w = target_scores.sum(-1)[pos]
            giou = bbox_overlaps(box_pos, target_pos, mode='giou', is_aligned=True, eps=1e-10)
            loss_iou = ((1 - giou) * w).sum() / scores_sum
            points = points_s.expand(pos.shape[0], -1, -1)[pos]
            ltrb = torch.cat([points - target_pos[:, :2], target_pos[:, 2:] - points], dim=-1)
            loss_dfl = (self.dfl(dist_logits[pos], ltrb) * w).sum() / scores_sum
            bbox_l1 = F.l1_loss(box_pos, target_pos).detach()
        else:
            loss_iou = dist_logits.sum() * 0.
            loss_dfl = dist_logits.sum() * 0.
            bbox_l1 = dist_logits.new_zeros(())
        return dict(
            loss_cls=self.loss_weight['cls'] * loss_cls / scores_sum,
            loss_iou=self.loss_weight['iou'] * loss_iou,
            loss_dfl=self.loss_weight['dfl'] * loss_dfl,
            bbox_l1=bbox_l1)

    def dfl(self, dist_logits: Tensor, target: Tensor) -> Tensor:
        """Distribution focal loss (Li et al. 2020) of (n, 4, reg_max + 1)
        logits for (n, 4) distances, clipped to [0, reg_max - 0.01]; mean
        over the edges: (n,)."""
        target = target.clamp(0, self.reg_max - 0.01)
        left = target.floor().long()
        w_left = (left + 1).to(target.dtype) - target
        logits = dist_logits.reshape(-1, self.reg_max + 1)
        ce_l = F.cross_entropy(logits, left.reshape(-1), reduction='none')
        ce_r = F.cross_entropy(logits, (left + 1).reshape(-1), reduction='none')
        loss = ce_l * w_left.reshape(-1) + ce_r * (1 - w_left).reshape(-1)
        return loss.reshape(-1, 4).mean(-1)

    # ---- inference ------------------------------------------------------------------------

    def predict_by_feat(self,
                        cls_scores: List[Tensor],
                        bbox_preds: List[Tensor],
                        score_factors=None,
                        batch_img_metas: Optional[List[dict]] = None,
                        cfg: Optional[Dict] = None,
                        rescale: bool = False,
                        with_nms: bool = True) -> List[InstanceData]:
        """Decode and run Paddle's multi-class NMS: per class the scores above
        ``score_thr``, the ``nms_top_k`` best of each class, NMS at the IoU
        threshold, then the ``max_per_img`` best overall. Boxes are divided by
        the image's scale factor when ``rescale`` (not clipped, as Paddle)."""
        cfg = self.test_cfg if cfg is None else cfg
        cls_logits, dist_logits = self.flatten(cls_scores, bbox_preds)
        _, points, _, stride = self.grid_anchors([c.shape[-2:] for c in cls_scores],
                                                 cls_logits.device, cls_logits.dtype)
        bboxes = self.decode(points / stride, dist_logits) * stride
        scores = cls_logits.sigmoid()
        results = []
        for i in range(len(scores)):
            results.append(
                self._predict_single(scores[i], bboxes[i], batch_img_metas[i], cfg, rescale,
                                     with_nms))
        return results

    def _predict_single(self, scores: Tensor, bboxes: Tensor, img_meta: dict, cfg: Dict,
                        rescale: bool, with_nms: bool) -> InstanceData:
        if rescale:
            sf = img_meta['scale_factor']
            bboxes = scale_boxes(bboxes, [1 / s for s in sf])
        anchor_idx, labels = (scores > cfg.get('score_thr', 0.01)).nonzero(as_tuple=True)
        cand = scores[anchor_idx, labels]
        top_k = cfg.get('nms_top_k', -1)
        if top_k > 0 and len(cand):
            # keep the top_k best of each class: rank within class by score
            order = cand.argsort(descending=True, stable=True)
            by_class = labels[order].argsort(stable=True)
            grouped = order[by_class]
            counts = torch.bincount(labels[grouped], minlength=self.num_classes)
            starts = counts.cumsum(0) - counts
            rank = torch.arange(len(grouped), device=cand.device) - starts[labels[grouped]]
            keep = grouped[rank < top_k]
            anchor_idx, labels, cand = anchor_idx[keep], labels[keep], cand[keep]
        boxes = bboxes[anchor_idx]
        result = InstanceData()
        if with_nms and len(cand):
            dets, keep = batched_nms(boxes, cand, labels, cfg['nms'])
            keep = keep[:cfg.get('max_per_img', 300)]
            boxes, cand, labels = boxes[keep], cand[keep], labels[keep]
        result.bboxes = boxes
        result.scores = cand
        result.labels = labels
        return result
