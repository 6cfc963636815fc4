"""YOLOv3 with a MobileNetV1 or ResNet34 backbone -> mmdet's ``YOLOV3``.

Paddle's ``YOLOv3FPN`` / ``YOLOv3Head`` map to mmdet's ``YOLOV3Neck`` / ``YOLOV3Head``
(:func:`yolov3_key`); the model is the package's ``detkd::yolov3`` config.
"""
import re
from typing import Optional

from .common import (ConversionError, _backbone_state, _bn_suffix, _config_model, _map_state,
                     detector_key)
from .mobilenet_v1 import mobilenet_v1_arch, mobilenet_v1_key
from .resnet import resnet_arch, resnet_key

YOLOV3_CONFIGS = {
    'yolov3_mv1': 'detkd::yolov3/yolov3_mv1_608_270e_coco.py',
    'yolov3_r34': 'detkd::yolov3/yolov3_r34_608_270e_coco.py',
}


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

        out, unplaced = _map_state(state, detector_key(bmap, yolov3_key))
        cfg = _config_model(path)
        cfg['bbox_head']['num_classes'] = num_classes
        desc = f'YOLOv3 {"MobileNetV1" if backbone == "mv1" else "ResNet34"}'
        return out, unplaced, dict(num_classes=num_classes, config=path, desc=desc), cfg

    return convert
