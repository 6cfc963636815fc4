"""What registers into mmdet's ``MODELS`` and ``TASK_UTILS``: backbones, necks,
heads, detectors, assigners and weight-init helpers."""
from .backbones import CSPResNet, MobileNetV1
from .dense_heads import PPYOLOEHead
from .detectors import PPYOLOE
from .ema import ThresholdEMA
from .necks import CustomCSPPAN
from .pretrained import PretrainedMMClsResNetInit, mmcls_resnet_to_mmdet
from .task_modules import BatchATSSAssigner, BatchTaskAlignedAssigner

__all__ = [
    'BatchATSSAssigner', 'BatchTaskAlignedAssigner', 'CSPResNet', 'CustomCSPPAN', 'MobileNetV1',
    'PPYOLOE', 'PPYOLOEHead', 'PretrainedMMClsResNetInit', 'ThresholdEMA', 'mmcls_resnet_to_mmdet'
]
