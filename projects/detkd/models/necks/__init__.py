"""Necks mmdet lacks, registered in mmdet's ``MODELS``."""
from .custom_csp_pan import CustomCSPPAN

__all__ = ['CustomCSPPAN']
