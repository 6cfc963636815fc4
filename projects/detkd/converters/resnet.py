"""Paddle ``ResNet`` (variants b and d, depths 18-152) -> :class:`~detkd.models.PaddleResNet`.

Depth and variant read from the keys, the key map (also used by the YOLOv3, GFL and
RetinaNet converters) and the ImageNet backbone-alone converters.
"""
import re
from typing import Dict, Optional

import numpy as np

from .common import ConversionError, _bn_suffix, _map_state, split_classifier

RESNET_DEPTHS = {
    (2, 2, 2, 2, False): 18,
    (3, 4, 6, 3, False): 34,
    (3, 4, 6, 3, True): 50,
    (3, 4, 23, 3, True): 101,
    (3, 8, 36, 3, True): 152,
}


def _block_index(stage: int, name: str) -> Optional[int]:
    """Paddle's NameAdapter block names: ``res4a``, ``res4b`` ... or, for more than 10
    blocks in res4, ``res4a``, ``res4b1`` ... ``res4b22``."""
    m = re.match(rf'res{stage}([a-z])(\d*)$', name)
    if not m:
        return None
    letter, num = m.groups()
    if num:
        return int(num) if letter == 'b' else None
    return ord(letter) - ord('a')


def resnet_arch(state: Dict[str, np.ndarray]) -> Dict[str, object]:
    """Depth and variant of a Paddle ``ResNet`` state dict (keys without prefix):
    depth from the blocks per stage and the block type, variant from the stem."""
    blocks = {s: set() for s in (2, 3, 4, 5)}
    for k in state:
        m = re.match(r'res([2-5])\.(res[2-5][a-z]\d*)\.', k)
        if m:
            blocks[int(m.group(1))].add(m.group(2))
    counts = tuple(len(blocks[s]) for s in (2, 3, 4, 5))
    bottleneck = any('.branch2c.' in k for k in state)
    depth = RESNET_DEPTHS.get(counts + (bottleneck, ))
    if 'conv1.conv1_1.conv.weight' in state:
        variant = 'd'
    elif 'conv1.conv1.conv.weight' in state:
        variant = 'b'
    else:
        variant = None
    if depth is None or variant is None:
        raise ConversionError(
            'not a PaddleDetection ResNet: stem conv1.conv1_1 (vd) or conv1.conv1 (b) '
            f'{"found" if variant else "missing"}, blocks per stage {counts} '
            f'({"bottleneck" if bottleneck else "basic"}), known depths 18/34/50/101/152. '
            f'First keys: {list(state)[:5]}')
    return dict(depth=depth, variant=variant)


def resnet_key(key: str, variant: str) -> Optional[str]:
    """Paddle ``ResNet`` key -> :class:`~detkd.models.PaddleResNet`'s (mmdet's names)."""
    if variant == 'd':
        m = re.match(r'conv1\.conv1_([123])\.(conv|norm)\.(\w+)$', key)
        if m:
            i = (int(m.group(1)) - 1) * 3 + (m.group(2) == 'norm')
            if m.group(2) == 'conv':
                return f'stem.{i}.weight' if m.group(3) == 'weight' else None
            return _bn_suffix(f'stem.{i}', m.group(3))
    else:
        m = re.match(r'conv1\.conv1\.(conv|norm)\.(\w+)$', key)
        if m:
            if m.group(1) == 'conv':
                return 'conv1.weight' if m.group(2) == 'weight' else None
            return _bn_suffix('bn1', m.group(2))
    m = re.match(r'res([2-5])\.(res[2-5][a-z]\d*)\.(.+)$', key)
    if not m:
        return None
    stage, block, rest = int(m.group(1)), m.group(2), m.group(3)
    idx = _block_index(stage, block)
    if idx is None:
        return None
    prefix = f'layer{stage - 1}.{idx}'
    m = re.match(r'branch2([abc])\.(conv|norm)\.(\w+)$', rest)
    if m:
        n = 'abc'.index(m.group(1)) + 1
        if m.group(2) == 'conv':
            return f'{prefix}.conv{n}.weight' if m.group(3) == 'weight' else None
        sfx = _bn_suffix(f'bn{n}', m.group(3))
        return f'{prefix}.{sfx}' if sfx else None
    # shortcut: b: short.{conv,norm} -> downsample.{0,1}; d: short.{conv,norm} (stride 1,
    # no pool) and short.conv.{conv,norm} (after the pool) -> downsample.{1,2}
    m = re.match(r'short\.(?:conv\.)?(conv|norm)\.(\w+)$', rest)
    if m:
        pooled = rest.startswith('short.conv.conv.') or rest.startswith('short.conv.norm.')
        if pooled and variant != 'd':
            return None
        base = 1 if variant == 'd' else 0
        if m.group(1) == 'conv':
            return f'{prefix}.downsample.{base}.weight' if m.group(2) == 'weight' else None
        sfx = _bn_suffix(f'downsample.{base + 1}', m.group(2))
        return f'{prefix}.{sfx}' if sfx else None
    return None


def _convert_resnet(variant):

    def convert(state, src):
        state, dropped = split_classifier(state)
        arch = resnet_arch(state)
        if arch['variant'] != variant:
            raise ConversionError(
                f'{src}: a ResNet{arch["depth"]}-{arch["variant"]} file (stem '
                f'{"conv1.conv1_1" if arch["variant"] == "d" else "conv1.conv1"}), not a '
                f'ResNet-{variant}: use ARCH {"resnet_vd" if arch["variant"] == "d" else "resnet"}'
            )
        out, unplaced = _map_state(state, lambda k: resnet_key(k, variant))
        cfg = dict(type='PaddleResNet', depth=arch['depth'], variant=variant)
        desc = f'ResNet{arch["depth"]}' + ('-vd' if variant == 'd' else '')
        return out, unplaced, dict(arch, dropped=dropped, desc=desc), cfg

    return convert
