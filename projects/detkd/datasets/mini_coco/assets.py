"""The sprites and backgrounds of the mini COCO scenes, cut from scikit-image's photos.

Reads the photographs bundled inside the scikit-image wheel (never through pooch) and
cuts the objects of every class out of them as sprites, RGB pixels with a softened alpha
mask: by hand-drawn polygon and ellipse outlines, refined where the photo allows by
colour (the astronaut's studio wall, the cameraman's coat), by a threshold (the coins),
by the stereo disparity map (the motorcycle) or by the silhouette (the horse, coated with
photo textures). Object-free photos, textures and regions serve as backgrounds.
:func:`load_assets` gathers both, once per process.
"""
from functools import lru_cache
from pathlib import Path
from typing import List, NamedTuple, Tuple

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from .constants import CLASSES


class Sprite(NamedTuple):
    """A cut-out object: RGB pixels and an alpha mask, cropped to the mask's extent."""

    rgb: Image.Image  # mode 'RGB'
    alpha: Image.Image  # mode 'L'; >= 128 counts as object when deciding boxes


class Assets(NamedTuple):
    """Everything cut from the bundled photos: sprites per class and backgrounds."""

    sprites: Tuple[Tuple[Sprite, ...], ...]  # indexed like CLASSES
    backgrounds: Tuple[np.ndarray, ...]  # uint8 HxWx3, or HxW for grey ones


def _data_dir() -> Path:
    """Folder of the photographs bundled inside the scikit-image wheel.

    The files are read directly rather than through ``skimage.data`` so that nothing
    can ever fall back to a pooch download.
    """
    import skimage
    return Path(skimage.__file__).parent / 'data'


def _read(name: str) -> np.ndarray:
    """Read a bundled image file as a numpy array (channels as stored)."""
    path = _data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f'{path} is missing: the mini COCO generator needs the images bundled with '
            'scikit-image (pinned to 0.24.0 in requirements.txt)')
    with Image.open(path) as im:
        return np.asarray(im)


def _polygon_mask(shape: Tuple[int, int], points) -> np.ndarray:
    """Boolean mask of a polygon given as (x, y) vertices."""
    im = Image.new('L', (shape[1], shape[0]), 0)
    ImageDraw.Draw(im).polygon([tuple(p) for p in points], fill=255)
    return np.asarray(im) > 0


def _ellipse_mask(shape: Tuple[int, int], box) -> np.ndarray:
    """Boolean mask of the ellipse inscribed in box (x0, y0, x1, y1); may exceed the image."""
    h, w = shape
    x0, y0, x1, y1 = box
    yy, xx = np.ogrid[:h, :w]
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return ((xx - cx) / rx)**2 + ((yy - cy) / ry)**2 <= 1


def _to_rgb(img: np.ndarray) -> np.ndarray:
    """Grey (HxW) or RGBA images to HxWx3."""
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    return img[..., :3]


