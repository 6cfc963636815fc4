"""RetinaNet (ResNet50/101-b + FPN + RetinaHead) -> mmdet's ``RetinaNet`` with
:class:`~detkd.models.PaddleResNet`.

The FPN keys are GFL's (:func:`~.gfl.gfl_key`); the model is the package's
``detkd::retinanet`` config of the file's depth.
"""
import re
from typing import Optional

from .common import ConversionError, _backbone_state, _config_model, _map_state, detector_key
from .gfl import gfl_key
from .resnet import resnet_arch, resnet_key

RETINANET_CONFIGS = {
    50: 'detkd::retinanet/retinanet_r50_paddle_coco.py',
    101: 'detkd::retinanet/retinanet_r101_paddle_coco.py'
}


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

    out, unplaced = _map_state(state, detector_key(lambda k: resnet_key(k, 'b'), retinanet_key))
    path = RETINANET_CONFIGS[arch['depth']]
    cfg = _config_model(path)
    cfg['backbone'].pop('init_cfg', None)
    num_classes = int(cls.shape[0]) // 9
    cfg['bbox_head']['num_classes'] = num_classes
    return out, unplaced, dict(
        arch, num_classes=num_classes, config=path, desc=f'RetinaNet ResNet{arch["depth"]}'), cfg
