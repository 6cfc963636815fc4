"""Layers shared by the Paddle-laid-out models."""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm


class ConvNormAct(nn.Module):
    """Conv (no bias) -> norm -> activation, named ``conv``, ``bn`` (the norm's
    abbreviation: ``gn`` for GroupNorm) and ``act``.

    Not mmcv's ``ConvModule``: that one re-initialises its conv (Kaiming
    *fan_out*) in its own ``init_weights``, which mmengine runs after the
    backbone's ``init_cfg``. Paddle initialises with Kaiming *fan_in*, and for a
    depthwise 3x3 conv fan_out is 9*C instead of 9, which starts those convs
    near zero when training from scratch.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 groups: int = 1,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False)
        self.norm_name, norm = build_norm_layer(norm_cfg, out_channels)
        self.add_module(self.norm_name, norm)
        self.act = build_activation_layer(act_cfg) if act_cfg else None

    def forward(self, x: Tensor) -> Tensor:
        x = getattr(self, self.norm_name)(self.conv(x))
        return self.act(x) if self.act is not None else x


class RepVggBlock(nn.Module):
    """RepVGG block as PP-YOLOE's: ``act(conv1(x) + alpha * conv2(x))``, a 3x3
    and a 1x1 conv-norm (no activation each); ``alpha`` is the learnable
    scalar of PP-YOLOE+ (``use_alpha``), absent (1) otherwise. Training-time
    form only: fusing into one 3x3 conv for deployment is left to export."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Optional[Dict] = dict(type='SiLU'),
                 use_alpha: bool = False) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(in_channels, out_channels, 3, norm_cfg=norm_cfg)
        self.conv2 = ConvNormAct(in_channels, out_channels, 1, norm_cfg=norm_cfg)
        self.act = build_activation_layer(act_cfg) if act_cfg else nn.Identity()
        self.alpha = nn.Parameter(torch.ones(1)) if use_alpha else None

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv2(x)
        if self.alpha is not None:
            y = self.alpha * y
        return self.act(self.conv1(x) + y)


class BasicBlock(nn.Module):
    """PP-YOLOE's residual block: a 3x3 conv-norm-act then a
    :class:`RepVggBlock`, plus the input when ``shortcut``."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Optional[Dict] = dict(type='SiLU'),
                 shortcut: bool = True,
                 use_alpha: bool = False) -> None:
        super().__init__()
        assert in_channels == out_channels, 'BasicBlock keeps the width'
        self.conv1 = ConvNormAct(in_channels, out_channels, 3, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = RepVggBlock(out_channels, out_channels, norm_cfg, act_cfg, use_alpha)
        self.shortcut = shortcut

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv2(self.conv1(x))
        return x + y if self.shortcut else y


class EffectiveSELayer(nn.Module):
    """Effective squeeze-excitation (CenterMask, Lee & Park 2020): one 1x1 conv
    (with bias) on the global average, a hard sigmoid, a channel-wise scale."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)
        self.act = nn.Hardsigmoid()

    def forward(self, x: Tensor) -> Tensor:
        return x * self.act(self.fc(x.mean((2, 3), keepdim=True)))


def paddle_init_cfg() -> list:
    """Paddle's default init as an mmengine ``init_cfg``: Kaiming-normal (fan_in) convs, unit
    norm weights."""
    return [
        dict(
            type='Kaiming',
            layer='Conv2d',
            mode='fan_in',
            nonlinearity='relu',
            distribution='normal'),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
    ]


class NormEvalMixin:
    """``train()`` as mmdet's backbones: set the mode, then put the frozen stages (the
    subclass's ``_freeze_stages``) and, with ``norm_eval``, every BN layer back into eval
    mode."""

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
