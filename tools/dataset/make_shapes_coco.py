"""Write a small COCO-format dataset of filled shapes on real photo crops (the stand-in for
your own dataset in docs/your_data.md; read by mmdet's CocoDataset, not the mini loader).

    python tools/dataset/make_shapes_coco.py --out data/shapes --classes disc triangle
"""
import argparse

from detkd.datasets.shapes import SHAPES, write_shapes_coco


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='data/shapes')
    p.add_argument('--classes', nargs='+', default=['disc', 'triangle'], choices=SHAPES)
    p.add_argument('--num-train', type=int, default=240)
    p.add_argument('--num-val', type=int, default=60)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    counts = write_shapes_coco(
        args.out, args.classes, args.num_train, args.num_val, seed=args.seed)
    for split, c in counts.items():
        print(f'{split}: {c["images"]} images, {c["instances"]} instances')


if __name__ == '__main__':
    main()
