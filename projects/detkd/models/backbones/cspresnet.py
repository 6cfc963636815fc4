"""CSPRepResNet, PP-YOLOE's backbone, laid out as PaddleDetection 2.6's."""
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..layers import BasicBlock, ConvNormAct, EffectiveSELayer, NormEvalMixin, paddle_init_cfg


class CSPResStage(nn.Module):
    """A stride-2 3x3 ``conv_down`` to ``mid = (in + out) // 2`` channels, then
    two 1x1 halves: ``conv1`` (skip) and ``conv2`` -> ``n`` residual
    :class:`BasicBlock` s; concatenated, effective SE (``attn``), 1x1
    ``conv3`` to ``out`` channels."""

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int, norm_cfg: Dict,
                 act_cfg: Dict, use_alpha: bool) -> None:
        super().__init__()
        mid = (in_channels + out_channels) // 2
        self.conv_down = ConvNormAct(in_channels, mid, 3, 2, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvNormAct(mid, mid // 2, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = ConvNormAct(mid, mid // 2, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.blocks = nn.Sequential(*[
            BasicBlock(mid // 2, mid // 2, norm_cfg, act_cfg, shortcut=True, use_alpha=use_alpha)
            for _ in range(num_blocks)
        ])
        self.attn = EffectiveSELayer(mid)
        self.conv3 = ConvNormAct(mid, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_down(x)
        y = torch.cat([self.conv1(x), self.blocks(self.conv2(x))], dim=1)
        return self.conv3(self.attn(y))


@MODELS.register_module()
class CSPResNet(NormEvalMixin, BaseModule):
    """CSPRepResNet (`PP-YOLOE <https://arxiv.org/abs/2203.16250>`_), as
    PaddleDetection 2.6's ``CSPResNet`` (``ppdet/modeling/backbones/cspresnet.py``)::

        stem     3x3 s2 conv to c0/2, [3x3 conv c0/2,] 3x3 conv to c0   (stride 2)
        stages   4 x CSPResStage, each stride 2: c1..c4 at strides 4, 8, 16, 32

    with ``c = round(width_mult * [64, 128, 256, 512, 1024])`` and
    ``round(depth_mult * [3, 6, 6, 3])`` blocks per stage (PP-YOLOE+ s/m/l/x:
    depth 0.33/0.67/1.0/1.33, width 0.50/0.75/1.0/1.25). PP-YOLOE+ uses the
    large (3-conv) stem and the RepVGG ``alpha`` (``use_large_stem`` and
    ``use_alpha``, the defaults here). Every conv is conv-BN-activation (Swish
    = SiLU), BN with Paddle's epsilon 1e-5 and running rate 0.1.

    Parameter names mirror Paddle's, so its ``.pdparams`` convert by renaming
    ``_mean``/``_variance`` to ``running_mean``/``running_var`` alone:
    ``stem.conv1.conv.weight``, ``stages.0.blocks.0.conv2.alpha``,
    ``stages.2.attn.fc.bias``, ...

    Args:
        depth_mult (float): Depth multiplier. Defaults to 1.0 (l).
        width_mult (float): Width multiplier. Defaults to 1.0 (l).
        out_indices (Sequence[int]): Stages returned (0-3). Defaults to
            (1, 2, 3): strides 8, 16, 32 (Paddle's ``return_idx``).
        use_large_stem (bool): Three stem convs instead of two. Defaults to
            True (PP-YOLOE+).
        use_alpha (bool): The learnable RepVGG scale. Defaults to True.
        frozen_stages (int): -1 freezes nothing; 0 freezes the stem, k the
            stem and the first k stages. Defaults to -1.
        norm_eval (bool): Keep every BN in eval mode. Defaults to False.
        norm_cfg, act_cfg (dict): Defaults BN and SiLU.
        init_cfg: None means Paddle's default init (Kaiming-normal fan_in
            convs, unit BN weights).
    """

    def __init__(self,
                 depth_mult: float = 1.0,
                 width_mult: float = 1.0,
                 layers: Sequence[int] = (3, 6, 6, 3),
                 channels: Sequence[int] = (64, 128, 256, 512, 1024),
                 out_indices: Sequence[int] = (1, 2, 3),
                 use_large_stem: bool = True,
                 use_alpha: bool = True,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 norm_cfg: Dict = dict(type='BN', momentum=0.1, eps=1e-5),
                 act_cfg: Dict = dict(type='SiLU'),
                 init_cfg: Optional[object] = None) -> None:
        if init_cfg is None:
            init_cfg = paddle_init_cfg()
        super().__init__(init_cfg)
        channels = [max(round(c * width_mult), 1) for c in channels]
        layers = [max(round(n * depth_mult), 1) for n in layers]
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(len(layers)) for i in out_indices):
            raise ValueError(f'CSPResNet: out_indices must be stage indices in '
                             f'0..{len(layers) - 1}, got {out_indices}')
        if frozen_stages not in range(-1, len(layers) + 1):
            raise ValueError(f'CSPResNet: frozen_stages must be in -1..{len(layers)}, '
                             f'got {frozen_stages}')
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_channels = [channels[i + 1] for i in out_indices]

        c0 = channels[0]
        kw = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        stem = [('conv1', ConvNormAct(3, c0 // 2, 3, 2, **kw))]
        if use_large_stem:
            stem.append(('conv2', ConvNormAct(c0 // 2, c0 // 2, 3, **kw)))
        stem.append((f'conv{len(stem) + 1}', ConvNormAct(c0 // 2, c0, 3, **kw)))
        self.stem = nn.Sequential(OrderedDict(stem))
        self.stages = nn.Sequential(*[
            CSPResStage(channels[i], channels[i + 1], n, norm_cfg, act_cfg, use_alpha)
            for i, n in enumerate(layers)
        ])
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        for module in [self.stem, *self.stages[:self.frozen_stages]]:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
