"""detkd: detection knowledge distillation on MMDetection and MMRazor.

Importing the package registers everything it provides (configs load it with
``custom_imports = dict(imports=['detkd'])``).
"""
from . import compat  # noqa: F401  (must run before anything imports mmrazor.models)
from . import algorithms, connectors, datasets, losses, models, utils  # noqa: F401,E402

__version__ = '0.1.0'
