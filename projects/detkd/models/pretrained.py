"""ImageNet weights of MMClassification's ResNet-vd into MMDetection's ``ResNetV1d``.

No mmdet-format ResNet-vd checkpoint exists (the ``open-mmlab://`` zoo has v1c only), and
MMClassification's (``mmcls://resnet50_v1d``, ``mmcls://resnet101_v1d``) name two parts
differently, so mmengine's non-strict ``Pretrained`` init would leave them random without a
word:

- the deep stem: mmcls builds it from three ``ConvModule`` (``stem.0.conv.weight``,
  ``stem.0.bn.*``, ...), mmdet from a flat Sequential (``stem.0.weight``, ``stem.1.*``,
  ``stem.3.weight``, ...: conv, norm, ReLU three times);
- the shortcut of a first block that keeps the resolution (layer1 of a Bottleneck ResNet):
  mmdet puts an (identity) 1x1 AvgPool in front of its conv even there, mmcls only where the
  stride is 2, so the conv and norm are ``downsample.1/.2`` in mmdet and ``.0/.1`` in mmcls.
"""
import re
from typing import Dict

from mmengine.logging import MMLogger
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor, nn


def mmcls_resnet_to_mmdet(state: Dict[str, Tensor], model: nn.Module) -> Dict[str, Tensor]:
    """Rename an MMClassification ResNet state dict (``backbone.`` prefix already removed)
    to the names of ``model``, an mmdet ``ResNet`` / ``ResNetV1c`` / ``ResNetV1d``."""
    own = model.state_dict()
    # shortcuts whose conv is at index 0 in mmcls but behind mmdet's AvgPool: shift them all
    shifted = {
        k[:-len('.0.weight')]
        for k in state if re.fullmatch(r'layer\d+\.\d+\.downsample\.0\.weight', k) and k not in own
        and k.replace('.0.weight', '.1.weight') in own
    }
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r'stem\.(\d+)\.(conv|bn)\.(.+)', key)
        if m:
            key = f'stem.{3 * int(m[1]) + (m[2] == "bn")}.{m[3]}'
        m = re.fullmatch(r'(layer\d+\.\d+\.downsample)\.(\d+)\.(.+)', key)
        if m and m[1] in shifted:
            key = f'{m[1]}.{int(m[2]) + 1}.{m[3]}'
        out[key] = value
    return out


@WEIGHT_INITIALIZERS.register_module(name='PretrainedMMClsResNet')
class PretrainedMMClsResNetInit:
    """``init_cfg=dict(type='PretrainedMMClsResNet', checkpoint='mmcls://resnet101_v1d')``
    on an mmdet ResNet backbone: loads an MMClassification ResNet checkpoint, renamed by
    :func:`mmcls_resnet_to_mmdet`, strictly: a missing, unexpected or mis-shaped tensor is
    an error that lists them, not a silently random layer.

    Args:
        checkpoint (str): a path, URL or ``mmcls://`` name.
        prefix (str): the prefix of the backbone's keys in the checkpoint. Defaults to
            ``'backbone.'`` (the classifier head's keys are dropped).
        map_location (str): Defaults to ``'cpu'``.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: str = 'backbone.',
                 map_location: str = 'cpu') -> None:
        self.checkpoint, self.prefix, self.map_location = checkpoint, prefix, map_location

    def __call__(self, module: nn.Module) -> None:
        ckpt = CheckpointLoader.load_checkpoint(self.checkpoint, map_location=self.map_location)
        state = ckpt.get('state_dict', ckpt)
        state = {k[len(self.prefix):]: v for k, v in state.items() if k.startswith(self.prefix)}
        state = mmcls_resnet_to_mmdet(state, module)
        own = module.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        mismatched = sorted(f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}'
                            for k in set(own) & set(state) if state[k].shape != own[k].shape)
        if missing or unexpected or mismatched:

            def show(keys):
                return ', '.join(
                    keys[:6]) + (f' ... ({len(keys)} in all)' if len(keys) > 6 else '')

            raise RuntimeError(
                f'{self.checkpoint} does not fit {type(module).__name__} (prefix '
                f'{self.prefix!r}); is it an MMClassification ResNet of the same depth and '
                'variant?' + (f'\n  missing: {show(missing)}' if missing else '') +
                (f'\n  unexpected: {show(unexpected)}' if unexpected else '') +
                (f'\n  shape mismatches: {show(mismatched)}' if mismatched else ''))
        module.load_state_dict(state, strict=True)
        MMLogger.get_current_instance().info(
            f'{type(module).__name__}: loaded {len(state)} tensors from {self.checkpoint}')

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'
