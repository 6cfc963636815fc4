"""Key maps from PaddleDetection 2.6 ``.pdparams`` files to our mmdet models.

A ``.pdparams`` file is a pickled dict of numpy arrays (``paddle.save`` of a
state dict), readable without Paddle. Our Paddle-laid-out modules keep
Paddle's names, so a map is a handful of renames; what it cannot place is an
error, never a silently skipped tensor.

One map per architecture (:data:`ARCHS`, used by
``tools/model_converters/paddle_to_mmdet.py``): whole detectors (PP-YOLOE+,
YOLOv3 with MobileNetV1 or ResNet34, GFL with a ResNet-vd or ResNet-b,
RetinaNet with a ResNet-b) and ImageNet
backbones alone (MobileNetV1, ResNet-b, ResNet-vd), written with the
backbone's own keys so that they load as its
``init_cfg=dict(type='Pretrained', checkpoint=...)``. :func:`convert_file`
checks every result against the model it is for (:func:`check_against_model`).
"""
import pickle
import re
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

# PP-YOLOE+ sizes by blocks in the first backbone stage (round(3 * depth_mult))
PPYOLOE_DEPTHS = {1: 0.33, 2: 0.67, 3: 1.0, 4: 1.33}
PPYOLOE_SIZES = {0.33: 's', 0.67: 'm', 1.0: 'l', 1.33: 'x'}
PPYOLOE_WIDTHS = {'s': 0.5, 'm': 0.75, 'l': 1.0, 'x': 1.25}


class ConversionError(ValueError):
    """A Paddle file that does not fit the named architecture."""


def load_pdparams(path: str) -> Dict[str, np.ndarray]:
    """The state dict of a ``.pdparams`` file, as numpy arrays."""
    try:
        with open(path, 'rb') as f:
            state = pickle.load(f, encoding='latin1')
    except FileNotFoundError:
        raise
    except Exception as e:  # truncated or not a pickle
        raise ConversionError(
            f'{path} is not a readable .pdparams file (a pickled dict of numpy arrays written '
            f'by paddle.save): {type(e).__name__}: {e}. Download it again; a truncated '
            f'download fails this way.') from e
    if not isinstance(state, dict):
        raise ConversionError(f'{path}: expected a pickled dict of arrays, got '
                              f'{type(state).__name__}')
    state.pop('StructuredToParameterName@@', None)
    bad = [k for k, v in state.items() if not isinstance(v, np.ndarray)]
    if bad:
        raise ConversionError(f'{path}: entries that are not arrays: {bad[:5]}')
    return state


def _bn_rename(key: str) -> str:
    return re.sub(r'\._mean$', '.running_mean', re.sub(r'\._variance$', '.running_var', key))


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


def check_against_model(converted: Dict[str, torch.Tensor], model_state: Dict[str, torch.Tensor],
                        source: str) -> None:
    """Raise :class:`ConversionError` unless ``converted`` fills every entry
    of ``model_state`` with the same shape, and nothing is left over."""
    missing = sorted(set(model_state) - set(converted))
    extra = sorted(set(converted) - set(model_state))
    shapes = [(k, tuple(converted[k].shape), tuple(model_state[k].shape))
              for k in sorted(set(converted) & set(model_state))
              if converted[k].shape != model_state[k].shape]
    if missing or extra or shapes:
        lines = [f'{source} does not fit the model:']
        if missing:
            lines.append(f'  {len(missing)} model entries it does not fill: {missing[:8]}')
        if extra:
            lines.append(f'  {len(extra)} converted entries the model lacks: {extra[:8]}')
        for k, a, b in shapes[:8]:
            lines.append(f'  {k}: file {a}, model {b}')
        raise ConversionError('\n'.join(lines))


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


# ----------------------------------------------------------------- common helpers


def _put(out: Dict[str, torch.Tensor], key: str, value: np.ndarray) -> None:
    """``out[key] = value`` (BN statistics renamed), plus the zero
    ``num_batches_tracked`` mmdet's BN layers hold next to ``running_var``."""
    key = _bn_rename(key)
    out[key] = torch.from_numpy(np.ascontiguousarray(value))
    if key.endswith('.running_var'):
        out[key[:-len('running_var')] + 'num_batches_tracked'] = torch.tensor(0)


