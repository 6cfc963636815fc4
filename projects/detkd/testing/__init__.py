"""Helpers for tests and benchmarks (as ``mmdet.testing``): small data samples and
straightforward reference implementations that the vectorised code is checked against, and
distillation configs built with a random teacher."""
from .data import make_data_samples
from .fgd_reference import reference_fgd_masks
from .pairs import NO_PRETRAINED, RANDOM_TEACHER, build_pair

__all__ = [
    'make_data_samples', 'reference_fgd_masks', 'build_pair', 'RANDOM_TEACHER', 'NO_PRETRAINED'
]
