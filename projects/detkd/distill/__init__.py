"""What registers into MMRazor's ``MODELS``: the distillation algorithm, the losses of the
PaddleDetection suite and the connectors they need."""
from . import losses  # noqa: F401
from .algorithm import DetDistill
from .connectors import AlignNormConnector
from .deliveries import OptionalMethodOutputsDelivery

__all__ = ['DetDistill', 'AlignNormConnector', 'OptionalMethodOutputsDelivery']
