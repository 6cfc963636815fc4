"""PaddleDetection's model EMA as an mmengine averaged model."""
import torch
from mmdet.registry import MODELS
from mmengine.model import ExponentialMovingAverage


@MODELS.register_module()
class ThresholdEMA(ExponentialMovingAverage):
    """EMA whose decay warms up as PaddleDetection's ``ModelEMA``
    (``ema_decay_type='threshold'``): at update ``t`` (from 0) the average
    keeps ``min(1 - momentum, (1 + t) / (10 + t))`` of itself. ``momentum``
    is mmengine's (1 - Paddle's decay: 0.0002 for its 0.9998). mmengine copies
    the model at the first update where Paddle averages it into zeros with
    decay 0.1 (the same to 10%, and forgotten within a few hundred steps)."""

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps: int) -> None:
        decay = min(1 - self.momentum, (1 + steps) / (10 + steps))
        averaged_param.lerp_(source_param, 1 - decay)
