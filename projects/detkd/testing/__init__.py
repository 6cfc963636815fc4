"""Helpers for tests and benchmarks (as ``mmdet.testing``): small data samples and
straightforward reference implementations that the vectorised code is checked against."""
from .data import make_data_samples
from .fgd_reference import reference_fgd_masks

__all__ = ['make_data_samples', 'reference_fgd_masks']
