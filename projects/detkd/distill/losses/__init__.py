"""Distillation losses, one file per method, registered in MMRazor's ``MODELS``."""
from .bckd import BCKDClsLoss, BCKDLocLoss
from .crosskd import BoxKDLoss, CenternessKDLoss, DistributionKDLoss, QualityFocalKDLoss
from .fgd import FGDLoss
from .ld import LDClsKDLoss, LDKLLoss, LDMainLoss, LDVLRLoss, vlr_region
from .ppyoloe_kd import (PPYOLOELogitsLoss, ppyoloe_box_distill, ppyoloe_cls_distill,
                         ppyoloe_dfl_distill, ppyoloe_kd_distill)
from .yolov3_kd import YOLOv3DistillLoss

__all__ = [
    'BCKDClsLoss', 'BCKDLocLoss', 'BoxKDLoss', 'CenternessKDLoss', 'DistributionKDLoss',
    'QualityFocalKDLoss', 'FGDLoss', 'LDClsKDLoss', 'LDKLLoss', 'LDMainLoss', 'LDVLRLoss',
    'PPYOLOELogitsLoss', 'YOLOv3DistillLoss', 'ppyoloe_box_distill', 'ppyoloe_cls_distill',
    'ppyoloe_dfl_distill', 'ppyoloe_kd_distill', 'vlr_region'
]
