"""A small COCO-format dataset of your own kind: filled shapes (discs, triangles, ...) on crops
of real photos, written as plain COCO (``annotations/instances_{train,val}.json`` and JPEGs in
``train/`` and ``val/``), read by mmdet's own ``CocoDataset``.

It stands for a user's dataset in ``docs/your_data.md`` and in the tests of that walk: another
class count, other image sizes and objects than the mini dataset, and none of its loader.

    python tools/dataset/make_shapes_coco.py --out data/shapes --classes disc triangle
"""
import json
import os
import os.path as osp
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ('disc', 'triangle', 'square', 'diamond')


def _photos():
    """The photos bundled with scikit-image, as RGB arrays (the backgrounds)."""
    from skimage import data
    out = []
    for name in ('astronaut', 'coffee', 'chelsea', 'rocket', 'immunohistochemistry',
                 'motorcycle_left'):
        try:
            img = getattr(data, name)()
        except Exception:  # an image a scikit-image release lacks
            continue
        if img.ndim == 2:
            img = np.stack([img] * 3, -1)
        out.append(np.ascontiguousarray(img[..., :3]))
    return out


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float):
    if shape == 'triangle':
        k = 3
    elif shape == 'square':
        k, angle = 4, angle + np.pi / 4
    else:  # diamond
        k = 4
    a = angle + 2 * np.pi * np.arange(k) / k
    return [(cx + r * np.cos(t), cy + r * np.sin(t)) for t in a]


def write_shapes_coco(root: str,
                      classes: Sequence[str] = ('disc', 'triangle'),
                      num_train: int = 240,
                      num_val: int = 60,
                      size=(160, 224),
                      max_objects: int = 4,
                      seed: int = 0) -> dict:
    """Write the dataset under ``root``; returns the image and instance counts per split.
    Images of ``size`` (min, max) side, 0 to ``max_objects`` shapes each (about one image in
    ten empty), the shapes 12 to 72 px across, in random colours, never fully outside."""
    bad = [c for c in classes if c not in SHAPES]
    if bad:
        raise ValueError(f'write_shapes_coco: unknown shapes {bad}; choose from {SHAPES}')
    rng = np.random.default_rng(seed)
    photos = _photos()
    counts = {}
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split, num in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        coco = dict(
            images=[],
            annotations=[],
            categories=[dict(id=i + 1, name=c) for i, c in enumerate(classes)])
        for idx in range(num):
            h, w = (int(v) for v in rng.integers(size[0], size[1] + 1, 2))
            photo = photos[rng.integers(len(photos))]
            y0 = rng.integers(0, photo.shape[0] - h + 1)
            x0 = rng.integers(0, photo.shape[1] - w + 1)
            img = Image.fromarray(photo[y0:y0 + h, x0:x0 + w])
            draw = ImageDraw.Draw(img)
            n = 0 if rng.random() < 0.1 else int(rng.integers(1, max_objects + 1))
            image_id = idx + 1
            for _ in range(n):
                label = int(rng.integers(len(classes)))
                r = float(rng.uniform(6, 36))
                cx, cy = float(rng.uniform(0, w)), float(rng.uniform(0, h))
                colour = tuple(int(v) for v in rng.integers(0, 256, 3))
                if classes[label] == 'disc':
                    pts = [(cx - r, cy - r), (cx + r, cy + r)]
                    draw.ellipse(pts, fill=colour)
                    xs, ys = [cx - r, cx + r], [cy - r, cy + r]
                else:
                    poly = _polygon(classes[label], cx, cy, r, float(rng.uniform(0, 2 * np.pi)))
                    draw.polygon(poly, fill=colour)
                    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
                x1, y1 = max(0., min(xs)), max(0., min(ys))
                x2, y2 = min(float(w), max(xs)), min(float(h), max(ys))
                if x2 - x1 < 4 or y2 - y1 < 4:
                    continue
                coco['annotations'].append(
                    dict(
                        id=len(coco['annotations']) + 1,
                        image_id=image_id,
                        category_id=label + 1,
                        bbox=[x1, y1, x2 - x1, y2 - y1],
                        area=(x2 - x1) * (y2 - y1),
                        iscrowd=0))
            name = f'{idx:06d}.jpg'
            img.save(osp.join(root, split, name), quality=92)
            coco['images'].append(dict(id=image_id, file_name=name, height=h, width=w))
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(coco, f)
        counts[split] = dict(images=num, instances=len(coco['annotations']))
    return counts
