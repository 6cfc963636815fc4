"""Tensor helpers shared by the losses and connectors."""
from torch import Tensor


def feature_norm(feat: Tensor) -> Tensor:
    """PaddleDetection's ``feature_norm``: standardise each channel of an (N, C, H, W)
    feature over the batch and space (N*H*W values, not per image):
    ``(f - mean_c) / (std_c + 1e-6)`` with the unbiased std (the biased one for a single
    value, whose unbiased std is undefined)."""
    dims = (0, 2, 3)
    n = feat.numel() // feat.size(1)
    centered = feat - feat.mean(dim=dims, keepdim=True)
    # two-pass variance: torch.std over (0, 2, 3) is several times slower on CPU
    var = centered.pow(2).sum(dim=dims, keepdim=True) / (n - 1 if n > 1 else 1)
    return centered / (var.sqrt() + 1e-6)
