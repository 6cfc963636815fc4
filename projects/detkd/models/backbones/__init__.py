"""Backbones mmdet lacks, registered in mmdet's ``MODELS``."""
from .cspresnet import CSPResNet
from .mobilenet_v1 import MobileNetV1

__all__ = ['CSPResNet', 'MobileNetV1']
