"""FGD: Focal and Global Knowledge Distillation for Detectors (CVPR 2022)."""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.structures.bbox import get_box_tensor
from mmengine.model import constant_init, kaiming_init
from mmrazor.registry import MODELS
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from ..ops import feature_norm, float32_forward

# Largest (N, boxes, H, W) intermediate built at once by ``build_fgd_masks``;
# more boxes are processed in chunks (2**24 float32 elements = 64 MiB).
_MASK_CHUNK_ELEMS = 2**24


def build_fgd_masks(bboxes: Sequence[Tensor], scale_shapes: Sequence[Tuple[int, int]], H: int,
                    W: int, dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
    """Foreground and background masks of FGD, for a whole batch at once.

    Args:
        bboxes (list[Tensor]): N tensors (n_i, 4), xyxy boxes in pixels.
        scale_shapes (list[tuple]): N (h, w), the frame in pixels that is
            mapped onto the (H, W) feature grid.
        H, W (int): feature grid size.
        dtype (torch.dtype): dtype of the masks.

    Returns:
        tuple[Tensor, Tensor]: ``mask_fg`` and ``mask_bg``, both (N, H, W).
        A box covers the grid rows ``floor(y1') .. ceil(y2')`` and columns
        ``floor(x1') .. ceil(x2')`` (ends inclusive, clipped to the grid, start
        clamped at 0) where ``x' = x / w * W``, ``y' = y / h * H``, with value
        ``1 / (rows * cols)`` counted from the unclipped end, as the reference
        code does; overlapping boxes keep the largest value. ``mask_bg`` is 1
        where no box is, divided by its sum per image (all zero if the
        foreground covers the whole grid). Boxes are only looped over in
        chunks when N * M * H * W exceeds ``_MASK_CHUNK_ELEMS``.
    """
    # (N, M, 4); a padding box of -inf covers no cell (and gets a finite
    # value below), so no separate validity mask is needed.
    boxes = pad_sequence(list(bboxes), batch_first=True, padding_value=-math.inf)
    N, M = boxes.shape[:2]
    # x / w * W and y / h * H, in the reference's order of operations.
    scale = boxes.new_tensor([[w, h, w, h] for h, w in scale_shapes])
    grid = boxes.new_tensor([W, H, W, H])
    xyxy = boxes / scale[:, None] * grid
    lo = xyxy[..., :2].floor().clamp(min=0)  # (wmin, hmin)
    hi = xyxy[..., 2:].ceil()  # (wmax, hmax), not clipped to the grid
    # Columns and rows counted from the unclipped end, as the reference does;
    # clamp: a box that covers no cell (inverted, outside) gets a finite value.
    num = (hi + 1 - lo).clamp(min=1).to(dtype)
    area_recip = 1.0 / num[..., 1] / num[..., 0]  # (N, M)

    # cover[n, m, 0 or 1, i]: grid column or row i lies within box m.
    idx = torch.arange(max(H, W), device=boxes.device, dtype=boxes.dtype)
    cover = ((idx >= lo[..., None]) & (idx <= hi[..., None])).to(dtype)
    cols = cover[..., 0, :W]  # (N, M, W)
    rows_val = cover[..., 1, :H] * area_recip[..., None]  # (N, M, H)

    # fg[n, h, w] = max_m rows_val[n, m, h] * cols[n, m, w]; usually one chunk.
    chunk = max(1, _MASK_CHUNK_ELEMS // max(1, N * H * W))
    mask_fg = boxes.new_zeros((N, H, W), dtype=dtype)
    for s in range(0, M, chunk):  # no box at all: no iteration
        paint = rows_val[:, s:s + chunk, :, None] * cols[:, s:s + chunk, None]
        mask_fg = torch.maximum(mask_fg, paint.amax(dim=1))

    mask_bg = (mask_fg == 0).to(dtype)
    bg_sum = mask_bg.sum(dim=(1, 2), keepdim=True)
    mask_bg = mask_bg / bg_sum.clamp(min=1)  # all-foreground image: stays 0
    return mask_fg, mask_bg


@MODELS.register_module()
class FGDLoss(nn.Module):
    """PyTorch version of `Focal and Global Knowledge Distillation for
    Detectors <https://arxiv.org/abs/2111.11837>`_ (Yang et al., CVPR 2022).

    One instance distils one FPN level. With ``f`` = feature (student after
    the 1x1 ``align`` conv), ``T`` = ``temp``, and for teacher (t) and
    student (s)::

        A_S = H*W * softmax_hw(mean_c |f| / T)      # spatial attention (N,H,W)
        A_C = C   * softmax_c (mean_hw |f| / T)     # channel attention (N,C)
        M   = 1/(h_box*w_box) inside GT boxes (max where they overlap), else 0
        B   = (M == 0) / sum(M == 0)                # per image
        L_fg   = sum (M * A_S^t * A_C^t) * (f_s - f_t)^2 / N
        L_bg   = sum (B * A_S^t * A_C^t) * (f_s - f_t)^2 / N
        L_at   = (sum |A_C^s - A_C^t| + sum |A_S^s - A_S^t|) / N
        L_glb  = sum (R_s(f_s) - R_t(f_t))^2 / N,   R(f) = f + GcBlock(f)
        loss = loss_weight * (alpha*L_fg + beta*L_bg + gamma*L_at
                              + lambda*L_glb)

    ``R_s`` and ``R_t`` are two separately trained GcBlocks (softmax spatial
    pooling with ``conv_mask`` then Conv1x1 C->C/2, LayerNorm, ReLU, Conv1x1
    C/2->C). Parameter names and initialisation follow the authors'
    ``mmdet/distillation/losses/fgd.py`` (github.com/yzd-v/FGD), so its
    weights load as they are. The mask is built for the whole batch at once
    (no loop over boxes or images), see :func:`build_fgd_masks`.

    Under mixed precision it computes in float32 (``float32_forward``: inputs
    cast, autocast off, its own convs included): the per-channel variance of
    ``normalize`` and the softmax attentions over H*W are where float16
    overflows and bfloat16 loses its digits (FGD going NaN under AMP:
    PaddleDetection #8395).

    Differences with PaddleDetection's ``FGDFeatureLoss``
    (``ppdet/slim/distill_loss.py``), where this class follows the authors:

    - ``normalize`` exists only in Paddle (its PP-YOLOE distillation sets it):
      each channel is standardised over the batch and space (N*H*W values,
      not per image), ``(f - mean) / (std + 1e-6)`` with the unbiased std,
      after ``align``. ``normalize=True`` does exactly this.
    - Paddle drops the images without GT from the batch before all four terms
      (and divides by the number of images left); the authors, and this
      class, keep them (empty foreground, whole-image background). Paddle's
      PP-YOLOE passes zero-padded GT tensors, so it keeps them too.
    - Paddle skips boxes whose coordinates sum to 0 (its padding); here every
      given box is drawn, as the authors do.
    - Paddle clamps the first row/column of a box at 0; the authors do not
      (a negative slice start counts from the end, so such a box mostly
      paints nothing). Neither clips ends: a box wholly above or left of the
      image has a negative end, which paints the wrong cells. Here starts
      are clamped at 0 (as Paddle) and ends clipped to the grid; the
      ``1/area`` value is counted from the unclipped end in all three.
    - Paddle initialises ``align`` and ``conv_mask`` KaimingUniform and *both*
      convs of the GcBlocks to zero (which leaves them a learnable bias
      only); the authors (and this class): default ``align`` and first conv,
      ``kaiming_init(conv_mask, mode='fan_in')``, last conv zero.
    - Paddle multiplies by ``loss_weight``; the authors have none (1.0).

    Args:
        student_channels (int): Channels of the student feature.
        teacher_channels (int): Channels of the teacher feature.
        temp (float): Temperature of the attentions. Defaults to 0.5.
        alpha_fgd (float): Weight of the foreground loss. Defaults to 0.001.
        beta_fgd (float): Weight of the background loss. Defaults to 0.0005.
        gamma_fgd (float): Weight of the attention loss. Defaults to 0.001.
        lambda_fgd (float): Weight of the global loss. Defaults to 0.000005.
        normalize (bool): Standardise both features per channel first, as
            Paddle does (see above). Defaults to False.
        loss_weight (float): Weight of the whole loss. Defaults to 1.0.
        train_own_params (bool): Train this loss's own modules (the align
            conv and the two global context blocks), as the authors do.
            Defaults to True. PaddleDetection never trains them (they are not
            in its optimizer: a random align conv, context blocks whose last
            conv stays zero); False reproduces that (``requires_grad`` off).
        box_scale (str): How GT boxes (resized-image pixels) are mapped onto
            the feature grid. ``'img_shape'`` (default, the authors' and
            Paddle's choice): ``x / img_w * W`` with the unpadded image size
            ``img_shape``; in a batch padded to a larger ``batch_input_shape``
            this stretches the boxes of the smaller images over the padding.
            ``'pad'``: ``x / pad_w * W`` with ``batch_input_shape``, the
            geometrically right mapping. Both agree when nothing is padded.
        ref_input_size (tuple[int, int], optional): ``(h, w)``: the loss is
            multiplied by ``h * w / (H_in * W_in)`` for a batch input of
            ``batch_input_shape`` (H_in, W_in), as the authors' YOLOX branch
            divides it by the random resize's scales (its terms sum over the
            feature maps, which grow with the input; YOLOX trains at 480-800
            for a 640 reference). None (default): no such factor.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 temp: float = 0.5,
                 alpha_fgd: float = 0.001,
                 beta_fgd: float = 0.0005,
                 gamma_fgd: float = 0.001,
                 lambda_fgd: float = 0.000005,
                 normalize: bool = False,
                 loss_weight: float = 1.0,
                 box_scale: str = 'img_shape',
                 train_own_params: bool = True,
                 ref_input_size: Optional[Tuple[int, int]] = None):
        super().__init__()
        for name, value in (('student_channels', student_channels), ('teacher_channels',
                                                                     teacher_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'FGDLoss: {name} must be a positive int, '
                                 f'got {value!r}')
        if teacher_channels < 2:
            raise ValueError('FGDLoss: teacher_channels must be >= 2 (the '
                             'global block has teacher_channels // 2 '
                             f'channels), got {teacher_channels}')
        if temp <= 0:
            raise ValueError(f'FGDLoss: temp must be > 0, got {temp}')
        if box_scale not in ('img_shape', 'pad'):
            raise ValueError("FGDLoss: box_scale must be 'img_shape' or "
                             f"'pad', got {box_scale!r}")
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.temp = temp
        self.alpha_fgd = alpha_fgd
        self.beta_fgd = beta_fgd
        self.gamma_fgd = gamma_fgd
        self.lambda_fgd = lambda_fgd
        self.normalize = normalize
        self.loss_weight = loss_weight
        self.box_scale = box_scale
        if ref_input_size is not None and (len(ref_input_size) != 2 or min(ref_input_size) <= 0):
            raise ValueError('FGDLoss: ref_input_size is an (h, w) size, got '
                             f'{ref_input_size!r}')
        self.ref_input_size = ref_input_size

        C = teacher_channels
        if student_channels != teacher_channels:
            self.align = nn.Conv2d(student_channels, C, kernel_size=1)
        else:
            self.align = None
        self.conv_mask_s = nn.Conv2d(C, 1, kernel_size=1)
        self.conv_mask_t = nn.Conv2d(C, 1, kernel_size=1)
        self.channel_add_conv_s = self._channel_add_conv(C)
        self.channel_add_conv_t = self._channel_add_conv(C)
        self.init_weights()
        self.train_own_params = train_own_params
        if not train_own_params:
            self.requires_grad_(False)

    @staticmethod
    def _channel_add_conv(C: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(C, C // 2, kernel_size=1), nn.LayerNorm([C // 2, 1, 1]),
            nn.ReLU(inplace=True), nn.Conv2d(C // 2, C, kernel_size=1))

    def init_weights(self) -> None:
        """As the authors: kaiming ``conv_mask``, zero last GcBlock conv."""
        kaiming_init(self.conv_mask_s, mode='fan_in')
        kaiming_init(self.conv_mask_t, mode='fan_in')
        constant_init(self.channel_add_conv_s[-1], val=0)
        constant_init(self.channel_add_conv_t[-1], val=0)

    @float32_forward
    def forward(self, preds_S: Tensor, preds_T: Tensor, data_samples: Sequence) -> Tensor:
        """Forward computation.

        Args:
            preds_S (Tensor): (N, student_channels, H, W) student feature.
            preds_T (Tensor): (N, teacher_channels, H, W) teacher feature
                (detached here).
            data_samples (list[DetDataSample]): the student batch; uses
                ``gt_instances.bboxes`` and ``metainfo['img_shape']`` (or
                ``metainfo['batch_input_shape']`` with ``box_scale='pad'``).

        Returns:
            Tensor: the scalar loss.
        """
        self.check_inputs(preds_S, preds_T, data_samples)
        preds_T = preds_T.detach()
        if self.align is not None:
            preds_S = self.align(preds_S)
        if self.normalize:
            preds_S = feature_norm(preds_S)
            preds_T = feature_norm(preds_T)

        N, _, H, W = preds_S.shape
        S_att_t, C_att_t = self.get_attention(preds_T, self.temp)
        S_att_s, C_att_s = self.get_attention(preds_S, self.temp)

        mask_fg, mask_bg = self.build_masks(data_samples, H, W, preds_S.device, S_att_t.dtype)

        fg_loss, bg_loss = self.get_fea_loss(preds_S, preds_T, mask_fg, mask_bg, C_att_t, S_att_t)
        mask_loss = self.get_mask_loss(C_att_s, C_att_t, S_att_s, S_att_t)
        rela_loss = self.get_rela_loss(preds_S, preds_T)
        loss = self.alpha_fgd * fg_loss + self.beta_fgd * bg_loss \
            + self.gamma_fgd * mask_loss + self.lambda_fgd * rela_loss
        if self.ref_input_size is not None:
            h, w = data_samples[0].metainfo['batch_input_shape']
            loss = loss * (self.ref_input_size[0] * self.ref_input_size[1] / (h * w))
        return self.loss_weight * loss

    def build_masks(self, data_samples: Sequence, H: int, W: int, device: torch.device,
                    dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
        """Foreground and background masks (N, H, W) of the batch's GT on an
        (H, W) feature grid, boxes mapped as ``box_scale`` says."""
        bboxes, scale_shapes = self._gather_boxes(data_samples, device)
        return build_fgd_masks(bboxes, scale_shapes, H, W, dtype)

    def check_inputs(self,
                     preds_S: Tensor,
                     preds_T: Tensor,
                     data_samples: Optional[Sequence] = None) -> None:
        """Raise ``ValueError`` saying which setting to change when the features do not fit
        this loss (layout, declared channels, sizes). ``forward`` calls it; so does
        ``DetDistill`` at build time, on what the recorders give in a dry run (without
        ``data_samples``, which only training records)."""
        if preds_S.dim() != 4 or preds_T.dim() != 4:
            raise ValueError('FGDLoss expects (N, C, H, W) features, got '
                             f'student {tuple(preds_S.shape)} and teacher '
                             f'{tuple(preds_T.shape)}')
        for who, pred, expected, key in (('student', preds_S, self.student_channels,
                                          'student_channels'),
                                         ('teacher', preds_T, self.teacher_channels,
                                          'teacher_channels')):
            if pred.size(1) != expected:
                raise ValueError(f'FGDLoss expected {expected} channels for the {who} '
                                 f'feature ({key}={expected}) but got {pred.size(1)} '
                                 f'(shape {tuple(pred.shape)}); set {key}={pred.size(1)} '
                                 'in this loss config, or connect the right '
                                 f'{who} recorder/level')
        if preds_S.shape[0] != preds_T.shape[0] or \
                preds_S.shape[-2:] != preds_T.shape[-2:]:
            raise ValueError('FGDLoss: student and teacher features differ in batch or '
                             f'spatial size: {tuple(preds_S.shape)} vs '
                             f'{tuple(preds_T.shape)}')
        if data_samples is not None and len(data_samples) != preds_S.size(0):
            raise ValueError(f'FGDLoss: got {len(data_samples)} data samples '
                             f'for a batch of {preds_S.size(0)} features')

    def _gather_boxes(self, data_samples: Sequence,
                      device: torch.device) -> Tuple[List[Tensor], List[Tuple[int, int]]]:
        """GT boxes (n_i, 4) and the (h, w) they are scaled by, per image."""
        key = 'img_shape' if self.box_scale == 'img_shape' \
            else 'batch_input_shape'
        if any(key not in ds.metainfo for ds in data_samples):
            raise KeyError(f"FGDLoss(box_scale='{self.box_scale}') needs "
                           f"metainfo['{key}'] in every data sample")
        bboxes = [
            get_box_tensor(ds.gt_instances.bboxes).reshape(-1, 4).to(device) for ds in data_samples
        ]
        return bboxes, [tuple(ds.metainfo[key][:2]) for ds in data_samples]

    @staticmethod
    def get_attention(preds: Tensor, temp: float) -> Tuple[Tensor, Tensor]:
        """Spatial (N, H, W) and channel (N, C) attention."""
        N, C, H, W = preds.shape
        value = preds.abs()
        fea_map = value.mean(dim=1).reshape(N, -1)
        S_attention = (H * W * F.softmax(fea_map / temp, dim=1)).reshape(N, H, W)
        channel_map = value.mean(dim=(2, 3))
        C_attention = C * F.softmax(channel_map / temp, dim=1)
        return S_attention, C_attention

    @staticmethod
    def get_fea_loss(preds_S: Tensor, preds_T: Tensor, mask_fg: Tensor, mask_bg: Tensor,
                     C_t: Tensor, S_t: Tensor) -> Tuple[Tensor, Tensor]:
        """Focal feature losses; sqrt(M)*sqrt(A) as in the authors' code."""
        # The authors' sum((s*a*sqrt(m) - t*a*sqrt(m))^2) is sum(m * (a * (s - t))^2): the
        # squared difference is summed over channels once and weighted by either mask.
        N = preds_S.size(0)
        att = S_t.sqrt()[:, None] * C_t.sqrt()[:, :, None, None]
        diff2 = ((preds_S - preds_T) * att).pow(2).sum(dim=1)  # (N, H, W)
        fg_loss = (diff2 * mask_fg).sum() / N
        bg_loss = (diff2 * mask_bg).sum() / N
        return fg_loss, bg_loss

    @staticmethod
    def get_mask_loss(C_s: Tensor, C_t: Tensor, S_s: Tensor, S_t: Tensor) -> Tensor:
        """L1 between the student and teacher attentions."""
        N = C_s.size(0)
        return ((C_s - C_t).abs().sum() + (S_s - S_t).abs().sum()) / N

    def spatial_pool(self, x: Tensor, conv_mask: nn.Module) -> Tensor:
        """GcBlock context: softmax(conv_mask(x))-weighted sum over H*W."""
        N, C, H, W = x.shape
        context_mask = F.softmax(conv_mask(x).reshape(N, H * W), dim=1)
        context = torch.bmm(x.reshape(N, C, H * W), context_mask[..., None])
        return context.reshape(N, C, 1, 1)

    def get_rela_loss(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Global relation loss between the two GcBlock outputs."""
        N = preds_S.size(0)
        if not self.train_own_params and self._context_is_zero():
            # untrained blocks whose last conv is zero (Paddle's case) add nothing: skip them
            return F.mse_loss(preds_S, preds_T, reduction='sum') / N
        out_s = preds_S + self.channel_add_conv_s(self.spatial_pool(preds_S, self.conv_mask_s))
        out_t = preds_T + self.channel_add_conv_t(self.spatial_pool(preds_T, self.conv_mask_t))
        return F.mse_loss(out_s, out_t, reduction='sum') / N

    def _context_is_zero(self) -> bool:
        last = (self.channel_add_conv_s[-1], self.channel_add_conv_t[-1])
        return not any(p.any() for m in last for p in m.parameters())
