"""What registers into MMEngine beyond the models: the optimizer wrapper for mixed precision
on a CPU."""
from .amp import BFloat16AmpOptimWrapper

__all__ = ['BFloat16AmpOptimWrapper']