def _map_state(
        state: Dict[str, np.ndarray],
        rename: Callable[[str], Optional[str]]) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    out: Dict[str, torch.Tensor] = {}
    unplaced: List[str] = []
    for key, value in state.items():
        new = rename(key)
        if new is None:
            unplaced.append(key)
        else:
            _put(out, new, value)
    return out, unplaced


def _strip(key: str, prefix: str) -> Optional[str]:
    return key[len(prefix):] if key.startswith(prefix) else None


def _bn_suffix(norm: str, leaf: str) -> Optional[str]:
    """``.weight/.bias/._mean/._variance`` of a Paddle norm, mmdet-named."""
    if leaf not in ('weight', 'bias', '_mean', '_variance'):
        return None
    return f'{norm}.{leaf}'


# Keys of ImageNet classifiers: dropped (named in the report) from backbone files
CLASSIFIER = re.compile(r'^(fc|out|fc_\d+|last_conv|head|classifier)[._]')


def split_classifier(state: Dict[str, np.ndarray]) -> Tuple[Dict[str, np.ndarray], List[str]]:
    kept = {k: v for k, v in state.items() if not CLASSIFIER.match(k)}
    return kept, [k for k in state if k not in kept]


# -------------------------------------------------------------------- MobileNetV1


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


# ----------------------------------------------------------------------- ResNet

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


# ----------------------------------------------------------------------- YOLOv3


def yolov3_key(key: str) -> Optional[str]:
    """Paddle ``YOLOv3FPN`` / ``YOLOv3Head`` key -> mmdet's ``YOLOV3Neck`` /
    ``YOLOV3Head``. Paddle's detection block holds the 3x3 ``tip`` conv that
    mmdet puts in its head (``convs_bridge``)."""
    m = re.match(
        r'neck\.yolo_block\.(\d)\.conv_module\.(conv[0-3]|route)\.'
        r'(conv|batch_norm)\.(\w+)$', key)
    if m:
        i, name, layer, leaf = m.groups()
        j = 5 if name == 'route' else int(name[-1]) + 1
        base = f'neck.detect{int(i) + 1}.conv{j}'
    else:
        m = re.match(r'neck\.yolo_block\.(\d)\.tip\.(conv|batch_norm)\.(\w+)$', key)
        if m:
            i, layer, leaf = m.groups()
            base = f'bbox_head.convs_bridge.{i}'
        else:
            m = re.match(r'neck\.yolo_transition\.(\d)\.(conv|batch_norm)\.(\w+)$', key)
            if m:
                i, layer, leaf = m.groups()
                base = f'neck.conv{int(i) + 1}'
            else:
                m = re.match(r'yolo_head\.yolo_output\.(\d)\.(weight|bias)$', key)
                return f'bbox_head.convs_pred.{m.group(1)}.{m.group(2)}' if m else None
    if layer == 'conv':
        return f'{base}.conv.weight' if leaf == 'weight' else None
    sfx = _bn_suffix('bn', leaf)
    return f'{base}.{sfx}' if sfx else None


# -------------------------------------------------------------------------- GFL


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
    unplaced: List[str] = []
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
        sub = _strip(key, 'backbone.')
        if sub is not None:
            new = resnet_key(sub, variant)
            new = None if new is None else 'backbone.' + new
        else:
            new = gfl_key(key)
        if new is None:
            unplaced.append(key)
        else:
            _put(out, new, value)
    return out, unplaced


# ------------------------------------------------------------- architectures


def _backbone_state(state: Dict[str, np.ndarray], src: str) -> Dict[str, np.ndarray]:
    """The ``backbone.`` part of a detector file, unprefixed."""
    sub = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not sub:
        raise ConversionError(f'{src}: no backbone.* keys (not a detector checkpoint?). '
                              f'Its first keys: {list(state)[:5]}')
    return sub


def _config_model(path: str) -> Dict:
    """The model of one of the package's configs (``detkd::<dir>/<file>.py``: found wherever
    detkd is installed, whatever the working directory)."""
    from mmengine.config import Config

    from ..utils.config import config_path
    return Config.fromfile(config_path(path)).model.to_dict()


def _convert_mobilenet_v1(state, src):
    state, dropped = split_classifier(state)
    arch = mobilenet_v1_arch(state)
    out, unplaced = _map_state(state, mobilenet_v1_key)
    cfg = dict(type='MobileNetV1', widen_factor=arch['widen_factor'])
    return out, unplaced, dict(
        arch, dropped=dropped, desc=f'MobileNetV1 x{arch["widen_factor"]}'), cfg


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


