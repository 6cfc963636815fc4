"""Convert a PaddleDetection 2.6 ``.pdparams`` to an mmdet checkpoint of ours.

    python tools/model_converters/paddle_to_mmdet.py ARCH SRC.pdparams DST.pth

ARCH names the model the file holds (``--list`` describes each):

    mobilenet_v1    ImageNet MobileNetV1, backbone alone (init_cfg of yolov3_mv1)
    resnet          ImageNet ResNet18/34/50/101 variant b, backbone alone
    resnet_vd       ImageNet ResNet18/34/50/101-vd, backbone alone (init_cfg of the GFLs)
    yolov3_mv1      YOLOv3 MobileNetV1         -> configs/yolov3/yolov3_mv1_608_270e_coco.py
    yolov3_r34      YOLOv3 ResNet34            -> configs/yolov3/yolov3_r34_608_270e_coco.py
    gfl_r101vd      GFL ResNet-vd (alias gfl_resnet_vd; depth read from the file)
                                               -> configs/gfl/gfl_r101vd_paddle_coco.py
    gfl_resnet      GFL ResNet50/101 variant b (the seed's CWD GFL R50 student)
                                               -> configs/gfl/gfl_r50_paddle_coco.py
    retinanet       RetinaNet ResNet50/101 (the seed's R101 teacher, its FGD and CWD R50
                    students)      -> configs/retinanet/retinanet_r{50,101}_paddle_coco.py
    ppyoloe_plus    PP-YOLOE(+) s/m/l/x, COCO or Objects365 -> configs/ppyoloe/*.py

Depth, size and class count are read from the file; no Paddle needed. The result is checked
against the model it is for: a key it cannot place, an entry of the model it would leave
empty or a shape that differs is an error listing them, and nothing is written. Backbone
files are written with the backbone's own keys (no ``backbone.`` prefix), as mmengine's
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` of a backbone loads them; their
ImageNet classifier (``fc.*``...) is left out and named. Detector files load as
``load_from`` / a pair's ``teacher_ckpt`` / ``tools/test.py CONFIG DST``.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from detkd.converters.paddle import ARCHS, ConversionError, convert_file


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('arch', nargs='?', choices=sorted(ARCHS), help='what the file holds')
    parser.add_argument('src', nargs='?', help='Paddle .pdparams file')
    parser.add_argument('dst', nargs='?', help='where to write the mmdet checkpoint (.pth)')
    parser.add_argument('--list', action='store_true', help='describe each ARCH and exit')
    args = parser.parse_args()
    if args.list:
        for name, (_, backbone_only, what) in sorted(ARCHS.items()):
            print(f'{name:14s} {what}')
        return
    if not (args.arch and args.src and args.dst):
        parser.error('ARCH, SRC and DST are required')
    if not osp.isfile(args.src):
        raise SystemExit(f'{args.src}: no such file')
    try:
        state, info = convert_file(args.arch, args.src)
    except ConversionError as e:
        raise SystemExit(f'error: {e}')
    backbone_only = ARCHS[args.arch][1]
    meta = dict(
        converted_from=osp.basename(args.src),
        arch=args.arch,
        model=info['desc'],
        backbone_only=backbone_only,
        model_cfg=info['model_cfg'])
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(dict(state_dict=state, meta=meta), args.dst)
    n = sum(v.numel() for k, v in state.items() if not k.endswith('num_batches_tracked'))
    what = 'backbone keys (for init_cfg Pretrained)' if backbone_only else 'tensors'
    print(f'saved {args.dst}: {info["desc"]}, {len(state)} {what}, {n / 1e6:.2f} M values')
    if info.get('dropped'):
        print(f'left out {len(info["dropped"])} ImageNet classifier entries: '
              f'{info["dropped"][:6]}')


if __name__ == '__main__':
    sys.exit(main())
