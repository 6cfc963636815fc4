"""An embedded mini COCO-format detection dataset, generated from bundled photographs.

No dataset can be downloaded where this project runs, so the mini training runs use a
dataset that is generated on the spot from the real photographs that ship inside the
scikit-image wheel (``skimage/data/*``; none of the images that scikit-image fetches
with pooch). Objects are cut out of those photos with hand-drawn polygon masks or masks
segmented from the image itself (coins by threshold, the motorcycle from the stereo
disparity map, the horse from its silhouette), then pasted with random scale, aspect,
horizontal flip, colour jitter and mutual occlusion onto random crops of other bundled
photos and textures.

Layout on disk (COCO format, file names relative to the split folder)::

    <root>/train/000001.jpg ...
    <root>/val/000001.jpg ...
    <root>/annotations/instances_train.json
    <root>/annotations/instances_val.json
    <root>/.complete            # JSON: generator version, parameters and statistics

Everything is drawn from a fixed seed, JPEGs are written with fixed settings and the JSON
holds no timestamps, so the same seed gives the same bytes on every run on one machine.

The generator only needs numpy, scipy (a dependency of scikit-image), Pillow and
scikit-image, so ``tools/dataset/make_mini_coco.py`` stays light; ``MiniCocoDataset``, the
mmdet dataset that generates the data on first use, is defined only when mmdet imports.

Modules: ``constants`` (classes, generator version, defaults, scene parameters),
``assets`` (sprites and backgrounds cut from the photos), ``compose`` (one random image
and its boxes), ``generate`` (writing the splits, ``generate_mini_coco`` and
``ensure_mini_coco``) and ``dataset`` (``MiniCocoDataset``). This package re-exports
their public names; the generator's (``assets``, ``compose``, ``generate``: scikit-image and
the photographs) only when one is first used, so that importing detkd, or training on data
that exists, does not load them.
"""
import importlib

from .constants import (CLASSES, DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL, DEFAULT_SEED, EMPTY_FRACTION,
                        JPEG_QUALITY, LARGE_AREA, MARKER, MAX_OBJ_SIZE, MAX_OBJECTS, MAX_SIDE,
                        MAX_UPSCALE, MIN_OBJ_SIZE, MIN_SIDE, MIN_VISIBLE_FRACTION, PALETTE,
                        SMALL_AREA, SPLITS, VERSION)

_LAZY = {
    'Assets': 'assets',
    'Sprite': 'assets',
    'load_assets': 'assets',
    'generate_mini_coco': 'generate',
    'ensure_mini_coco': 'generate'
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f'.{_LAZY[name]}', __name__), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'CLASSES', 'PALETTE', 'VERSION', 'DEFAULT_NUM_TRAIN', 'DEFAULT_NUM_VAL', 'DEFAULT_SEED',
    'SPLITS', 'MARKER', 'JPEG_QUALITY', 'MIN_SIDE', 'MAX_SIDE', 'MAX_OBJECTS', 'EMPTY_FRACTION',
    'MIN_OBJ_SIZE', 'MAX_OBJ_SIZE', 'MAX_UPSCALE', 'MIN_VISIBLE_FRACTION', 'SMALL_AREA',
    'LARGE_AREA', 'Sprite', 'Assets', 'load_assets', 'generate_mini_coco', 'ensure_mini_coco'
]

try:
    from .dataset import MiniCocoDataset  # noqa: F401  (defined only if mmdet imports)
except ImportError:  # the generator and its CLI work without mmdet
    pass
else:
    __all__.append('MiniCocoDataset')
