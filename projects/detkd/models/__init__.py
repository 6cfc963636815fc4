"""What registers into mmdet's ``MODELS``: backbones and weight-init helpers."""
from .backbones import MobileNetV1
from .pretrained import PretrainedMMClsResNetInit, mmcls_resnet_to_mmdet

__all__ = ['MobileNetV1', 'PretrainedMMClsResNetInit', 'mmcls_resnet_to_mmdet']
