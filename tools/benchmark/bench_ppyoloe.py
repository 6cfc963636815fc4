"""Benchmark PP-YOLOE+: inference time of s/m/l/x at 640 and training step time at 320.

    python tools/benchmark/bench_ppyoloe.py [--sizes s m l x] [--device cpu|cuda]

Builds each size from configs/ppyoloe/ppyoloe_plus_{size}_80e_coco.py (80 classes, random
init). Inference: one 640x640 image, the model's forward and Paddle's post-processing
(``model.predict``), in eval mode under ``torch.no_grad``. Training: a batch of
``--train-batch`` 320x320 images with 5 boxes each, forward + loss + backward + SGD step, in
the task-aligned phase (after the static epochs). Times are medians over ``--repeats`` runs
after ``--warmup`` runs; ``--threads`` sets torch's CPU threads.
"""
import argparse
import logging
import statistics
import time

import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import detkd  # noqa: F401


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', nargs='+', default=['s', 'm', 'l', 'x'])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--infer-size', type=int, default=640)
    p.add_argument('--train-size', type=int, default=320)
    p.add_argument('--train-batch', type=int, default=2)
    return p.parse_args()


def samples(n, size, device):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1., 1.),
                pad_shape=(size, size),
                batch_input_shape=(size, size)))
        xy = torch.rand(5, 2, generator=g) * size * 0.6
        wh = torch.rand(5, 2, generator=g) * size * 0.4 + 8
        s.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1).to(device),
            labels=torch.randint(0, 80, (5, ), generator=g).to(device))
        out.append(s)
    return out


def timed(fn, warmup, repeats, device):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device == 'cuda':
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    # the init report of every parameter would bury the table
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    MessageHub.get_current_instance().update_info('epoch', 10**6)  # task-aligned phase
    print(f'| size | params (M) | inference {args.infer_size} (ms) | '
          f'train step {args.train_batch}x{args.train_size} (ms) |')
    print('|---|---|---|---|')
    for size in args.sizes:
        cfg = Config.fromfile(f'configs/ppyoloe/ppyoloe_plus_{size}_80e_coco.py')
        cfg.model.data_preprocessor.pop('batch_augments', None)
        model = MODELS.build(cfg.model).to(args.device)
        model.init_weights()
        n = sum(p.numel() for p in model.parameters()) / 1e6

        model.eval()
        x = torch.randn(1, 3, args.infer_size, args.infer_size, device=args.device)
        data = samples(1, args.infer_size, args.device)

        def infer():
            with torch.no_grad():
                model.predict(x, data)

        t_inf = timed(infer, args.warmup, args.repeats, args.device)

        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
        xb = torch.randn(args.train_batch, 3, args.train_size, args.train_size, device=args.device)
        data = samples(args.train_batch, args.train_size, args.device)

        def step():
            losses = model.loss(xb, data)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            opt.zero_grad()
            loss.backward()
            opt.step()

        t_train = timed(step, args.warmup, args.repeats, args.device)
        print(f'| {size} | {n:.2f} | {1000 * t_inf:.0f} | {1000 * t_train:.0f} |', flush=True)


if __name__ == '__main__':
    main()
