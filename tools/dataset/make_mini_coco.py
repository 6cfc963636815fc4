"""Generate the embedded mini COCO dataset and print its statistics.

    python tools/dataset/make_mini_coco.py --out data/mini_coco

Does nothing but print the statistics when a complete dataset with the same parameters
and generator version is already there (``--force`` regenerates it). Training does not
need this step: ``MiniCocoDataset`` generates the data on first use.
"""
import argparse
import time

from detkd.datasets.mini_coco import (DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL, DEFAULT_SEED,
                                      ensure_mini_coco)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/mini_coco', help='dataset root to write')
    parser.add_argument(
        '--num-train', type=int, default=DEFAULT_NUM_TRAIN, help='number of training images')
    parser.add_argument(
        '--num-val', type=int, default=DEFAULT_NUM_VAL, help='number of validation images')
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED, help='random seed')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if a complete dataset is already there')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def format_stats(info: dict) -> str:
    """A table of the per-split statistics that ensure_mini_coco returns."""
    splits = info['splits']
    names = list(next(iter(splits.values()))['per_class'])
    rows = [('images', 'images'), *((f'  {n}', n) for n in names), ('instances', 'instances'),
            ('small (<32^2)', 'small'), ('medium', 'medium'), ('large (>96^2)', 'large'),
            ('empty images', 'empty_images')]
    lines = [f"{'':16}" + ''.join(f'{s:>8}' for s in splits)]
    for label, key in rows:
        values = [
            s['per_class'][key] if key in s['per_class'] else s[key] for s in splits.values()
        ]
        lines.append(f'{label:16}' + ''.join(f'{v:>8}' for v in values))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    info = ensure_mini_coco(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        seed=args.seed,
        progress=not args.no_progress,
        force=args.force)
    elapsed = time.perf_counter() - start
    state = 'generated' if info['generated'] else 'already complete, kept'
    print(f"{info['root']}: {state} ({info['version']}, seed {info['params']['seed']})")
    print(format_stats(info))
    print(f'time: {elapsed:.1f} s')


if __name__ == '__main__':
    main()