def _make_sprite(rgb: np.ndarray, mask: np.ndarray) -> Sprite:
    """Crop an object to the bounding box of its mask and soften the mask's edge.

    The one-pixel feather keeps pasted objects from having jagged cut-out borders,
    which a detector could otherwise learn as a shortcut instead of the object.
    """
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    alpha = ndi.gaussian_filter(mask[y0:y1, x0:x1].astype(np.float32), 0.7)
    # Re-binarise the core so that the >= 0.5 object extent equals the original mask.
    alpha = np.where(mask[y0:y1, x0:x1], np.maximum(alpha, 0.5), np.minimum(alpha, 0.49))
    return Sprite(
        Image.fromarray(np.ascontiguousarray(_to_rgb(rgb)[y0:y1, x0:x1])),
        Image.fromarray(np.round(alpha * 255).astype(np.uint8)))


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of a mask, smooth it and keep its largest connected part."""
    mask = ndi.binary_opening(ndi.binary_fill_holes(mask), iterations=2)
    labels, _ = ndi.label(mask)
    return labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1


def _astronaut_wall(astro: np.ndarray) -> np.ndarray:
    """The warm grey studio wall of the astronaut photo: bright, unsaturated, red >= blue.

    The (white) shuttle model is slightly bluish, which keeps it out of this mask.
    """
    rgb = astro.astype(np.int16)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    mean = rgb.mean(axis=2)
    return (spread < 25) & (mean > 150) & (mean < 228) & (rgb[..., 0] >= rgb[..., 2])


def _person_sprites() -> List[Sprite]:
    """The astronaut (head and suit) and the cameraman (without his tripod).

    Outlines are drawn by hand; the background inside them is removed by colour: the
    studio wall behind the astronaut, the sky and lawn around the cameraman's dark coat.
    """
    astro = _read('astronaut.png')
    # yapf: disable
    astro_mask = _polygon_mask(astro.shape[:2], [
        (150, 60), (175, 20), (225, 12), (280, 25), (300, 70), (298, 140), (305, 180),
        (310, 240), (345, 270), (360, 330), (365, 511), (20, 511), (25, 330), (45, 270),
        (110, 240), (115, 180), (150, 140)])
    astro_mask = _largest_component(astro_mask & ~_astronaut_wall(astro))
    camera = _read('camera.png')
    coat = _polygon_mask(camera.shape[:2], [
        (0, 250), (40, 170), (130, 110), (160, 80), (200, 65), (255, 90), (265, 130),
        (300, 150), (325, 170), (330, 200), (310, 230), (260, 250), (280, 300), (250, 330),
        (150, 360), (150, 511), (0, 511)]) & (camera < 70)
    # Face, hands and camera are not dark; they are taken whole from a tight outline.
    head = _polygon_mask(camera.shape[:2], [
        (165, 95), (175, 75), (205, 62), (245, 78), (262, 110), (255, 138), (325, 138),
        (332, 200), (300, 235), (240, 225), (170, 190)]) & (camera < 200)
    # yapf: enable
    camera_mask = _largest_component(coat | head)
    return [_make_sprite(astro, astro_mask), _make_sprite(camera, camera_mask)]


def _cat_sprites() -> List[Sprite]:
    """Chelsea's head, once whole and once a tighter cut around eyes and nose."""
    cat = _read('chelsea.png')
    return [
        _make_sprite(cat, _ellipse_mask(cat.shape[:2], box))
        for box in ((0, -70, 451, 330), (80, 30, 390, 300))
    ]


def _cup_sprites() -> List[Sprite]:
    """The espresso cup on its saucer: the saucer's ellipse plus the cup's rim."""
    cup = _read('coffee.png')
    shape = cup.shape[:2]
    mask = (
        _ellipse_mask(shape, (75, 80, 482, 392)) | _ellipse_mask(shape, (170, 15, 415, 110))
        | _polygon_mask(shape, [(172, 60), (412, 60), (412, 240), (172, 240)]))
    return [_make_sprite(cup, mask)]


def _rocket_sprites() -> List[Sprite]:
    """The launcher on its pad and the space-shuttle model behind the astronaut."""
    rocket = _read('rocket.jpg')
    # yapf: disable
    rocket_mask = _polygon_mask(rocket.shape[:2], [
        (322, 125), (312, 140), (308, 170), (308, 405), (337, 405), (336, 170), (332, 140)])
    astro = _read('astronaut.png')
    shuttle_mask = _polygon_mask(astro.shape[:2], [
        (395, 10), (405, 0), (430, 0), (440, 20), (445, 40), (455, 60), (455, 160),
        (470, 220), (468, 255), (440, 262), (380, 262), (355, 245), (360, 210), (375, 190),
        (378, 120), (385, 75), (392, 40)])
    # yapf: enable
    shuttle_mask = _largest_component(shuttle_mask & ~_astronaut_wall(astro))
    return [_make_sprite(rocket, rocket_mask), _make_sprite(astro, shuttle_mask)]


def _motorcycle_sprites() -> List[Sprite]:
    """The motorcycle of the stereo pair, cut by its disparity inside a rough outline.

    The outline alone would keep the garage floor and shelves seen through the wheels;
    pixels nearer to the camera than the floor at the same image row are the bike.
    """
    bike = _read('motorcycle_left.png')
    with np.load(_data_dir() / 'motorcycle_disp.npz') as npz:
        disp = npz['arr_0']
    disp = np.where(np.isfinite(disp), disp, 0)
    # yapf: disable
    outline = _polygon_mask(bike.shape[:2], [
        (95, 200), (150, 150), (300, 190), (340, 130), (370, 120), (420, 130), (470, 120),
        (500, 85), (520, 80), (540, 110), (580, 125), (575, 140), (560, 185), (540, 210),
        (560, 260), (610, 265), (645, 300), (680, 360), (690, 400), (670, 445), (620, 455),
        (580, 425), (540, 385), (500, 335), (470, 365), (400, 385), (350, 375), (345, 435),
        (320, 440), (315, 385), (270, 355), (240, 395), (190, 405), (140, 385), (118, 330),
        (115, 280), (100, 240)])
    # yapf: enable
    # Floor disparity grows linearly down the image (measured on the empty floor at the
    # image sides); the shelves behind the bike are far below 30.
    rows = np.arange(disp.shape[0], dtype=np.float32)[:, None]
    floor = np.maximum(30.0, 23.0 + 0.18 * (rows - 300.0))
    mask = ndi.binary_closing(outline & (disp > floor + 2.0), iterations=2)
    return [_make_sprite(bike, _largest_component(mask))]


