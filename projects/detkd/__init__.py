"""detkd: detection knowledge distillation on MMDetection and MMRazor.

Importing the package registers everything it provides (configs load it with
``custom_imports = dict(imports=['detkd'])``): ``detkd.distill`` into MMRazor's registries
(algorithm, losses, connectors), ``detkd.models`` and ``detkd.datasets`` into mmdet's.
"""
from . import compat  # noqa: F401  (must run before anything imports mmrazor.models)
from . import datasets, distill, models, utils  # noqa: F401,E402

__version__ = '0.1.0'
