"""MobileNetV1, laid out as PaddleDetection's YOLOv3 backbone."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..layers import ConvNormAct, NormEvalMixin, paddle_init_cfg


class DepthwiseSeparable(nn.Module):
    """Depthwise 3x3 (stride ``stride``) then pointwise 1x1, each
    conv-norm-act: Paddle's ``DepthwiseSeparable``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, norm_cfg: Dict,
                 act_cfg: Optional[Dict]) -> None:
        super().__init__()
        self.depthwise_conv = ConvNormAct(in_channels, in_channels, 3, stride, in_channels,
                                          norm_cfg, act_cfg)
        self.pointwise_conv = ConvNormAct(in_channels, out_channels, 1, 1, 1, norm_cfg, act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))


@MODELS.register_module()
class MobileNetV1(NormEvalMixin, BaseModule):
    """MobileNetV1 (`Howard et al. 2017 <https://arxiv.org/abs/1704.04861>`_)
    as PaddleDetection 2.6 builds it for YOLOv3
    (``ppdet/modeling/backbones/mobilenet_v1.py``, class ``MobileNet``)::

        conv1    3x3 conv s2, 32 ch                         -> stride 2
        13 depthwise-separable blocks (dw 3x3 + pw 1x1):
        index    name      out ch  stride  output stride
        0        conv2_1     64      1       2
        1        conv2_2    128      2       4
        2        conv3_1    128      1       4
        3        conv3_2    256      2       8     <- out_indices default
        4        conv4_1    256      1       8
        5        conv4_2    512      2      16     <- out_indices default
        6..10    conv5_1..5 512      1      16
        11       conv5_6   1024      2      32
        12       conv6     1024      1      32     <- out_indices default

    Every conv has no bias and is followed by norm and activation (BN, ReLU).
    The channels are ``int(c * widen_factor)`` (Paddle's ``scale``; 0.25 gives
    64/128/256 outputs). Paddle's ``feature_maps`` count blocks from 1:
    its YOLOv3 ``[4, 6, 13]`` is ``out_indices=(3, 5, 12)`` here. Note that
    these are the *first* maps of strides 8 and 16 (after the stride-2 block),
    not the last ones. Paddle's ``conv_decay``/``norm_decay`` (L2 decay of
    this backbone's convs and norms, both 0 in its YOLOv3) are optimizer
    settings here (``paramwise_cfg`` in the config), not backbone arguments.

    Parameter names mirror Paddle's, so its ImageNet
    ``MobileNetV1_pretrained.pdparams`` and the ``backbone.`` part of its
    YOLOv3 checkpoints convert by renaming alone (drop leading underscores,
    ``_batch_norm`` -> ``bn``, ``_mean``/``_variance`` ->
    ``running_mean``/``running_var``; ImageNet classifier keys are dropped)::

        Paddle                                         here
        conv1._conv.weight                             conv1.conv.weight
        conv1._batch_norm.weight / .bias               conv1.bn.weight / .bias
        conv1._batch_norm._mean / ._variance           conv1.bn.running_mean / .running_var
        conv2_1._depthwise_conv._conv.weight           conv2_1.depthwise_conv.conv.weight
        conv2_1._pointwise_conv._batch_norm._mean      conv2_1.pointwise_conv.bn.running_mean
        conv6._pointwise_conv._conv.weight             conv6.pointwise_conv.conv.weight

    Paddle's BatchNorm2D has the same epsilon (1e-5) and running-average rate
    (its momentum 0.9 is torch's 0.1) as the default ``norm_cfg``. Its convs
    start Kaiming-normal with fan_in, the default ``init_cfg`` here.

    Args:
        widen_factor (float): Width multiplier (Paddle's ``scale``).
            Defaults to 1.0.
        out_indices (Sequence[int]): Blocks (0-12) whose outputs are returned.
            Defaults to (3, 5, 12): strides 8, 16, 32 as Paddle's YOLOv3.
        frozen_stages (int): -1 freezes nothing; k >= 0 freezes ``conv1`` and
            the first k blocks (requires_grad False and eval mode, kept after
            ``train()``). Defaults to -1.
        norm_cfg (dict): Norm layer config. Defaults to BN.
        act_cfg (dict): Activation config. Defaults to ReLU.
        norm_eval (bool): Keep every BN layer in eval mode (frozen running
            statistics) during training. Defaults to False.
        init_cfg (dict or list[dict], optional): None (default) means
            Kaiming-normal fan_in convs and unit norm weights, as Paddle; e.g.
            ``dict(type='Pretrained', checkpoint=...)`` to load weights.
    """

    # (name, output channels at widen_factor 1, stride of the depthwise conv)
    arch_settings: List[Tuple[str, int, int]] = [
        ('conv2_1', 64, 1),
        ('conv2_2', 128, 2),
        ('conv3_1', 128, 1),
        ('conv3_2', 256, 2),
        ('conv4_1', 256, 1),
        ('conv4_2', 512, 2),
        ('conv5_1', 512, 1),
        ('conv5_2', 512, 1),
        ('conv5_3', 512, 1),
        ('conv5_4', 512, 1),
        ('conv5_5', 512, 1),
        ('conv5_6', 1024, 2),
        ('conv6', 1024, 1),
    ]
    stem_channels = 32

    def __init__(self,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (3, 5, 12),
                 frozen_stages: int = -1,
                 norm_cfg: Dict = dict(type='BN', requires_grad=True),
                 act_cfg: Dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 init_cfg: Optional[object] = None) -> None:
        if init_cfg is None:
            init_cfg = paddle_init_cfg()
        super().__init__(init_cfg)
        num_blocks = len(self.arch_settings)
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(num_blocks) for i in out_indices):
            raise ValueError(f'MobileNetV1: out_indices must be block indices in '
                             f'0..{num_blocks - 1}, got {out_indices}')
        if frozen_stages not in range(-1, num_blocks + 1):
            raise ValueError(f'MobileNetV1: frozen_stages must be in -1..{num_blocks}, '
                             f'got {frozen_stages}')
        if widen_factor <= 0 or int(self.stem_channels * widen_factor) < 1:
            raise ValueError('MobileNetV1: widen_factor must leave the 32-channel stem at '
                             f'least one channel, got {widen_factor}')
        self.widen_factor = widen_factor
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        # int(), not rounding to a multiple of 8: Paddle's channel rule.
        in_channels = int(self.stem_channels * widen_factor)
        self.conv1 = ConvNormAct(3, in_channels, 3, 2, 1, norm_cfg, act_cfg)
        self.layers: List[str] = []
        self.out_channels: List[int] = []
        for i, (name, channels, stride) in enumerate(self.arch_settings):
            out_channels = int(channels * widen_factor)
            self.add_module(
                name, DepthwiseSeparable(in_channels, out_channels, stride, norm_cfg, act_cfg))
            self.layers.append(name)
            if i in out_indices:
                self.out_channels.append(out_channels)
            in_channels = out_channels
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1] + [getattr(self, n) for n in self.layers[:self.frozen_stages]]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