def _horse_sprites(textures: List[np.ndarray]) -> List[Sprite]:
    """The horse silhouette, filled with coat colours modulated by photo textures.

    The bundled horse is a flat black shape; a coat of a real texture (fur of Chelsea,
    wood, gravel) in horse colours keeps it a photographic object rather than a stencil.
    """
    horse = _read('horse.png')
    mask = (horse[..., 3] >= 128) & (horse[..., 0] < 128)
    h, w = mask.shape
    coats = np.array([(120, 72, 40), (150, 90, 50), (60, 40, 30), (30, 28, 26), (180, 170, 160),
                      (200, 160, 110)], np.float32)
    sprites = []
    for i, coat in enumerate(coats):
        tex = textures[i % len(textures)].astype(np.float32)
        tex = tex.mean(axis=2) if tex.ndim == 3 else tex
        th, tw = tex.shape
        # Resize the texture to cover the silhouette, then normalise it to a gentle
        # +-25% modulation so the coat colour dominates.
        tex = np.asarray(Image.fromarray(tex).resize((max(w, tw), max(h, th)),
                                                     Image.BILINEAR))[:h, :w]
        tex = (tex - tex.mean()) / (tex.std() + 1e-6)
        rgb = np.clip(coat * (1.0 + 0.25 * np.clip(tex, -2, 2))[..., None], 0, 255)
        sprites.append(_make_sprite(rgb.astype(np.uint8), mask))
    return sprites


def _coin_sprites() -> List[Sprite]:
    """The 24 coins, segmented by a threshold after removing the uneven illumination.

    A grey opening larger than any coin estimates the background; on the top-hat the
    coins separate cleanly at 50. Greyscale coins get a silver, copper or brass tint.
    """
    coins = _read('coins.png').astype(np.float32)
    background = ndi.grey_opening(ndi.uniform_filter(coins, 5), size=(85, 85))
    mask = ndi.binary_opening(ndi.binary_fill_holes(coins - background > 50), iterations=2)
    labels, _ = ndi.label(mask)
    tints = np.array([(1.0, 1.0, 1.0), (1.1, 0.78, 0.55), (1.1, 0.95, 0.6)], np.float32)
    sprites = []
    for i, obj in enumerate(ndi.find_objects(labels)):
        coin_mask = np.zeros_like(mask)
        coin_mask[obj] = labels[obj] == i + 1
        if coin_mask.sum() < 800:  # specks of the background, not coins
            continue
        rgb = np.clip(coins[..., None] * tints[len(sprites) % 3], 0, 255).astype(np.uint8)
        sprites.append(_make_sprite(rgb, coin_mask))
    return sprites


def _backgrounds() -> List[np.ndarray]:
    """Object-free photos and textures (or object-free regions of the object photos)."""
    # yapf: disable
    regions = [
        ('brick.png', None), ('grass.png', None), ('gravel.png', None), ('moon.png', None),
        ('hubble_deep_field.jpg', None), ('page.png', None), ('text.png', None),
        ('ihc.png', None), ('cell.png', None), ('retina.jpg', (300, 300, 1100, 1100)),
        ('coffee.png', (490, 0, 600, 400)),            # the wooden table right of the saucer
        ('motorcycle_right.png', (0, 420, 741, 500)),  # the garage floor
        ('camera.png', (410, 260, 512, 512)),          # the lawn behind the tripod
    ]
    # yapf: enable
    out = []
    for name, box in regions:
        img = _read(name)
        if box is not None:
            x0, y0, x1, y1 = box
            img = img[y0:y1, x0:x1]
        out.append(np.ascontiguousarray(img[..., :3] if img.ndim == 3 else img))
    return out


@lru_cache(maxsize=1)
def load_assets() -> Assets:
    """Cut all sprites and backgrounds out of the bundled photos (cached per process)."""
    backgrounds = _backgrounds()
    textures = [_read('chelsea.png'), _read('coffee.png')[:, 490:], _read('gravel.png')]
    sprites = {
        'person': _person_sprites(),
        'cat': _cat_sprites(),
        'cup': _cup_sprites(),
        'rocket': _rocket_sprites(),
        'motorcycle': _motorcycle_sprites(),
        'horse': _horse_sprites(textures),
        'coin': _coin_sprites(),
    }
    return Assets(tuple(tuple(sprites[c]) for c in CLASSES), tuple(backgrounds))
