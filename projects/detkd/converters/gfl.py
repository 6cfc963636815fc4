"""GFL (ResNet-b or -vd + FPN + GFLHead) -> mmdet's ``GFL`` with
:class:`~detkd.models.PaddleResNet`.

:func:`gfl_key` maps the FPN (also RetinaNet's) and the head; the model is the
package's ``detkd::gfl`` config of the file's backbone variant.
"""
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from .common import ConversionError, _backbone_state, _config_model, _map_state, detector_key
from .resnet import resnet_arch, resnet_key

GFL_CONFIGS = {
    'd': 'detkd::gfl/gfl_r101vd_paddle_coco.py',
    'b': 'detkd::gfl/gfl_r50_paddle_coco.py'
}


def gfl_key(key: str) -> Optional[str]:
    """Paddle ``FPN`` / ``GFLHead`` (``FCOSFeat`` towers) key -> mmdet's ``FPN`` /
    ``GFLHead``. ``scale_reg`` (shape [1]) and the Integral's projection are
    handled by :func:`gfl_paddle_to_mmdet`."""
    m = re.match(r'neck\.fpn_inner_res([345])_sum(?:_lateral)?\.(weight|bias)$', key)
    if m:
        return f'neck.lateral_convs.{int(m.group(1)) - 3}.conv.{m.group(2)}'
    m = re.match(r'neck\.fpn_res([345])_sum\.(weight|bias)$', key)
    if m:
        return f'neck.fpn_convs.{int(m.group(1)) - 3}.conv.{m.group(2)}'
    m = re.match(r'neck\.fpn_([67])\.(weight|bias)$', key)
    if m:
        return f'neck.fpn_convs.{int(m.group(1)) - 3}.conv.{m.group(2)}'
    m = re.match(
        r'head\.conv_feat\.fcos_head_(cls|reg)_tower_conv_(\d+)\.(conv|norm)\.'
        r'(weight|bias)$', key)
    if m:
        branch, i, layer, leaf = m.groups()
        return f'bbox_head.{branch}_convs.{i}.{"conv" if layer == "conv" else "gn"}.{leaf}'
    m = re.match(r'head\.gfl_head_(cls|reg)\.(weight|bias)$', key)
    if m:
        return f'bbox_head.gfl_{m.group(1)}.{m.group(2)}'
    return None


def gfl_paddle_to_mmdet(state: Dict[str, np.ndarray],
                        variant: str = 'd') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename a Paddle GFL (ResNet + FPN + GFLHead) state dict to mmdet's GFL
    with :class:`~detkd.models.PaddleResNet`: backbone by :func:`resnet_key`,
    the rest by :func:`gfl_key`; ``p{l}_feat.scale_reg`` (shape [1]) becomes the
    scalar ``scales.{i}.scale``; the Integral's fixed projection is checked
    (0..reg_max) and kept as ``integral.project``."""
    out: Dict[str, torch.Tensor] = {}
    rest: Dict[str, np.ndarray] = {}
    levels = sorted(
        int(m.group(1)) for k in state for m in [re.match(r'head\.p(\d)_feat\.scale_reg$', k)]
        if m)
    for key, value in state.items():
        m = re.match(r'head\.p(\d)_feat\.scale_reg$', key)
        if m and value.size == 1:
            idx = levels.index(int(m.group(1)))
            out[f'bbox_head.scales.{idx}.scale'] = torch.tensor(float(value.reshape(())))
            continue
        if key == 'head.distribution_project.project':
            if not np.allclose(value, np.arange(len(value))):
                raise ConversionError(f'{key} is not 0..reg_max: {value[:5]}...')
            out['bbox_head.integral.project'] = torch.from_numpy(value.astype(np.float32))
            continue
        rest[key] = value
    mapped, unplaced = _map_state(rest, detector_key(lambda k: resnet_key(k, variant), gfl_key))
    out.update(mapped)
    return out, unplaced


def _convert_gfl(variant):

    def convert(state, src):
        cls = state.get('head.gfl_head_cls.weight')
        if cls is None:
            raise ConversionError(f'{src}: not a GFL file (no head.gfl_head_cls.weight). '
                                  f'First keys: {list(state)[:5]}')
        arch = resnet_arch(_backbone_state(state, src))
        if arch['variant'] != variant:
            raise ConversionError(
                f'{src}: a GFL with a ResNet{arch["depth"]}-{arch["variant"]} backbone: use '
                f'ARCH {"gfl_resnet_vd" if arch["variant"] == "d" else "gfl_resnet"}')
        out, unplaced = gfl_paddle_to_mmdet(state, arch['variant'])
        path = GFL_CONFIGS[variant]
        cfg = _config_model(path)
        cfg['backbone'].update(depth=arch['depth'], variant=arch['variant'])
        cfg['backbone'].pop('init_cfg', None)
        base = 64 if arch['depth'] < 50 else 256
        cfg['neck']['in_channels'] = [base, base * 2, base * 4, base * 8]
        cfg['bbox_head']['num_classes'] = int(cls.shape[0])
        desc = f'GFL ResNet{arch["depth"]}' + ('-vd' if variant == 'd' else '')
        return out, unplaced, dict(
            arch, num_classes=int(cls.shape[0]), config=path, desc=desc), cfg

    return convert
