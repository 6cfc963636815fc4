"""Writing the mini COCO dataset to disk, and keeping an existing one when it is complete.

:func:`generate_mini_coco` renders each split's images from a per-image random stream,
writes them as JPEGs with their COCO annotation file, and writes last a completion
marker holding the generator version, the parameters and per-split statistics.
:func:`ensure_mini_coco` keeps a dataset whose marker matches and regenerates it
otherwise, building in a temporary folder under an flock so that concurrent callers
(dataloader workers, distributed ranks) never see it half written.
"""
import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image

from .assets import load_assets
from .compose import compose_image
from .constants import (CLASSES, DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL, DEFAULT_SEED, EMPTY_FRACTION,
                        JPEG_QUALITY, LARGE_AREA, MARKER, MAX_OBJECTS, MAX_SIDE, MIN_SIDE,
                        SMALL_AREA, SPLITS, VERSION)


def _split_stats(coco: dict) -> dict:
    """Counts of a COCO dict: images, instances per class, COCO size ranges, empties."""
    areas = np.array([a['area'] for a in coco['annotations']], np.float64)
    cats = np.array([a['category_id'] for a in coco['annotations']], np.int64)
    with_objects = {a['image_id'] for a in coco['annotations']}
    return {
        'images': len(coco['images']),
        'instances': len(coco['annotations']),
        'per_class': {
            c['name']: int((cats == c['id']).sum())
            for c in coco['categories']
        },
        'small': int((areas < SMALL_AREA).sum()),
        'medium': int(((areas >= SMALL_AREA) & (areas < LARGE_AREA)).sum()),
        'large': int((areas >= LARGE_AREA).sum()),
        'empty_images': len(coco['images']) - len(with_objects),
    }


def _generate_split(root: Path, split: str, num_images: int, seed: int, progress: bool) -> dict:
    """Render one split's images into root/<split>/ and return its COCO dict."""
    assets = load_assets()
    img_dir = root / split
    img_dir.mkdir(parents=True, exist_ok=True)
    # One independent stream per image (plus one for split-level draws), so an image's
    # content depends only on (seed, split, index), not on how many images come before.
    streams = np.random.SeedSequence([seed, SPLITS.index(split)]).spawn(num_images + 1)
    split_rng = np.random.default_rng(streams[0])
    num_empty = min(num_images, max(1, round(EMPTY_FRACTION * num_images)))
    empty = set(split_rng.choice(num_images, size=num_empty, replace=False).tolist())

    indices = range(num_images)
    if progress:
        from tqdm import tqdm  # only needed for the bar; keeps the import list minimal
        indices = tqdm(indices, desc=f'mini_coco {split}', unit='img')
    images, annotations = [], []
    for i in indices:
        rng = np.random.default_rng(streams[i + 1])
        width, height = (int(v) for v in rng.integers(MIN_SIDE, MAX_SIDE + 1, size=2))
        num_objects = 0 if i in empty else int(rng.integers(1, MAX_OBJECTS + 1))
        pixels, objects = compose_image(rng, assets, width, height, num_objects)
        file_name = f'{i + 1:06d}.jpg'
        Image.fromarray(pixels).save(img_dir / file_name, quality=JPEG_QUALITY)
        images.append({'id': i + 1, 'file_name': file_name, 'width': width, 'height': height})
        # yapf: disable
        for cls, (x, y, w, h) in objects:
            annotations.append({
                'id': len(annotations) + 1,
                'image_id': i + 1,
                'category_id': cls + 1,
                'bbox': [float(x), float(y), float(w), float(h)],
                'area': float(w * h),
                'iscrowd': 0,
                # The box as a polygon: there are no instance masks to offer.
                'segmentation': [[float(x), float(y), float(x + w), float(y),
                                  float(x + w), float(y + h), float(x), float(y + h)]],
            })
    return {
        'info': {'description': 'detkd mini COCO, generated from scikit-image sample photos',
                 'version': VERSION},
        'images': images,
        'annotations': annotations,
        'categories': [{'id': i + 1, 'name': name, 'supercategory': 'object'}
                       for i, name in enumerate(CLASSES)],
    }
    # yapf: enable


