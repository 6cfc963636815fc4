"""Tensor helpers shared by the losses and connectors."""
import contextlib
import functools

import torch
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


def to_float32(data):
    """Half-precision floating tensors in ``data`` (nested tuples, lists, dicts, NamedTuples)
    cast to float32; everything else as it is."""
    if isinstance(data, Tensor):
        return data.float() if data.dtype in (torch.float16, torch.bfloat16) else data
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return type(data)(*(to_float32(x) for x in data))
    if isinstance(data, (list, tuple)):
        return type(data)(to_float32(x) for x in data)
    if isinstance(data, dict):
        return {k: to_float32(v) for k, v in data.items()}
    return data


@contextlib.contextmanager
def autocast_off():
    """Autocast (mixed precision) off on the CPU and, where there is one, on the GPU."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.autocast('cpu', enabled=False))
        if torch.cuda.is_available():
            stack.enter_context(torch.autocast('cuda', enabled=False))
        yield


def float32_forward(forward):
    """Decorate a loss's ``forward`` to compute in float32 under mixed precision: its
    half-precision tensor arguments are cast to float32 and autocast is off inside (the
    loss's own modules, e.g. FGD's convs, run in float32 too). Without autocast and with
    float32 inputs it changes nothing."""

    @functools.wraps(forward)
    def wrapper(self, *args, **kwargs):
        with autocast_off():
            return forward(self, *to_float32(args), **to_float32(kwargs))

    return wrapper
