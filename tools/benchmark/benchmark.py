"""What a distillation costs: student step, teacher forward and distillation step, per config.

    python tools/benchmark/benchmark.py                         # every mini distillation config
    python tools/benchmark/benchmark.py configs/fgd/fgd_retina_r34_r18_mini.py --iters 20

For each distillation config, on one fixed training batch of its dataset (the config's batch
size), after ``--warmup`` iterations, times ``--iters``:

- the student's training step alone (its own config: forward, loss, backward, optimizer);
- the teacher's forward as the distiller runs it (``teacher_forward``: backbone and neck,
  the head too, or the head and its assignment), under no_grad;
- the distillation step (``DetDistill``: teacher, student, recorders, distillation losses,
  backward, optimizer), and inside it the time of the distillation losses.

and, with the config's ``DistillBalanceHook``, the time of one of its probes (one backward per
loss term, every ``interval`` steps; amortised over the interval it is added to the
distillation step), and reports the ratio (distill + probe / interval) / (student + teacher
forward) (target: at most 1.10) and the peak memory of each measurement (CPU: the process's
peak RSS, each measurement in its own process; CUDA: peak allocated). The memory target: the
distillation's peak at most the student's training peak plus the teacher's inference peak
plus 10%, where the teacher's inference peak is counted above the baseline of a process that
loads the batch and builds no model (the interpreter, torch and the data count once). The
teacher's weights are random (timing does not depend on them).
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time
from typing import Optional

DEFAULT_CONFIGS = [
    'detkd::fgd/fgd_retina_r34_r18_mini.py',
    'detkd::cwd/cwd_retina_r34_r18_mini.py',
    'detkd::cwd/cwd_gfl_r34vd_r18_mini.py',
    'detkd::ld/ld_gfl_r34vd_r18vd_mini.py',
    'detkd::yolov3_kd/yolov3_r34_mv1_distill_mini.py',
    'detkd::ppyoloe_kd/ppyoloe_plus_kd_mini.py',
    'detkd::pkd/pkd_retina_r34_r18_mini.py',
    'detkd::mgd/mgd_retina_r34_r18_mini.py',
    'detkd::fbkd/fbkd_retina_r34_r18_mini.py',
    'detkd::crosskd/crosskd_retina_r34_r18_mini.py',
    'detkd::crosskd/crosskd_gfl_r34vd_r18vd_mini.py',
    'detkd::bckd/bckd_gfl_r34vd_r18vd_mini.py',
    'detkd::rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py',
    'detkd::pkd/pkd_rtmdet_s_tiny_mini.py',
    'detkd::fgd/fgd_rtmdet_s_tiny_mini.py',
]
# the COCO-size configs are measured on a synthetic batch at their input size
# (--synthetic 640 --batch 2 for RTMDet's): COCO itself is not needed
MODES = ('base', 'student', 'teacher', 'distill')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: default)')
    p.add_argument(
        '--rounds',
        type=int,
        default=1,
        help='measure the modes in turn this many times (student, teacher, distill, student, '
        '...) and take the median time of each: on a shared or busy machine the load then '
        'drifts over all modes alike instead of biasing the ratio')
    p.add_argument(
        '--out',
        help='also write the table (OUT.md) and the measurements (OUT.json, which '
        "distill_report.py --cost reads for its table to choose by)")
    p.add_argument(
        '--synthetic',
        type=int,
        metavar='SIZE',
        help='measure on a synthetic batch of SIZE x SIZE images (random pixels, three random '
        'boxes each) instead of a batch of the config\'s dataset: for COCO-size configs '
        'without COCO on the machine')
    p.add_argument(
        '--batch',
        type=int,
        help='with --synthetic: the images per batch (default: the '
        "config's batch size)")
    p.add_argument('--mode', choices=MODES, help=argparse.SUPPRESS)  # one measurement
    return p.parse_args(argv)


def peak_memory_mb(device: str) -> float:
    import torch
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(fn, warmup: int, iters: int, device: str):
    import torch
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def one_batch(cfg):
    """One training batch of the config's dataloader (its batch size), shuffling off."""
    from mmengine.runner import Runner
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader_cfg.sampler = dict(type='DefaultSampler', shuffle=False)
    return next(iter(Runner.build_dataloader(loader_cfg, seed=0)))


