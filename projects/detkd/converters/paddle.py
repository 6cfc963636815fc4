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

This module is the registry; each architecture's map is in its own module
(:mod:`.mobilenet_v1`, :mod:`.resnet`, :mod:`.yolov3`, :mod:`.gfl`,
:mod:`.retinanet`, :mod:`.ppyoloe`; what they share in :mod:`.common`). Their
public names are importable from here too.
"""
from typing import Dict, Tuple

import torch

from .common import (CLASSIFIER, ConversionError, check_against_model, load_pdparams,
                     split_classifier)
from .gfl import GFL_CONFIGS, _convert_gfl, gfl_key, gfl_paddle_to_mmdet
from .mobilenet_v1 import _convert_mobilenet_v1, mobilenet_v1_arch, mobilenet_v1_key
from .ppyoloe import (PPYOLOE_DEPTHS, PPYOLOE_SIZES, PPYOLOE_WIDTHS, _convert_ppyoloe,
                      convert_ppyoloe_file, ppyoloe_arch_from_state, ppyoloe_model_cfg,
                      ppyoloe_paddle_to_mmdet)
from .resnet import RESNET_DEPTHS, _convert_resnet, resnet_arch, resnet_key
from .retinanet import RETINANET_CONFIGS, _convert_retinanet, retinanet_key
from .yolov3 import YOLOV3_CONFIGS, _convert_yolov3, yolov3_key

__all__ = [
    'ARCHS', 'CLASSIFIER', 'ConversionError', 'GFL_CONFIGS', 'PPYOLOE_DEPTHS', 'PPYOLOE_SIZES',
    'PPYOLOE_WIDTHS', 'RESNET_DEPTHS', 'RETINANET_CONFIGS', 'YOLOV3_CONFIGS',
    'check_against_model', 'convert_file', 'convert_ppyoloe_file', 'gfl_key',
    'gfl_paddle_to_mmdet', 'load_pdparams', 'mobilenet_v1_arch', 'mobilenet_v1_key',
    'ppyoloe_arch_from_state', 'ppyoloe_model_cfg', 'ppyoloe_paddle_to_mmdet', 'resnet_arch',
    'resnet_key', 'retinanet_key', 'split_classifier', 'yolov3_key'
]

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
