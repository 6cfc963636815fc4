"""Turn a distillation checkpoint into a plain mmdet checkpoint of the student.

    python tools/model_converters/export_student.py work_dirs/fgd/epoch_4.pth student.pth
    python tools/test.py configs/retinanet/retinanet_r18_mini.py student.pth   # the student config

Keeps the student's weights (``architecture.*`` without the prefix) and the meta data;
drops the teacher, the distillation losses' own modules (align convs, FGD's context
blocks) and the optimizer state.
"""
import argparse
from collections import OrderedDict

import torch


def export_student(checkpoint: dict) -> dict:
    state = checkpoint.get('state_dict', checkpoint)
    prefix = 'architecture.'
    student = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not student:
        raise ValueError(
            'no "architecture." entries: this is not a distillation checkpoint of an MMRazor '
            'algorithm (a plain mmdet checkpoint needs no export)')
    meta = dict(checkpoint.get('meta', {}))
    meta['exported_from'] = 'distillation checkpoint (student only)'
    return dict(state_dict=student, meta=meta)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='where to write the student checkpoint')
    args = parser.parse_args()
    # our own checkpoint, written by MMEngine: it holds more than tensors
    ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    out = export_student(ckpt)
    torch.save(out, args.dst)
    n = sum(v.numel() for v in out['state_dict'].values())
    print(f'saved {args.dst}: {len(out["state_dict"])} tensors, {n / 1e6:.2f} M values')


if __name__ == '__main__':
    main()