def synthetic_batch(cfg, size: int, batch: Optional[int]):
    """A training batch of ``batch`` random ``size`` x ``size`` images with three boxes each
    (labels 0, 1, 2), as the config's dataloader would give it (the data preprocessor does
    the rest)."""
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    n = batch or cfg.train_dataloader.batch_size
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g))
        xy = torch.rand(3, 2, generator=g) * size * 0.6
        wh = torch.rand(3, 2, generator=g) * size * 0.35 + 16
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1), labels=torch.tensor([0, 1, 2]))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def without_downloads(cfg: dict) -> None:
    """Drop every ``Pretrained`` init (ImageNet backbones of the COCO configs): timing does not
    depend on the weights, and nothing is downloaded."""
    if isinstance(cfg, dict):
        init = cfg.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            cfg['init_cfg'] = None
        for v in cfg.values():
            without_downloads(v)
    elif isinstance(cfg, (list, tuple)):
        for v in cfg:
            without_downloads(v)


def measure(config: str, mode: str, args) -> dict:
    """One measurement, in this process."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    import detkd  # noqa: F401
    from detkd.utils import load_config
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = load_config(config)
    without_downloads(cfg.model)
    with DefaultScope.overwrite_default_scope('mmdet'):
        data = synthetic_batch(cfg, args.synthetic, args.batch) if args.synthetic else \
            one_batch(cfg)
    out = dict(config=config, mode=mode)
    if mode == 'base':
        out['peak_mb'] = peak_memory_mb(args.device)
        return out
    if mode == 'student':
        from mmdet.registry import MODELS
        with DefaultScope.overwrite_default_scope('mmdet'):
            model = MODELS.build(cfg.model.architecture).to(args.device)
            model.init_weights()
            optim = build_optim_wrapper(model, cfg.optim_wrapper)
        model.train()
        out['time'] = timed(lambda: model.train_step(data, optim), args.warmup, args.iters,
                            args.device)
    else:
        from mmrazor.registry import MODELS
        cfg.model.update(teacher_ckpt=None, allow_random_teacher=True)
        with DefaultScope.overwrite_default_scope('mmrazor'):
            model = MODELS.build(cfg.model).to(args.device)
            model.init_weights()
        model.train()
        if mode == 'teacher':
            # the teacher as the distiller runs it; the student is built too (its weights add
            # a little to this peak, which errs on the generous side of the memory target)
            batch = model.data_preprocessor(data, True)

            def teacher_step():
                with torch.no_grad():
                    model._run_teacher(batch['inputs'], batch['data_samples'])

            out['time'] = timed(teacher_step, args.warmup, args.iters, args.device)
        else:
            with DefaultScope.overwrite_default_scope('mmrazor'):
                optim = build_optim_wrapper(model, cfg.optim_wrapper)
            distiller = model.distiller
            spent = []
            inner = distiller.compute_distill_losses

            def timed_losses():
                t = time.perf_counter()
                losses = inner()
                spent.append(time.perf_counter() - t)
                return losses

            distiller.compute_distill_losses = timed_losses
            out['time'] = timed(lambda: model.train_step(data, optim), args.warmup, args.iters,
                                args.device)
            out['loss_time'] = statistics.median(spent[args.warmup:])
            out.update(probe(model, data, cfg, args))
    out['peak_mb'] = peak_memory_mb(args.device)
    return out


def probe(model, data, cfg, args) -> dict:
    """The balance hook's probe on the step's loss dict: its median time and the interval of
    the config's hook (no hook: nothing)."""
    from detkd.distill.balance import balance_probe
    hooks = [h for h in cfg.get('custom_hooks') or [] if h['type'] == 'DistillBalanceHook']
    if not hooks:
        return {}
    batch = model.data_preprocessor(data, True)
    times = []
    for _ in range(max(1, args.iters // 2)):
        losses = model.loss(batch['inputs'], batch['data_samples'])
        t = time.perf_counter()
        balance_probe(losses, model)
        times.append(time.perf_counter() - t)
    return dict(probe_time=statistics.median(times), probe_interval=hooks[0].get('interval', 100))


def merge_rounds(measurements: list) -> dict:
    """One mode's measurements over the rounds: the median of each time, the largest peak."""
    out = dict(measurements[0])
    for key in ('time', 'loss_time', 'probe_time'):
        if key in out:
            out[key] = statistics.median(m[key] for m in measurements)
    out['peak_mb'] = max(m['peak_mb'] for m in measurements)
    return out


def run_all(args) -> list:
    rows = []
    for config in args.configs:
        res = {mode: [] for mode in MODES}
        for mode in [m for _ in range(args.rounds) for m in MODES]:
            cmd = [
                sys.executable, __file__, config, '--mode', mode, '--iters',
                str(args.iters), '--warmup',
                str(args.warmup), '--device', args.device, '--threads',
                str(args.threads)
            ] + (['--synthetic', str(args.synthetic)]
                 if args.synthetic else []) + (['--batch', str(args.batch)] if args.batch else [])
            proc = subprocess.run(cmd, capture_output=True, text=True)
            lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
            if proc.returncode or not lines:
                raise RuntimeError(f'{config} ({mode}) failed:\n{proc.stderr[-3000:]}')
            res[mode].append(json.loads(lines[-1]))
            print(f'  {config} {mode}: {lines[-1]}', file=sys.stderr, flush=True)
        rows.append({mode: merge_rounds(m) for mode, m in res.items()})
    return rows


def summary(r: dict) -> dict:
    """One config's figures: the ratio (distill + probe / interval) / (student + teacher
    forward) and the memory target (the student's peak plus the teacher's above the base, +10%).
    """
    s, t, d, b = r['student'], r['teacher'], r['distill'], r['base']
    amortised = d['probe_time'] / d['probe_interval'] if 'probe_time' in d else 0.
    ratio = (d['time'] + amortised) / (s['time'] + t['time'])
    budget = 1.1 * (s['peak_mb'] + t['peak_mb'] - b['peak_mb'])
    return dict(
        ratio=ratio,
        ratio_ok=ratio <= 1.10,
        memory_target_mb=budget,
        memory_ok=d['peak_mb'] <= budget)


def table(rows: list) -> str:
    """The Markdown table of the rows (each with its ``summary``)."""
    lines = [
        '| config | student step (ms) | teacher fwd (ms) | distill step (ms) | balance probe '
        '(ms, every N steps) | ratio (target <= 1.10) | distill losses (ms, share) | peak MB '
        'student / teacher / distill | memory target |', '|---|---|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        s, t, d, sm = r['student'], r['teacher'], r['distill'], r['summary']
        ratio, budget = sm['ratio'], sm['memory_target_mb']
        probe = (f'{1000 * d["probe_time"]:.0f} / {d["probe_interval"]}'
                 if 'probe_time' in d else 'off')
        name = osp.basename(r['student']['config'])
        lines.append(f'| `{name}` | {1000 * s["time"]:.0f} | {1000 * t["time"]:.0f} | '
                     f'{1000 * d["time"]:.0f} | {probe} | '
                     f'{ratio:.2f} {"ok" if sm["ratio_ok"] else "MISS"} | '
                     f'{1000 * d["loss_time"]:.0f} ({100 * d["loss_time"] / d["time"]:.0f}%) | '
                     f'{s["peak_mb"]:.0f} / {t["peak_mb"]:.0f} / {d["peak_mb"]:.0f} | '
                     f'{"ok" if sm["memory_ok"] else "MISS"} ({d["peak_mb"]:.0f} <= '
                     f'{budget:.0f}) |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.mode:
        print(json.dumps(measure(args.configs[0], args.mode, args)))
        return
    rows = [dict(r, summary=summary(r)) for r in run_all(args)]
    md = table(rows)
    print(md)
    if args.out:
        with open(args.out + '.md', 'w') as f:
            f.write(md + '\n')
        with open(args.out + '.json', 'w') as f:  # distill_report.py --cost reads it
            json.dump(provenance(rows), f, indent=1)


def provenance(rows: list) -> dict:
    """The measurements with when, where and how they were made (the form docs/results/
    keeps; ``distill_report.py --cost`` reads its ``rows``)."""
    import datetime
    import os
    import platform
    import shlex

    import torch
    return dict(
        date=datetime.date.today().isoformat(),
        machine=(f'{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}'
                 f', OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")}'),
        command=' '.join(
            shlex.quote(a) for a in ['python', osp.relpath(sys.argv[0])] + sys.argv[1:]),
        rows=rows)


if __name__ == '__main__':
    main()
