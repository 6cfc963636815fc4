"""Datasets: the embedded mini COCO dataset and its mmdet dataset class (the generator's
functions are loaded on first use: see ``mini_coco``)."""
from . import mini_coco
from .mini_coco import CLASSES, PALETTE, VERSION

__all__ = [
    'CLASSES', 'PALETTE', 'VERSION', 'ensure_mini_coco', 'generate_mini_coco', 'load_assets'
]


def __getattr__(name: str):
    if name in ('ensure_mini_coco', 'generate_mini_coco', 'load_assets'):
        return getattr(mini_coco, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


try:
    from .mini_coco import MiniCocoDataset  # noqa: F401  (defined only if mmdet imports)
except ImportError:
    pass
else:
    __all__.append('MiniCocoDataset')
