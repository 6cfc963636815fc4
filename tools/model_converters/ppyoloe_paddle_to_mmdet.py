"""Convert a PaddleDetection 2.6 PP-YOLOE(+) ``.pdparams`` to an mmdet checkpoint of ours.

    python tools/model_converters/ppyoloe_paddle_to_mmdet.py \
        ppyoloe_plus_crn_l_80e_coco.pdparams checkpoints/ppyoloe_plus_l_paddle.pth

Any size (s/m/l/x, read from the file) and class count (COCO's 80, Objects365's 365); no
Paddle needed. The file is checked against our model of that size: a key it cannot place, an
entry it leaves unfilled or a shape that differs is an error listing them. The checkpoint
loads as ``load_from`` / ``teacher_ckpt`` / ``init_cfg`` of configs/ppyoloe/*.py.
"""
import argparse
import os.path as osp

import torch

from detkd.converters.paddle import ConversionError, convert_ppyoloe_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='Paddle .pdparams file')
    parser.add_argument('dst', help='where to write the mmdet checkpoint (.pth)')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        raise SystemExit(f'{args.src}: no such file')
    try:
        state, arch = convert_ppyoloe_file(args.src)
    except ConversionError as e:
        raise SystemExit(f'error: {e}')
    meta = dict(converted_from=osp.basename(args.src), arch=arch)
    torch.save(dict(state_dict=state, meta=meta), args.dst)
    n = sum(v.numel() for k, v in state.items() if not k.endswith('num_batches_tracked'))
    print(f'saved {args.dst}: PP-YOLOE+ {arch["size"]}, {arch["num_classes"]} classes, '
          f'{len(state)} tensors, {n / 1e6:.2f} M values')


if __name__ == '__main__':
    main()
