"""Datasets: the embedded mini COCO dataset and its mmdet dataset class."""
from .mini_coco import CLASSES, PALETTE, VERSION, ensure_mini_coco, generate_mini_coco, load_assets

__all__ = [
    'CLASSES', 'PALETTE', 'VERSION', 'ensure_mini_coco', 'generate_mini_coco', 'load_assets'
]

try:
    from .mini_coco import MiniCocoDataset  # noqa: F401  (defined only if mmdet imports)
except ImportError:
    pass
else:
    __all__.append('MiniCocoDataset')
