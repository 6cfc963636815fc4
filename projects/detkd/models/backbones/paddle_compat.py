"""What mmdet's modules need to compute what PaddleDetection 2.6's compute.

- :class:`PaddleResNet`: PaddleDetection's ``ResNet`` (variants b and d). Its
  first block always has a projection shortcut, also in ResNet18/34 where
  mmdet's has none (64 to 64 channels, stride 1).
- :class:`ConvWithBias`: a conv type for ``ConvModule``'s ``conv_cfg`` that
  keeps its bias in front of a norm (Paddle's ``FCOSFeat`` convs, the GFL
  head's towers, have one before their GroupNorm; ``ConvModule`` drops it).

Both exist so that weights converted from Paddle (``detkd.converters.paddle``)
compute the same maps; tests/test_paddle_converters.py proves it.
"""
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmdet.models.backbones.resnet import BasicBlock, ResNet
from mmdet.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS


@ROOT_MODELS.register_module('ConvWithBias')
class ConvWithBias(nn.Conv2d):
    """``nn.Conv2d`` with a bias whatever ``bias`` it is given.

    ``ConvModule`` passes ``bias=False`` when a norm follows (``bias='auto'``);
    ``conv_cfg=dict(type='ConvWithBias')`` keeps it. Registered in mmengine's
    root ``MODELS``, as mmcv's conv types, so every scope finds it.
    """

    def __init__(self, *args, bias: bool = True, **kwargs) -> None:
        super().__init__(*args, bias=True, **kwargs)


@MODELS.register_module()
class PaddleResNet(ResNet):
    """PaddleDetection's ``ResNet`` (``ppdet/modeling/backbones/resnet.py``).

    ``variant='b'`` is mmdet's ``ResNet`` (``style='pytorch'``: stride on the
    3x3 conv, strided 1x1 projection shortcut); ``variant='d'`` is mmdet's
    ``ResNetV1d`` (deep 3-conv stem of 32/32/64 channels, 2x2 average pool with
    ``ceil_mode`` then a stride-1 1x1 conv in the projection shortcuts). One
    difference remains, in ResNet18/34 (``BasicBlock``): Paddle gives the first
    block of every stage a projection shortcut (``shortcut=False if i == 0``),
    also in the first stage where input and output are 64 channels at stride 1,
    so its ``res2a`` has a 1x1 conv + BN shortcut that mmdet's ``layer1[0]``
    lacks. This adds it (``layer1.0.downsample``: conv ``.0`` and norm ``.1``
    for variant b, ``.1`` and ``.2`` for d, after a stride-1 no-op pool, as
    mmdet's ``avg_down`` layers are named). Bottleneck depths (50, 101, 152)
    have it already (64 to 256 channels).

    Args:
        variant (str): ``'b'`` or ``'d'``. Defaults to ``'d'``.
        **kwargs: mmdet's ``ResNet`` arguments (``depth``, ``out_indices``,
            ``frozen_stages``, ``norm_cfg``, ``norm_eval``, ``init_cfg``...).
            ``deep_stem``, ``avg_down`` and ``style`` follow the variant.
    """

    def __init__(self, variant: str = 'd', **kwargs) -> None:
        if variant not in ('b', 'd'):
            raise ValueError(f"PaddleResNet: variant must be 'b' or 'd', got {variant!r}")
        for key in ('deep_stem', 'avg_down', 'style', 'stem_channels', 'base_channels'):
            if key in kwargs:
                raise ValueError(f'PaddleResNet: {key} is set by the variant')
        self.variant = variant
        super().__init__(
            deep_stem=variant == 'd', avg_down=variant == 'd', style='pytorch', **kwargs)
        first = self.layer1[0]
        if isinstance(first, BasicBlock) and first.downsample is None:
            channels = self.base_channels
            layers = [nn.AvgPool2d(1, 1, ceil_mode=True, count_include_pad=False)] \
                if variant == 'd' else []
            layers += [
                build_conv_layer(self.conv_cfg, channels, channels, 1, stride=1, bias=False),
                build_norm_layer(self.norm_cfg, channels)[1]
            ]
            first.downsample = nn.Sequential(*layers)
            # the new layers were built after ResNet froze its stages
            self._freeze_stages()
