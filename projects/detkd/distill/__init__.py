"""What registers into MMRazor's ``MODELS``: the distillation algorithm, the losses of the
PaddleDetection suite and the connectors they need; and into MMEngine's ``HOOKS``, the
balance hook of every distillation run."""
from . import losses  # noqa: F401
from .algorithm import DetDistill
from .balance import DistillBalanceHook
from .connectors import AlignNormConnector
from .cross_head import CrossHeadRecorder, align_to_teacher
from .deliveries import OptionalMethodOutputsDelivery
from .distiller import DetDistiller

__all__ = [
    'DetDistill', 'DetDistiller', 'DistillBalanceHook', 'AlignNormConnector', 'CrossHeadRecorder',
    'OptionalMethodOutputsDelivery', 'align_to_teacher'
]