def _yolov3_classes(state, src):
    w = state.get('yolo_head.yolo_output.0.weight')
    if w is None or w.shape[0] % 3:
        raise ConversionError(f'{src}: not a YOLOv3 file (no yolo_head.yolo_output.0.weight '
                              f'with 3 x (5 + classes) channels). First keys: {list(state)[:5]}')
    return w.shape[0] // 3 - 5


def _convert_yolov3(backbone):

    def convert(state, src):
        num_classes = _yolov3_classes(state, src)
        body = _backbone_state(state, src)
        if backbone == 'mv1':
            mobilenet_v1_arch(body)
            bmap = mobilenet_v1_key
            path = YOLOV3_CONFIGS['yolov3_mv1']
        else:
            arch = resnet_arch(body)
            if (arch['depth'], arch['variant']) != (34, 'b'):
                raise ConversionError(f'{src}: a YOLOv3 with a ResNet{arch["depth"]}-'
                                      f'{arch["variant"]} backbone, not ResNet34 (variant b)')
            bmap = lambda k: resnet_key(k, 'b')  # noqa: E731
            path = YOLOV3_CONFIGS['yolov3_r34']

        def rename(key):
            sub = _strip(key, 'backbone.')
            if sub is not None:
                new = bmap(sub)
                return None if new is None else 'backbone.' + new
            return yolov3_key(key)

        out, unplaced = _map_state(state, rename)
        cfg = _config_model(path)
        cfg['bbox_head']['num_classes'] = num_classes
        desc = f'YOLOv3 {"MobileNetV1" if backbone == "mv1" else "ResNet34"}'
        return out, unplaced, dict(num_classes=num_classes, config=path, desc=desc), cfg

    return convert


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


# ---------------------------------------------------------------------- RetinaNet


def retinanet_key(key: str) -> Optional[str]:
    """Paddle ``FPN`` / ``RetinaHead`` (``RetinaFeat`` towers: conv + bias, no norm) key ->
    mmdet's ``FPN`` / ``RetinaHead``."""
    m = re.match(r'head\.conv_feat\.fcos_head_(cls|reg)_tower_conv_(\d+)\.conv\.(weight|bias)$',
                 key)
    if m:
        branch, i, leaf = m.groups()
        return f'bbox_head.{branch}_convs.{i}.conv.{leaf}'
    m = re.match(r'head\.retina_(cls|reg)\.(weight|bias)$', key)
    if m:
        return f'bbox_head.retina_{m.group(1)}.{m.group(2)}'
    new = gfl_key(key)  # the same FPN
    return new if new is not None and new.startswith('neck.') else None


def _convert_retinanet(state, src):
    cls = state.get('head.retina_cls.weight')
    if cls is None or cls.shape[0] % 9:
        raise ConversionError(f'{src}: not a RetinaNet file (no head.retina_cls.weight with '
                              f'9 x classes channels). First keys: {list(state)[:5]}')
    arch = resnet_arch(_backbone_state(state, src))
    if arch['variant'] != 'b' or arch['depth'] not in RETINANET_CONFIGS:
        raise ConversionError(f'{src}: a RetinaNet with a ResNet{arch["depth"]}-'
                              f'{arch["variant"]} backbone; configs exist for the seed\'s '
                              'ResNet50/101 (variant b)')

    def rename(key):
        sub = _strip(key, 'backbone.')
        if sub is not None:
            new = resnet_key(sub, 'b')
            return None if new is None else 'backbone.' + new
        return retinanet_key(key)

    out, unplaced = _map_state(state, rename)
    path = RETINANET_CONFIGS[arch['depth']]
    cfg = _config_model(path)
    cfg['backbone'].pop('init_cfg', None)
    num_classes = int(cls.shape[0]) // 9
    cfg['bbox_head']['num_classes'] = num_classes
    return out, unplaced, dict(
        arch, num_classes=num_classes, config=path, desc=f'RetinaNet ResNet{arch["depth"]}'), cfg


def _convert_ppyoloe(state, src):
    arch = ppyoloe_arch_from_state(state)
    if arch['num_classes'] is None:
        raise ConversionError(f'{src}: no yolo_head.pred_cls weights (a backbone-only file?)')
    out, unplaced = ppyoloe_paddle_to_mmdet(state)
    return out, unplaced, dict(arch, desc=f'PP-YOLOE+ {arch["size"]}'), ppyoloe_model_cfg(arch)


