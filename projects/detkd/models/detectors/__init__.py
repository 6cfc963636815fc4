"""Detectors mmdet lacks, registered in mmdet's ``MODELS``."""
from .ppyoloe import PPYOLOE

__all__ = ['PPYOLOE']
