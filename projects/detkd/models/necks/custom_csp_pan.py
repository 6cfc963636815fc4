"""CustomCSPPAN, PP-YOLOE's neck, laid out as PaddleDetection 2.6's."""
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..layers import BasicBlock, ConvNormAct, paddle_init_cfg


class SPP(nn.Module):
    """Max pools 5/9/13 (stride 1, same size) concatenated with the input,
    then a 1x1 conv-norm-act."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: Dict,
                 act_cfg: Dict,
                 pool_sizes: Sequence[int] = (5, 9, 13)) -> None:
        super().__init__()
        self.pools = nn.ModuleList(nn.MaxPool2d(k, 1, k // 2) for k in pool_sizes)
        self.conv = ConvNormAct(in_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(torch.cat([x] + [pool(x) for pool in self.pools], dim=1))


class CSPStage(nn.Module):
    """Two 1x1 halves of ``out // 2`` channels, ``conv1`` (skip) and ``conv2``
    -> ``n`` :class:`BasicBlock` s without shortcut (``convs``; with ``spp`` an
    :class:`SPP` after the middle one); concatenated, 1x1 ``conv3``."""

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int, norm_cfg: Dict,
                 act_cfg: Dict, spp: bool, use_alpha: bool) -> None:
        super().__init__()
        mid = out_channels // 2
        kw = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvNormAct(in_channels, mid, 1, **kw)
        self.conv2 = ConvNormAct(in_channels, mid, 1, **kw)
        convs = []
        for i in range(num_blocks):
            convs.append((str(i), BasicBlock(mid, mid, shortcut=False, use_alpha=use_alpha, **kw)))
            if spp and i == (num_blocks - 1) // 2:
                convs.append(('spp', SPP(mid * 4, mid, norm_cfg, act_cfg)))
        self.convs = nn.Sequential(OrderedDict(convs))
        self.conv3 = ConvNormAct(mid * 2, out_channels, 1, **kw)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv3(torch.cat([self.conv1(x), self.convs(self.conv2(x))], dim=1))


@MODELS.register_module()
class CustomCSPPAN(BaseModule):
    """The CSP-PAN neck of `PP-YOLOE <https://arxiv.org/abs/2203.16250>`_, as
    PaddleDetection 2.6's ``CustomCSPPAN`` (``ppdet/modeling/necks/custom_pan.py``)
    with PP-YOLOE+'s settings (one :class:`CSPStage` per node, SPP in the top
    one, no DropBlock, no transformer).

    Top-down from stride 32: each node is a CSPStage on the concatenation of
    the 2x nearest-upsampled 1x1 ``fpn_routes`` output of the node above
    (half its width) and the backbone map; bottom-up: a stride-2 3x3
    ``pan_routes`` conv of the node below, concatenated with the top-down map,
    then a CSPStage. Paddle indexes its nodes from stride 32 (``fpn_stages.0``
    is the top one, ``pan_stages.1`` the stride-16 one) and returns the maps
    from stride 32 down; here the same modules and names, and the maps
    returned from stride 8 up, as mmdet's necks.

    Args:
        in_channels (Sequence[int]): Backbone widths at strides 8, 16, 32
            before ``width_mult`` (Paddle takes the backbone's actual widths:
            the same numbers once multiplied).
        out_channels (Sequence[int]): Output widths at strides 8, 16, 32
            before ``width_mult``. Defaults to (192, 384, 768) (Paddle's
            ``[768, 384, 192]``, reversed).
        depth_mult, width_mult (float): Multipliers, as the backbone's.
        block_num (int): BasicBlocks per CSPStage before ``depth_mult``
            (3).
        spp (bool): SPP in the top node. Defaults to True.
        use_alpha (bool): RepVGG alpha. Defaults to False (PP-YOLOE+ does
            not set it on the neck).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Sequence[int] = (192, 384, 768),
                 depth_mult: float = 1.0,
                 width_mult: float = 1.0,
                 block_num: int = 3,
                 spp: bool = True,
                 use_alpha: bool = False,
                 norm_cfg: Dict = dict(type='BN', momentum=0.1, eps=1e-5),
                 act_cfg: Dict = dict(type='SiLU'),
                 init_cfg=None) -> None:
        if init_cfg is None:
            init_cfg = paddle_init_cfg()
        super().__init__(init_cfg)
        if len(in_channels) != len(out_channels):
            raise ValueError(f'CustomCSPPAN: {len(in_channels)} in_channels but '
                             f'{len(out_channels)} out_channels')
        # Paddle's order: from stride 32 down
        ins = [max(round(c * width_mult), 1) for c in in_channels][::-1]
        outs = [max(round(c * width_mult), 1) for c in out_channels][::-1]
        self.out_channels = outs[::-1]
        n = max(round(block_num * depth_mult), 1)
        kw = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.num_levels = len(ins)

        fpn_stages, fpn_routes = [], []
        for i, (c_in, c_out) in enumerate(zip(ins, outs)):
            if i > 0:
                c_in += outs[i - 1] // 2
            fpn_stages.append(
                nn.Sequential(
                    CSPStage(c_in, c_out, n, spp=spp and i == 0, use_alpha=use_alpha, **kw)))
            if i < self.num_levels - 1:
                fpn_routes.append(ConvNormAct(c_out, c_out // 2, 1, **kw))
        self.fpn_stages = nn.ModuleList(fpn_stages)
        self.fpn_routes = nn.ModuleList(fpn_routes)

        pan_stages, pan_routes = [], []
        for i in range(self.num_levels - 1):
            pan_routes.append(ConvNormAct(outs[i + 1], outs[i + 1], 3, 2, **kw))
            pan_stages.append(
                nn.Sequential(
                    CSPStage(
                        outs[i] + outs[i + 1], outs[i], n, spp=False, use_alpha=use_alpha, **kw)))
        self.pan_stages = nn.ModuleList(pan_stages)
        self.pan_routes = nn.ModuleList(pan_routes)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        if len(inputs) != self.num_levels:
            raise ValueError(f'CustomCSPPAN expects {self.num_levels} maps (strides 8, 16, '
                             f'32), got {len(inputs)}')
        fpn_feats: List[Tensor] = []
        route = None
        for i, block in enumerate(inputs[::-1]):
            if i > 0:
                block = torch.cat([route, block], dim=1)
            route = self.fpn_stages[i](block)
            fpn_feats.append(route)
            if i < self.num_levels - 1:
                route = F.interpolate(self.fpn_routes[i](route), scale_factor=2., mode='nearest')

        pan_feats = [fpn_feats[-1]]
        route = fpn_feats[-1]
        for i in reversed(range(self.num_levels - 1)):
            route = self.pan_routes[i](route)
            route = self.pan_stages[i](torch.cat([route, fpn_feats[i]], dim=1))
            pan_feats.append(route)
        return tuple(pan_feats)
