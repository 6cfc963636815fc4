"""Distillation losses, one file per method, registered in MMRazor's ``MODELS``."""
from .fgd import FGDLoss
from .ld import LDClsKDLoss, LDKLLoss, LDMainLoss, LDVLRLoss, vlr_region
from .yolov3_kd import YOLOv3DistillLoss

__all__ = [
    'FGDLoss', 'LDClsKDLoss', 'LDKLLoss', 'LDMainLoss', 'LDVLRLoss', 'YOLOv3DistillLoss',
    'vlr_region'
]
