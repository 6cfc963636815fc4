"""Draw the ground-truth boxes of a COCO-format split, to look at the data.

Reads ``<root>/annotations/instances_<split>.json`` and ``<root>/<split>/`` (the layout of
the mini COCO dataset; ``--ann-file``/``--img-dir`` point it at any other COCO split),
draws each box with its class name on N images and writes them to ``--out-dir``;
``--grid`` also writes one contact sheet of all of them.

    python tools/dataset/browse_dataset.py --root data/mini_coco --split val \\
        --num 16 --out-dir work_dirs/browse --grid
"""
import argparse
import colorsys
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', default='data/mini_coco', help='dataset root')
    parser.add_argument('--split', default='train', help='split name (train or val)')
    parser.add_argument(
        '--ann-file',
        help='annotation file '
        '(default: <root>/annotations/instances_<split>.json)')
    parser.add_argument('--img-dir', help='image folder (default: <root>/<split>)')
    parser.add_argument('--num', type=int, default=16, help='number of images to draw')
    parser.add_argument(
        '--shuffle',
        action='store_true',
        help='draw a random sample (see --seed) instead of the first N')
    parser.add_argument('--seed', type=int, default=0, help='seed of --shuffle')
    parser.add_argument(
        '--out-dir', default='work_dirs/browse_dataset', help='where to write the drawn images')
    parser.add_argument(
        '--format', choices=['jpg', 'png'], default='jpg', help='file format of the drawn images')
    parser.add_argument(
        '--grid',
        action='store_true',
        help='also write grid.<format>, one contact sheet of all images')
    parser.add_argument(
        '--cell', type=int, default=256, help='size of one image in the contact sheet, in pixels')
    return parser.parse_args(argv)


def class_colours(num: int):
    """num well separated, saturated RGB colours (evenly spaced hues)."""
    return [
        tuple(int(255 * c) for c in colorsys.hsv_to_rgb(i / num, 0.9, 1.0)) for i in range(num)
    ]


def draw_boxes(img: Image.Image, anns, names, colours) -> Image.Image:
    """A copy of img with each annotation's box and class name drawn on it."""
    img = img.convert('RGB')
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    for ann in anns:
        x, y, w, h = ann['bbox']
        colour = colours[ann['category_id']]
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=colour, width=2)
        label = names[ann['category_id']]
        tx0, ty0, tx1, ty1 = draw.textbbox((0, 0), label, font=font)
        th = ty1 + 2
        # Label above the box, or below it when the box touches the top edge: never
        # inside, where it would hide small objects.
        ty = y - th if y >= th else y + h
        draw.rectangle([x, ty, x + tx1 + 3, ty + th], fill=colour)
        draw.text((x + 2, ty), label, fill=(0, 0, 0), font=font)
    return img


def contact_sheet(images, cell: int) -> Image.Image:
    """Tile images, each fitted into a cell x cell square, into a near-square grid."""
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    sheet = Image.new('RGB', (cols * cell, rows * cell), (32, 32, 32))
    for i, img in enumerate(images):
        thumb = img.copy()
        thumb.thumbnail((cell - 4, cell - 4))
        x = (i % cols) * cell + (cell - thumb.width) // 2
        y = (i // cols) * cell + (cell - thumb.height) // 2
        sheet.paste(thumb, (x, y))
    return sheet


def main(argv=None):
    args = parse_args(argv)
    root = Path(args.root)
    ann_file = Path(args.ann_file or root / 'annotations' / f'instances_{args.split}.json')
    img_dir = Path(args.img_dir or root / args.split)
    if not ann_file.is_file():
        sys.exit(f'{ann_file} not found; generate the mini dataset first with '
                 f'python tools/dataset/make_mini_coco.py --out {root}')
    with open(ann_file) as f:
        coco = json.load(f)

    names = {c['id']: c['name'] for c in coco['categories']}
    colours = dict(zip(sorted(names), class_colours(len(names))))
    anns_of = defaultdict(list)
    for ann in coco['annotations']:
        anns_of[ann['image_id']].append(ann)
    images = coco['images']
    if args.shuffle:
        order = np.random.default_rng(args.seed).permutation(len(images))
        images = [images[i] for i in order]
    images = images[:args.num]

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = []
    for info in images:
        with Image.open(img_dir / info['file_name']) as img:
            vis = draw_boxes(img, anns_of[info['id']], names, colours)
        vis.save(out_dir / f"{Path(info['file_name']).stem}.{args.format}")
        drawn.append(vis)
    print(f'wrote {len(drawn)} images to {out_dir}')
    if args.grid and drawn:
        grid_path = out_dir / f'grid.{args.format}'
        contact_sheet(drawn, args.cell).save(grid_path)
        print(f'wrote contact sheet {grid_path}')


if __name__ == '__main__':
    main()
