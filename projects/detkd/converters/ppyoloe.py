"""PP-YOLOE(+) s/m/l/x ``.pdparams`` -> :class:`~detkd.models.PPYOLOE`.

The size and class count are read from the file (:func:`ppyoloe_arch_from_state`);
:func:`convert_ppyoloe_file` converts and checks against our model of that size.
"""
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from .common import ConversionError, _bn_rename, check_against_model, load_pdparams

# PP-YOLOE+ sizes by blocks in the first backbone stage (round(3 * depth_mult))
PPYOLOE_DEPTHS = {1: 0.33, 2: 0.67, 3: 1.0, 4: 1.33}
PPYOLOE_SIZES = {0.33: 's', 0.67: 'm', 1.0: 'l', 1.33: 'x'}
PPYOLOE_WIDTHS = {'s': 0.5, 'm': 0.75, 'l': 1.0, 'x': 1.25}


def ppyoloe_arch_from_state(state: Dict[str, np.ndarray]) -> Dict[str, object]:
    """Size and class count of a PP-YOLOE(+) state dict: depth from the blocks
    of the first backbone stage, width from the stem, classes from the class
    conv. Raises :class:`ConversionError` on a file of another model."""
    try:
        stem = state['backbone.stem.conv1.conv.weight']
    except KeyError:
        raise ConversionError(
            'not a PP-YOLOE(+) checkpoint: no backbone.stem.conv1.conv.weight (the CSPResNet '
            f'stem). Its first keys: {list(state)[:5]}') from None
    blocks = {
        int(m.group(1))
        for k in state
        for m in [re.match(r'backbone\.stages\.0\.blocks\.(\d+)\.', k)] if m
    }
    depth = PPYOLOE_DEPTHS.get(len(blocks))
    width = stem.shape[0] * 2 / 64
    size = PPYOLOE_SIZES.get(depth)
    if size is None or abs(PPYOLOE_WIDTHS[size] - width) > 1e-6:
        raise ConversionError(f'PP-YOLOE(+) of unknown size: {len(blocks)} blocks in stage 0 '
                              f'and a {stem.shape[0]}-channel stem (s/m/l/x have 1/2/3/4 '
                              f'blocks and 16/24/32/40 channels)')
    cls = state.get('yolo_head.pred_cls.0.weight')
    return dict(
        size=size,
        depth_mult=depth,
        width_mult=width,
        num_classes=None if cls is None else int(cls.shape[0]),
        use_large_stem='backbone.stem.conv3.conv.weight' in state,
        use_alpha=any(k.endswith('.alpha') for k in state))


def ppyoloe_paddle_to_mmdet(state: Dict[str, np.ndarray],
                            num_levels: int = 3) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename a PP-YOLOE(+) Paddle state dict to :class:`~detkd.models.PPYOLOE`'s.

    ``backbone.*`` and ``neck.*`` keep their names; ``yolo_head.*`` becomes
    ``bbox_head.*`` with the level index reversed (Paddle's level 0 is stride
    32, ours stride 8); BN ``_mean``/``_variance`` become
    ``running_mean``/``running_var`` (plus a zero ``num_batches_tracked``);
    Paddle's fixed ``proj_conv`` (0..reg_max) is checked and dropped (ours is a
    buffer). Returns the new state dict and the Paddle keys it could not place
    (empty for a PP-YOLOE(+) file)."""
    out: Dict[str, torch.Tensor] = {}
    unplaced: List[str] = []
    for key, value in state.items():
        new: Optional[str] = None
        if key.startswith(('backbone.', 'neck.')):
            new = key
        elif key == 'yolo_head.proj_conv.weight':
            proj = value.reshape(-1)
            if not np.allclose(proj, np.arange(len(proj))):
                raise ConversionError('yolo_head.proj_conv.weight is not 0..reg_max: a head '
                                      'with reg_range (PP-YOLOE-SOD) is not supported')
            continue
        else:
            m = re.match(r'yolo_head\.(stem_cls|stem_reg|pred_cls|pred_reg)\.(\d+)\.(.+)$', key)
            if m and int(m.group(2)) < num_levels:
                level = num_levels - 1 - int(m.group(2))
                new = f'bbox_head.{m.group(1)}.{level}.{m.group(3)}'
        if new is None:
            unplaced.append(key)
            continue
        new = _bn_rename(new)
        out[new] = torch.from_numpy(np.ascontiguousarray(value))
        if new.endswith('.running_var'):
            out[new[:-len('running_var')] + 'num_batches_tracked'] = torch.tensor(0)
    return out, unplaced


def ppyoloe_model_cfg(arch: Dict[str, object]) -> Dict[str, object]:
    """The config of our PP-YOLOE(+) for an :func:`ppyoloe_arch_from_state`
    result (the COCO configs' model, at that size and class count)."""
    d, w = arch['depth_mult'], arch['width_mult']
    return dict(
        type='PPYOLOE',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            bgr_to_rgb=True,
            pad_size_divisor=32),
        backbone=dict(
            type='CSPResNet',
            depth_mult=d,
            width_mult=w,
            use_large_stem=arch['use_large_stem'],
            use_alpha=arch['use_alpha']),
        neck=dict(type='CustomCSPPAN', in_channels=(256, 512, 1024), depth_mult=d, width_mult=w),
        bbox_head=dict(type='PPYOLOEHead', num_classes=arch['num_classes'] or 80, width_mult=w))


def convert_ppyoloe_file(src: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, object]]:
    """Read, convert and check a PP-YOLOE(+) ``.pdparams`` against our model
    of the size it holds; returns the state dict and the architecture."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope

    import detkd  # noqa: F401  (registers PPYOLOE)
    register_all_modules(init_default_scope=False)
    state = load_pdparams(src)
    arch = ppyoloe_arch_from_state(state)
    converted, unplaced = ppyoloe_paddle_to_mmdet(state)
    if unplaced:
        raise ConversionError(f'{src}: {len(unplaced)} Paddle entries with no place in our '
                              f'PP-YOLOE+ {arch["size"]}: {unplaced[:8]}')
    if arch['num_classes'] is None:
        raise ConversionError(f'{src}: no yolo_head.pred_cls weights (a backbone-only file?)')
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(ppyoloe_model_cfg(arch))
    check_against_model(converted, model.state_dict(), src)
    return converted, arch


def _convert_ppyoloe(state, src):
    arch = ppyoloe_arch_from_state(state)
    if arch['num_classes'] is None:
        raise ConversionError(f'{src}: no yolo_head.pred_cls weights (a backbone-only file?)')
    out, unplaced = ppyoloe_paddle_to_mmdet(state)
    return out, unplaced, dict(arch, desc=f'PP-YOLOE+ {arch["size"]}'), ppyoloe_model_cfg(arch)
