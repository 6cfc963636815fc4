"""Dense heads mmdet lacks, registered in mmdet's ``MODELS``."""
from .ppyoloe_head import PPYOLOEHead

__all__ = ['PPYOLOEHead']
