from .dist import setup_cpu_distributed
from .logs import read_logged_metrics

__all__ = ['setup_cpu_distributed', 'read_logged_metrics']
