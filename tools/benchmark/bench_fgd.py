"""Benchmark FGDLoss: vectorised vs per-box loop masks, and the whole loss.

    python tools/benchmark/bench_fgd.py [--device cpu|cuda]

A 2-image batch at 640x640, 5 FPN levels (strides 8..128), 256 channels,
100 random GT boxes per image. Times are medians over ``--repeats`` runs after
``--warmup`` runs. The loop masks come from ``detkd.testing.reference_fgd_masks``
(the authors' per-image, per-box code), the same reference the unit tests use.
"""
import argparse
import os
import statistics
import sys
import time

import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from detkd.distill.losses import FGDLoss
from detkd.distill.losses.fgd import build_fgd_masks
from detkd.testing import reference_fgd_masks

STRIDES = (8, 16, 32, 64, 128)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--size', type=int, default=640)
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument('--boxes', type=int, default=100)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--student-step',
        action='store_true',
        help='also time one training step (forward+backward) of the '
        'student of configs/fgd_retina_r101_r50.py (RetinaNet R50) on the '
        'same batch, to put the loss in proportion')
    return parser.parse_args()


def random_boxes(n, size, g):
    xy = torch.rand(n, 2, generator=g) * size * 0.9
    wh = 4 + torch.rand(n, 2, generator=g) * size * 0.4
    return torch.cat([xy, (xy + wh).clamp(max=size)], dim=1)


def timeit(fn, warmup, repeats, device):
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000  # ms


def main():
    args = parse_args()
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: CUDA is not available')
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    N, C, S = args.batch, args.channels, args.size

    samples = []
    for _ in range(N):
        ds = DetDataSample(metainfo=dict(img_shape=(S, S), batch_input_shape=(S, S)))
        ds.gt_instances = InstanceData(bboxes=random_boxes(args.boxes, S, g).to(device))
        samples.append(ds)
    boxes_list = [ds.gt_instances.bboxes for ds in samples]
    shapes = [ds.metainfo['img_shape'] for ds in samples]
    losses = [FGDLoss(C, C).to(device) for _ in STRIDES]
    sizes = [(S // s, S // s) for s in STRIDES]

    print(f'FGD benchmark: device={device} threads={torch.get_num_threads()}'
          f' torch={torch.__version__} batch={N} input={S}x{S} channels={C} '
          f'boxes/image={args.boxes} median of {args.repeats} '
          f'(warmup {args.warmup}); load average at start '
          f'{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs')
    header = f'{"level":>6} {"HxW":>8} {"vectorised ms":>14} ' \
             f'{"loop ms":>10} {"speedup":>8}'
    print(header)
    print('-' * len(header))
    tot_vec = tot_loop = 0.0
    for stride, (H, W), loss in zip(STRIDES, sizes, losses):

        def vectorised():
            bboxes, scale_shapes = loss._gather_boxes(samples, device)
            return build_fgd_masks(bboxes, scale_shapes, H, W, torch.float32)

        def loop():
            return reference_fgd_masks(boxes_list, shapes, H, W)

        for a, b in zip(vectorised(), loop()):  # same masks, bit for bit
            assert torch.equal(a, b), f'masks differ at stride {stride}'
        t_vec = timeit(vectorised, args.warmup, args.repeats, device)
        t_loop = timeit(loop, args.warmup, args.repeats, device)
        tot_vec += t_vec
        tot_loop += t_loop
        print(f'{"s" + str(stride):>6} {f"{H}x{W}":>8} {t_vec:>14.3f} '
              f'{t_loop:>10.3f} {t_loop / t_vec:>7.1f}x')
    print('-' * len(header))
    print(f'{"masks":>6} {"5 levels":>8} {tot_vec:>14.3f} {tot_loop:>10.3f} '
          f'{tot_loop / tot_vec:>7.1f}x')

    torch.manual_seed(args.seed)
    feats_S = [torch.randn(N, C, H, W, device=device) for H, W in sizes]
    feats_T = [torch.randn(N, C, H, W, device=device) for H, W in sizes]
    for f in feats_S:
        f.requires_grad_()

    def fgd_fwd_bwd():
        total = sum(loss(fs, ft, samples) for loss, fs, ft in zip(losses, feats_S, feats_T))
        total.backward()

    t_loss = timeit(fgd_fwd_bwd, args.warmup, args.repeats, device)
    print(f'\nFGD loss forward+backward, 5 levels: {t_loss:.3f} ms '
          f'(vectorised masks {tot_vec:.3f} ms = '
          f'{100 * tot_vec / t_loss:.1f}%; with loop masks it would be about '
          f'{t_loss - tot_vec + tot_loop:.3f} ms)')

    if args.student_step:
        t_step = time_student_step(samples, N, S, device, args)
        print(f'student (RetinaNet R50, FPN 256) training step, forward+backward: '
              f'{t_step:.1f} ms; the FGD loss is {100 * t_loss / t_step:.1f}% of it')


def time_student_step(samples, N, S, device, args):
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    cfg = Config.fromfile('configs/fgd_retina_r101_r50.py').model.architecture
    cfg.backbone.init_cfg = None  # no download: the step time does not depend on weights
    model = DET_MODELS.build(cfg).to(device)
    model.train()
    for ds in samples:
        ds.gt_instances.labels = torch.zeros(
            len(ds.gt_instances.bboxes), dtype=torch.long, device=device)
        ds.set_metainfo(dict(pad_shape=(S, S), scale_factor=(1., 1.)))
    inputs = torch.randn(N, 3, S, S, device=device)

    def step():
        model.zero_grad()
        losses = model.loss(inputs, samples)
        sum(v if torch.is_tensor(v) else sum(v) for v in losses.values()).backward()

    return timeit(step, 1, max(3, args.repeats // 5), device)


if __name__ == '__main__':
    main()
