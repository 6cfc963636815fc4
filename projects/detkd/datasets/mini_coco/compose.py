"""The composition of one random mini COCO image from sprites and a background.

Draws a background (a random crop of a random background, resized, re-coloured and maybe
flipped), then for each object a class, sprite, size, aspect, position, flip and colour
jitter, pastes the objects back to front so that they occlude each other, annotates each
one with the box of its visible part (skipping those mostly hidden or off-frame) and adds
mild sensor noise. All randomness comes from the generator passed in, drawn in a fixed
order, so an image depends only on that generator's seed.
"""
import math
from typing import List, NamedTuple, Tuple

import numpy as np
from PIL import Image

from .assets import Assets, Sprite
from .constants import CLASSES, MAX_OBJ_SIZE, MAX_UPSCALE, MIN_OBJ_SIZE, MIN_VISIBLE_FRACTION


def _background(rng: np.random.Generator, backgrounds, width: int, height: int) -> np.ndarray:
    """A random crop of a random background, resized to the image and re-coloured.

    Grey sources are tinted with a random colour so that backgrounds do not reveal
    themselves by being the only unsaturated part of an image.
    """
    src = backgrounds[rng.integers(len(backgrounds))]
    sh, sw = src.shape[:2]
    # Crop with the target aspect ratio, covering 40-100% of the source's short side.
    scale = rng.uniform(0.4, 1.0) * min(sw / width, sh / height)
    cw, ch = max(int(width * scale), 8), max(int(height * scale), 8)
    x0, y0 = rng.integers(sw - cw + 1), rng.integers(sh - ch + 1)
    crop = Image.fromarray(src[y0:y0 + ch, x0:x0 + cw]).resize((width, height), Image.BILINEAR)
    img = np.asarray(crop, dtype=np.float32)
    if img.ndim == 2:
        img = img[..., None] * rng.uniform(0.6, 1.2, size=3).astype(np.float32)
    else:
        img = img * rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    if rng.random() < 0.5:
        img = img[:, ::-1]
    return np.clip(img, 0, 255)


def _colour_jitter(rng: np.random.Generator, rgb: np.ndarray) -> np.ndarray:
    """Random brightness, contrast, saturation and white balance (float32 HxWx3)."""
    grey = rgb.mean(axis=2, keepdims=True)
    rgb = grey + (rgb - grey) * rng.uniform(0.6, 1.4)  # saturation
    rgb = rgb.mean() + (rgb - rgb.mean()) * rng.uniform(0.7, 1.3)  # contrast
    rgb = rgb * (rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, size=3))  # brightness, balance
    return np.clip(rgb, 0, 255).astype(np.float32)


class _Placement(NamedTuple):
    """Where and how one sprite is pasted; x0, y0 may be negative (partly off-frame)."""

    depth: float
    cls: int
    sprite: Sprite
    x0: int
    y0: int
    w: int
    h: int
    flip: bool


def _place(rng: np.random.Generator, assets: Assets, width: int, height: int) -> _Placement:
    """Draw a random class, sprite, size, aspect, position and flip for one object."""
    cls = int(rng.integers(len(CLASSES)))
    sprite = assets.sprites[cls][rng.integers(len(assets.sprites[cls]))]
    size = math.exp(rng.uniform(math.log(MIN_OBJ_SIZE), math.log(MAX_OBJ_SIZE)))
    aspect = sprite.rgb.width / sprite.rgb.height * rng.uniform(0.85, 1.15)
    w, h = size * math.sqrt(aspect), size / math.sqrt(aspect)
    fit = min(1.0, 0.95 * min(width, height) / max(w, h), MAX_UPSCALE * sprite.rgb.width / w)
    w, h = max(int(round(w * fit)), 2), max(int(round(h * fit)), 2)
    # Up to a quarter of an object may lie outside the frame, as in real photos.
    x0 = int(rng.integers(-(w // 4), width - w + w // 4 + 1))
    y0 = int(rng.integers(-(h // 4), height - h + h // 4 + 1))
    # Larger objects tend to be pasted first, i.e. to stand behind smaller ones, so
    # that occlusion is mostly partial, as with near and far objects in a photo.
    depth = -w * h * rng.uniform(0.5, 1.5)
    return _Placement(depth, cls, sprite, x0, y0, w, h, bool(rng.random() < 0.5))


def compose_image(rng: np.random.Generator, assets: Assets, width: int, height: int,
                  num_objects: int) -> Tuple[np.ndarray, List[Tuple[int, List[int]]]]:
    """Paste num_objects random sprites onto a random background.

    Returns the image (uint8 HxWx3) and its annotations as (class index, [x, y, w, h])
    with each box the visible extent of its object, after clipping to the frame and
    occlusion by the objects pasted over it. Objects with less than
    MIN_VISIBLE_FRACTION of their mask visible are left unannotated.
    """
    canvas = _background(rng, assets.backgrounds, width, height)
    placements = sorted((_place(rng, assets, width, height) for _ in range(num_objects)),
                        key=lambda p: p.depth)
    # owner[y, x] = index of the topmost object at that pixel, -1 for background.
    owner = np.full((height, width), -1, np.int16)
    mask_pixels = []
    for k, p in enumerate(placements):
        rgb = np.asarray(p.sprite.rgb.resize((p.w, p.h), Image.BILINEAR), np.float32)
        alpha = np.asarray(p.sprite.alpha.resize((p.w, p.h), Image.BILINEAR), np.float32)
        alpha /= 255
        if p.flip:
            rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
        rgb = _colour_jitter(rng, rgb)
        # The part of the sprite that falls inside the frame.
        sx0, sy0 = max(0, -p.x0), max(0, -p.y0)
        sx1, sy1 = min(p.w, width - p.x0), min(p.h, height - p.y0)
        region = (slice(p.y0 + sy0, p.y0 + sy1), slice(p.x0 + sx0, p.x0 + sx1))
        a = alpha[sy0:sy1, sx0:sx1]
        canvas[region] += a[..., None] * (rgb[sy0:sy1, sx0:sx1] - canvas[region])
        owner[region][a >= 0.5] = k
        mask_pixels.append(int((alpha >= 0.5).sum()))

    annotations = []
    for k, p in enumerate(placements):
        ox, oy = max(0, p.x0), max(0, p.y0)
        visible = owner[oy:p.y0 + p.h, ox:p.x0 + p.w] == k
        if visible.sum() < MIN_VISIBLE_FRACTION * mask_pixels[k]:
            continue
        rows, cols = np.nonzero(visible.any(axis=1))[0], np.nonzero(visible.any(axis=0))[0]
        bw, bh = int(cols[-1] - cols[0]) + 1, int(rows[-1] - rows[0]) + 1
        if bw >= 2 and bh >= 2:
            annotations.append((p.cls, [ox + int(cols[0]), oy + int(rows[0]), bw, bh]))

    # Mild sensor noise, so that pasted sprites and backgrounds share one noise texture.
    canvas += rng.normal(0.0, 2.0, size=canvas.shape).astype(np.float32)
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8), annotations
