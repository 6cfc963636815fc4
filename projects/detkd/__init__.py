"""detkd: detection knowledge distillation on MMDetection and MMRazor.

Importing the package registers everything it provides (configs load it with
``custom_imports = dict(imports=['detkd'])``): ``detkd.distill`` into MMRazor's registries
(algorithm, losses, connectors) and the balance hook into MMEngine's, ``detkd.models`` and
``detkd.datasets`` into mmdet's, ``detkd.engine`` the CPU mixed-precision optimizer wrapper.
"""
from . import compat  # noqa: F401  (must run before anything imports mmrazor.models)
from . import datasets, distill, engine, models, utils  # noqa: F401,E402

__version__ = '0.1.0'
