"""Distillation losses, one file per method, registered in MMRazor's ``MODELS``."""
from .fgd import FGDLoss

__all__ = ['FGDLoss']
