"""Paddle parity fixtures: what PaddleDetection 2.6 computes, with synthetic weights.

Run with the Paddle venv (``bash tools/paddle_parity/setup_venv.sh`` makes it)::

    OMP_NUM_THREADS=1 .venv-paddle/bin/python tools/paddle_parity/make_fixtures.py \
        --arch ppyoloe_plus_s

For each architecture it builds Paddle's model, loads the weights that
``detkd.testing.paddle_weights.synth_state`` makes from the model's parameter spec,
runs fixed inputs and writes ``tests/data/paddle/<arch>.npz`` (float32/int arrays
and a JSON ``meta``) and ``tests/data/paddle/<arch>_spec.json`` (the parameter spec:
``[key, shape, dtype]``). The weights are not stored: a test regenerates them from
the spec. ``--compare`` recomputes and compares with the stored file instead of
writing. See tools/paddle_parity/README.md for what each array is.

Architectures are builder functions in ``ARCHS`` (``@register('name')``): each
returns ``(arrays, spec, meta)``. One module per architecture registers its own:
``fixtures_ppyoloe.py``, ``fixtures_yolov3.py``, ``fixtures_resnet.py``,
``fixtures_gfl.py``, ``fixtures_retinanet.py``; ``fixtures_common.py`` holds the
registry and what they share.
"""
import argparse
import json
import os
import os.path as osp
import sys

os.environ.setdefault('OMP_NUM_THREADS', '1')

# each fixtures_<arch> module registers its builders in ARCHS when imported
import fixtures_gfl  # noqa: E402,F401
import fixtures_ppyoloe  # noqa: E402,F401
import fixtures_resnet  # noqa: E402,F401
import fixtures_retinanet  # noqa: E402,F401
import fixtures_yolov3  # noqa: E402,F401
import numpy as np  # noqa: E402
from fixtures_common import ARCHS, ROOT, pw  # noqa: E402

OUT_DIR = osp.join(ROOT, 'tests', 'data', 'paddle')


def compare(arrays, path):
    old = np.load(path)
    worst = 0.
    for k, v in arrays.items():
        if k not in old.files:
            print(f'new: {k}')
            continue
        o = old[k]
        if o.shape != np.shape(v):
            print(f'shape {k}: {o.shape} -> {np.shape(v)}')
            continue
        if o.dtype.kind in 'fc':
            d = float(np.abs(o.astype(np.float64) - np.asarray(v, np.float64)).max(initial=0))
            worst = max(worst, d)
            if d > 0:
                print(f'{k}: max abs diff {d:.3g}')
        elif not np.array_equal(o, v):
            print(f'differs: {k}')
    for k in old.files:
        if k not in arrays and k != 'meta':
            print(f'gone: {k}')
    print(f'largest float difference: {worst:.3g}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), nargs='+', default=sorted(ARCHS))
    parser.add_argument('--seed', type=int, default=0, help='synth_state seed')
    parser.add_argument(
        '--input-seed',
        type=int,
        default=1,
        help='synth_images seed (1: the widest NMS margins of seeds 0-9, see README)')
    parser.add_argument('--out-dir', default=OUT_DIR)
    parser.add_argument(
        '--compare', action='store_true', help='compare with the stored fixtures, write nothing')
    parser.add_argument('--dry-run', action='store_true', help='print the diagnostics only')
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for arch in args.arch:
        arrays, spec, meta = ARCHS[arch](args)
        npz = osp.join(args.out_dir, f'{arch}.npz')
        print(json.dumps(meta['diagnostics'], indent=1))
        if args.compare:
            compare(arrays, npz)
        if args.compare or args.dry_run:
            continue
        arrays = {
            k: (v.astype(np.float32) if v.dtype == np.float64 and v.ndim else v)
            for k, v in ((k, np.asarray(v)) for k, v in arrays.items())
        }
        np.savez_compressed(npz, meta=np.array(json.dumps(meta, indent=1)), **arrays)
        pw.save_spec(spec, osp.join(args.out_dir, f'{arch}_spec.json'))
        size = osp.getsize(npz) + osp.getsize(osp.join(args.out_dir, f'{arch}_spec.json'))
        print(f'{arch}: {len(arrays)} arrays, {size / 1e6:.2f} MB written to {args.out_dir}')
        for k, v in arrays.items():
            print(f'  {k:40s} {str(v.dtype):8s} {tuple(v.shape)}')


if __name__ == '__main__':
    sys.exit(main())
