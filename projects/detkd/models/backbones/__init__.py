"""Backbones mmdet lacks, registered in mmdet's ``MODELS``."""
from .cspresnet import CSPResNet
from .mobilenet_v1 import MobileNetV1
from .paddle_compat import ConvWithBias, PaddleResNet

__all__ = ['CSPResNet', 'ConvWithBias', 'MobileNetV1', 'PaddleResNet']
