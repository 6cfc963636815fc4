"""Straightforward per-image, per-box FGD masks (test and benchmark reference).

Follows the authors' loop in ``FeatureLoss.forward`` (github.com/yzd-v/FGD,
``mmdet/distillation/losses/fgd.py``) line by line, with the start of a box
clamped at 0 as Paddle does and the slice bounds clipped to the grid
explicitly (Python would wrap negative bounds around).
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor


def reference_fgd_masks(bboxes_list: Sequence[Tensor],
                        scale_shapes: Sequence[Tuple[int, int]],
                        H: int,
                        W: int,
                        dtype: torch.dtype = torch.float32) -> Tuple[Tensor, Tensor]:
    """Masks (N, H, W) for boxes ``bboxes_list[i]`` (n_i, 4) xyxy in pixels of
    an image of size ``scale_shapes[i]`` = (h, w)."""
    N = len(bboxes_list)
    device = bboxes_list[0].device if N else 'cpu'
    mask_fg = torch.zeros(N, H, W, dtype=dtype, device=device)
    mask_bg = torch.ones(N, H, W, dtype=dtype, device=device)
    for i in range(N):
        boxes = bboxes_list[i]
        img_h, img_w = scale_shapes[i][:2]
        new_boxes = torch.ones_like(boxes)
        new_boxes[:, 0] = boxes[:, 0] / img_w * W
        new_boxes[:, 2] = boxes[:, 2] / img_w * W
        new_boxes[:, 1] = boxes[:, 1] / img_h * H
        new_boxes[:, 3] = boxes[:, 3] / img_h * H
        wmin = torch.floor(new_boxes[:, 0]).int().clamp(min=0)
        wmax = torch.ceil(new_boxes[:, 2]).int()
        hmin = torch.floor(new_boxes[:, 1]).int().clamp(min=0)
        hmax = torch.ceil(new_boxes[:, 3]).int()
        area = 1.0 / (hmax + 1 - hmin).to(dtype) / (wmax + 1 - wmin).to(dtype)
        for j in range(len(boxes)):
            r0, r1 = int(hmin[j]), min(int(hmax[j]) + 1, H)
            c0, c1 = int(wmin[j]), min(int(wmax[j]) + 1, W)
            if r1 <= r0 or c1 <= c0:
                continue  # the box covers no cell of the grid
            mask_fg[i, r0:r1, c0:c1] = torch.maximum(mask_fg[i, r0:r1, c0:c1], area[j])
        mask_bg[i] = torch.where(mask_fg[i] > 0, 0.0, 1.0)
        if torch.sum(mask_bg[i]):
            mask_bg[i] /= torch.sum(mask_bg[i])
    return mask_fg, mask_bg