YOLOV3_CONFIGS = {
    'yolov3_mv1': 'detkd::yolov3/yolov3_mv1_608_270e_coco.py',
    'yolov3_r34': 'detkd::yolov3/yolov3_r34_608_270e_coco.py',
}
GFL_CONFIGS = {
    'd': 'detkd::gfl/gfl_r101vd_paddle_coco.py',
    'b': 'detkd::gfl/gfl_r50_paddle_coco.py'
}
RETINANET_CONFIGS = {
    50: 'detkd::retinanet/retinanet_r50_paddle_coco.py',
    101: 'detkd::retinanet/retinanet_r101_paddle_coco.py'
}

# name: (converter(state, src) -> (state dict, unplaced keys, info, model or backbone
#        config), backbone only, what it reads)
ARCHS = {
    'mobilenet_v1': (_convert_mobilenet_v1, True,
                     'ImageNet MobileNetV1 (MobileNetV1_pretrained.pdparams), backbone alone'),
    'resnet': (_convert_resnet('b'), True,
               'ImageNet ResNet18/34/50/101 variant b (ResNet34_pretrained.pdparams ...), '
               'backbone alone'),
    'resnet_vd': (_convert_resnet('d'), True,
                  'ImageNet ResNet18/34/50/101-vd (ResNet18_vd_pretrained.pdparams ...), '
                  'backbone alone'),
    'yolov3_mv1':
    (_convert_yolov3('mv1'), False, 'YOLOv3 MobileNetV1 (yolov3_mobilenet_v1_270e_coco.pdparams)'),
    'yolov3_r34':
    (_convert_yolov3('r34'), False, 'YOLOv3 ResNet34 (yolov3_r34_270e_coco.pdparams)'),
    'gfl_resnet_vd':
    (_convert_gfl('d'), False,
     'GFL with a ResNet18/34/50/101-vd (gfl_r101vd_fpn_mstrain_2x_coco.pdparams ...)'),
    'gfl_r101vd': (_convert_gfl('d'), False, 'alias of gfl_resnet_vd'),
    'gfl_resnet': (_convert_gfl('b'), False,
                   'GFL with a ResNet50/101 variant b (gfl_r50_fpn_2x_coco_cwd.pdparams, the '
                   'seed\'s CWD GFL R50 student)'),
    'retinanet': (_convert_retinanet, False,
                  'RetinaNet ResNet50/101 (retinanet_r101_fpn_2x_coco.pdparams, the seed\'s '
                  'teacher; retinanet_r101_distill_r50_2x_coco.pdparams and '
                  'retinanet_r50_fpn_2x_coco_cwd.pdparams, its FGD and CWD students)'),
    'ppyoloe_plus':
    (_convert_ppyoloe, False,
     'PP-YOLOE(+) s/m/l/x, COCO or Objects365 (ppyoloe_plus_crn_l_80e_coco.pdparams, '
     'ppyoloe_crn_l_obj365_pretrained.pdparams ...)'),
}


def convert_file(arch: str, src: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, object]]:
    """Read, convert and check a ``.pdparams`` for architecture ``arch`` (a key of
    :data:`ARCHS`). Returns the state dict (a backbone's own keys for the
    backbone-only archs) and an info dict (``desc``, the architecture read from
    the file, ``dropped``: classifier keys left out, ``model_cfg``). Raises
    :class:`ConversionError` on a file that does not fit: keys it cannot place,
    entries of the model it would leave empty, shapes that differ."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope

    import detkd  # noqa: F401  (registers our modules)
    if arch not in ARCHS:
        raise ConversionError(f'unknown ARCH {arch!r}; one of {sorted(ARCHS)}')
    register_all_modules(init_default_scope=False)
    convert, _, _ = ARCHS[arch]
    state = load_pdparams(src)
    out, unplaced, info, cfg = convert(state, src)
    if unplaced:
        raise ConversionError(f'{src}: {len(unplaced)} Paddle entries with no place in our '
                              f'{info["desc"]} (ARCH {arch}): {unplaced[:8]}')
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg)
    check_against_model(out, model.state_dict(), src)
    info['model_cfg'] = cfg
    return out, info
