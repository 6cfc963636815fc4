"""What registers into mmdet's ``MODELS``: backbones and weight-init helpers."""
from .pretrained import PretrainedMMClsResNetInit, mmcls_resnet_to_mmdet

__all__ = ['PretrainedMMClsResNetInit', 'mmcls_resnet_to_mmdet']
