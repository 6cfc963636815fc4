"""detkd: detection knowledge distillation on MMDetection and MMRazor."""
from . import compat  # noqa: F401  (must run before anything imports mmrazor.models)

__version__ = '0.1.0'
