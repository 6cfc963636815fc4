"""PaddleDetection ``.pdparams`` -> mmdet state dicts (no Paddle needed)."""
from .paddle import (ARCHS, ConversionError, check_against_model, convert_file,
                     convert_ppyoloe_file, load_pdparams, ppyoloe_arch_from_state,
                     ppyoloe_model_cfg, ppyoloe_paddle_to_mmdet)

__all__ = [
    'ARCHS', 'ConversionError', 'check_against_model', 'convert_file', 'convert_ppyoloe_file',
    'load_pdparams', 'ppyoloe_arch_from_state', 'ppyoloe_model_cfg', 'ppyoloe_paddle_to_mmdet'
]