def generate_mini_coco(root: Union[str, Path],
                       num_train: int = DEFAULT_NUM_TRAIN,
                       num_val: int = DEFAULT_NUM_VAL,
                       seed: int = DEFAULT_SEED,
                       progress: bool = True) -> dict:
    """Generate the dataset into root (created if needed, existing files overwritten).

    The completion marker is removed first and written last, so an interrupted run never
    looks complete. Prefer :func:`ensure_mini_coco`, which also builds in a temporary
    folder and is safe with concurrent callers.

    Returns:
        dict: ``root`` (absolute path), ``version``, ``params`` (num_train, num_val, seed)
        and ``splits``: per split, ``ann_file`` and ``img_prefix`` (relative to root) and
        its statistics (images, instances, per_class, small, medium, large, empty_images).
    """
    root = Path(root).absolute()
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    (root / MARKER).unlink(missing_ok=True)
    splits = {}
    for split, num in zip(SPLITS, (num_train, num_val)):
        coco = _generate_split(root, split, num, seed, progress)
        ann_file = f'annotations/instances_{split}.json'
        with open(root / ann_file, 'w') as f:
            json.dump(coco, f, separators=(',', ':'))
        splits[split] = {'ann_file': ann_file, 'img_prefix': f'{split}/', **_split_stats(coco)}
    info = {
        'version': VERSION,
        'params': {
            'num_train': num_train,
            'num_val': num_val,
            'seed': seed
        },
        'splits': splits
    }
    with open(root / MARKER, 'w') as f:
        json.dump(info, f, indent=1)
    return {'root': str(root), **info}


def _read_marker(root: Path) -> Optional[dict]:
    """The marker of a complete dataset of this generator version, else None.

    Complete means: the marker parses, names this VERSION, and the annotation files and
    the recorded number of images in each split folder are all present.
    """
    try:
        with open(root / MARKER) as f:
            info = json.load(f)
        if info.get('version') != VERSION:
            return None
        for split, stats in info['splits'].items():
            if not (root / stats['ann_file']).is_file():
                return None
            if sum(1 for _ in (root / split).glob('*.jpg')) != stats['images']:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return info


def _params_match(info: dict, wanted: dict) -> bool:
    """Whether a dataset's parameters match the requested ones (None = any value)."""
    return all(v is None or info['params'].get(k) == v for k, v in wanted.items())


@contextlib.contextmanager
def _locked(lock_path: Path):
    """Hold an exclusive flock on lock_path (created if needed) for the with-block."""
    with open(lock_path, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_mini_coco(root: Union[str, Path],
                     num_train: Optional[int] = None,
                     num_val: Optional[int] = None,
                     seed: Optional[int] = None,
                     progress: bool = True,
                     force: bool = False) -> dict:
    """Make sure a complete mini COCO dataset exists at root, generating it if needed.

    An existing dataset is kept when its marker names the current generator VERSION, its
    files are all there and its parameters match those given (a parameter left None
    accepts any value; a missing dataset is generated with the defaults, 600 train and
    150 val images from seed 0). Otherwise, or with ``force``, it is regenerated.

    Safe when several processes (dataloader workers, distributed ranks) call it at once:
    they serialise on an flock beside root, and the dataset is built in a temporary
    folder next to root and renamed into place, so no caller ever sees it half written.

    Returns:
        dict: as :func:`generate_mini_coco`, plus ``generated`` (whether this call
        generated the dataset).

    Raises:
        FileExistsError: root exists and holds something other than a mini COCO dataset;
            it is never deleted.
    """
    root = Path(root).absolute()
    wanted = {'num_train': num_train, 'num_val': num_val, 'seed': seed}
    info = None if force else _read_marker(root)
    if info is not None and _params_match(info, wanted):
        return {'root': str(root), **info, 'generated': False}

    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f'.{root.name}.lock'):
        # Another process may have finished the job while this one waited for the lock.
        info = None if force else _read_marker(root)
        if info is not None and _params_match(info, wanted):
            return {'root': str(root), **info, 'generated': False}
        if root.exists() and not set(os.listdir(root)) <= {*SPLITS, 'annotations', MARKER}:
            raise FileExistsError(
                f'{root} exists but is not a mini COCO dataset (it has other files); '
                'refusing to replace it: remove it or choose another data_root')
        # Temporary folders left by a process that died while holding the lock.
        for stale in root.parent.glob(f'.{root.name}.tmp-*'):
            shutil.rmtree(stale, ignore_errors=True)
        # Plain mkdir rather than mkdtemp, whose 0700 mode would stick to the dataset;
        # under the lock the process id makes the name unique.
        tmp = root.parent / f'.{root.name}.tmp-{os.getpid()}'
        tmp.mkdir()
        try:
            result = generate_mini_coco(
                tmp,
                num_train=DEFAULT_NUM_TRAIN if num_train is None else num_train,
                num_val=DEFAULT_NUM_VAL if num_val is None else num_val,
                seed=DEFAULT_SEED if seed is None else seed,
                progress=progress)
            if root.exists():
                # A directory cannot be replaced by rename while it has files: move the
                # old one aside first, then delete it once the new one is in place.
                old = root.parent / f'.{root.name}.tmp-old-{os.getpid()}'
                os.replace(root, old)
                os.replace(tmp, root)
                shutil.rmtree(old)
            else:
                os.replace(tmp, root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return {**result, 'root': str(root), 'generated': True}
