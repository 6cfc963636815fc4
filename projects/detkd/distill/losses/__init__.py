"""Distillation losses, one file per method, registered in MMRazor's ``MODELS``."""
from .fgd import FGDLoss
from .ld import LDClsKDLoss, LDKLLoss, LDMainLoss, LDVLRLoss, vlr_region

__all__ = ['FGDLoss', 'LDClsKDLoss', 'LDKLLoss', 'LDMainLoss', 'LDVLRLoss', 'vlr_region']
