"""Helpers shared by the package and the tools (no registration here)."""
from .config import enable_amp, expand_model_refs, load_config, model_cfg
from .dist import setup_cpu_distributed
from .logs import read_balance, read_logged_metrics

__all__ = [
    'enable_amp', 'expand_model_refs', 'load_config', 'model_cfg', 'setup_cpu_distributed',
    'read_balance', 'read_logged_metrics'
]
