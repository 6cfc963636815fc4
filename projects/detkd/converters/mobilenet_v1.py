"""MobileNetV1 (PaddleDetection's ``MobileNet``, YOLOv3's backbone) ->
:class:`~detkd.models.MobileNetV1`.

The key map (also used by :mod:`.yolov3`) and the ImageNet backbone-alone converter.
"""
import re
from typing import Dict, Optional

import numpy as np

from .common import ConversionError, _bn_suffix, _map_state, split_classifier


def mobilenet_v1_key(key: str) -> Optional[str]:
    """Paddle ``MobileNet`` (YOLOv3's) key -> :class:`~detkd.models.MobileNetV1`'s
    (see its docstring): drop the leading underscores, ``_batch_norm`` -> ``bn``."""
    m = re.match(
        r'(conv1|conv[2-5]_[1-6]|conv6)\.(?:_(depthwise|pointwise)_conv\.)?'
        r'_(conv|batch_norm)\.(weight|bias|_mean|_variance)$', key)
    if not m:
        return None
    name, dw, layer, leaf = m.groups()
    if name != 'conv1' and not dw or name == 'conv1' and dw:
        return None
    base = name if name == 'conv1' else f'{name}.{dw}_conv'
    if layer == 'conv':
        return f'{base}.conv.weight' if leaf == 'weight' else None
    return f'{base}.{_bn_suffix("bn", leaf)}'


def mobilenet_v1_arch(state: Dict[str, np.ndarray]) -> Dict[str, object]:
    w = state.get('conv1._conv.weight')
    if w is None:
        raise ConversionError('not a MobileNetV1 (PaddleDetection MobileNet) file: no '
                              f'conv1._conv.weight. Its first keys: {list(state)[:5]}')
    return dict(widen_factor=w.shape[0] / 32)


def _convert_mobilenet_v1(state, src):
    state, dropped = split_classifier(state)
    arch = mobilenet_v1_arch(state)
    out, unplaced = _map_state(state, mobilenet_v1_key)
    cfg = dict(type='MobileNetV1', widen_factor=arch['widen_factor'])
    return out, unplaced, dict(
        arch, dropped=dropped, desc=f'MobileNetV1 x{arch["widen_factor"]}'), cfg
