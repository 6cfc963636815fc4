"""``MiniCocoDataset``: mmdet's CocoDataset on the mini COCO data, generated on first use.

The class is defined (and registered in mmdet's DATASETS) only when mmdet imports, so
that the generator and its command-line tool work without mmdet; without it, this module
has no ``MiniCocoDataset`` and importing that name raises ImportError.
"""
import os
from typing import Optional

from .constants import CLASSES, PALETTE

try:
    from mmdet.datasets import CocoDataset
    from mmdet.registry import DATASETS
except ImportError:  # the generator and its CLI work without mmdet
    CocoDataset = None

if CocoDataset is not None:

    @DATASETS.register_module()
    class MiniCocoDataset(CocoDataset):
        """mmdet's CocoDataset on the mini COCO data, generated on first use.

        Before the annotations are loaded, :func:`ensure_mini_coco` generates the dataset
        into ``data_root`` (or the folder above the ``ann_file`` folder when ``data_root``
        is not set) unless a complete one is there, so a config that points at
        ``data/mini_coco/`` works on a fresh clone without a manual step. Dataloader
        workers and distributed ranks may all construct it at once: one generates, the
        others wait for it.
        """

        METAINFO = dict(classes=CLASSES, palette=PALETTE)

        def __init__(self, *args, data_root: Optional[str] = '', **kwargs):
            ann_file = kwargs.get('ann_file', args[0] if args else '')
            root = data_root or os.path.dirname(os.path.dirname(ann_file))
            if not root:
                raise ValueError('MiniCocoDataset needs data_root (or an ann_file path '
                                 'inside <data_root>/annotations/) to know where to '
                                 'generate the dataset')
            from .generate import ensure_mini_coco  # the generator: loaded when used
            info = ensure_mini_coco(root)
            if info['generated']:
                from mmengine.logging import print_log
                print_log(f"generated the mini COCO dataset in {info['root']}", logger='current')
            super().__init__(*args, data_root=data_root, **kwargs)
