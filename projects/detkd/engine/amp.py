"""Mixed precision wherever the run is: ``BFloat16AmpOptimWrapper``."""
from typing import Union

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BFloat16AmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's ``AmpOptimWrapper`` in bfloat16, which runs on a CPU too.

    MMEngine's wrapper refuses to start without a GPU; autocast itself runs on a CPU, in
    bfloat16 only. bfloat16 has float32's exponent range, so no loss scaling is needed
    (the scaler is off: ``scale`` and ``unscale_`` do nothing). ``tools/train.py --amp``
    picks it when CUDA is absent; on a GPU it picks MMEngine's float16 ``AmpOptimWrapper``
    with dynamic loss scaling, as mmdet does. ``DetDistill`` computes the distillation losses
    in float32 either way.

    Args:
        dtype (str | torch.dtype): must be bfloat16 (the default).
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``, ...).
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError('BFloat16AmpOptimWrapper runs in bfloat16 only; for float16 on '
                             f'a GPU use AmpOptimWrapper (got dtype={dtype!r})')
        OptimWrapper.__init__(self, **kwargs)  # not AmpOptimWrapper's: it asserts CUDA
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
