"""The gain of every distillation method on the mini dataset, in one command.

For each method (teacher, student, distillation configs: the mini entries of the method
folders' metafiles, ``configs/<method>/metafile.yml``, grouped by ``Metadata.Report``, in the
order of ``model-index.yml``; or a pair config given on the command line), trains the teacher once
(or reuses it), then for each seed the student alone and each distillation with the same
schedule and seed; evaluates all (the COCO evaluation at the end of training, which
tools/test.py reproduces); and writes one Markdown table, a chart of the gains, the training
loss curves of student vs distilled student, and one image grid per method (the same val
images with the teacher's, the student's and the distilled student's detections).

    python tools/analysis/distill_report.py                       # every method, seed 0
    python tools/analysis/distill_report.py --methods fgd ld --seeds 0 1 2
    python tools/analysis/distill_report.py --no-train            # report what exists
    python tools/analysis/distill_report.py --no-train --seeds 0 1 2 --cost bench.json
        # + the table to choose by: the gains next to `benchmark.py --out bench`'s costs
    python tools/analysis/distill_report.py my_pair.py --seeds 0 1 2   # your own pair
    python .../detkd/.mim/tools/analysis/distill_report.py detkd::fgd/fgd_retina_r34_r18_mini.py

Runs and the report go under the directory the command runs from (``work_dirs/``, as mmdet's
tools), wherever the tool itself is: in the repository or in an installed package's ``.mim``.

A pair config (any distillation config: ``model.architecture`` the student, ``model.teacher``
the teacher's config path) is a method of its own, named after the file: its student alone is
the same config with ``model`` set to ``model.architecture`` (written to
``<work-root>/pairs/<name>_student.py``); its teacher is ``model.teacher_ckpt`` evaluated once
when that file exists, else the teacher config trained in ``<work-root>/<teacher name>``.

Runs resume where they stopped (a run with checkpoints but no final evaluation continues with
--resume; a finished run is reused). Seed 0 runs live where `make demo` puts them
(``work_dirs/demo_<method>/<config name>``, ``work_dirs/demo`` for fgd), seed s in
``.../seed<s>/<config name>``; the teacher in ``work_dirs/<teacher config name>``, where the
distillation configs look for its checkpoint. Methods with the same student config (FGD and
CWD RetinaNet) share its runs, in the first such method's directory. With several seeds, the
gain is given as mean and sample standard deviation over the seeds.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import List, Optional

from detkd.utils import read_balance, read_logged_metrics
from detkd.utils.config import config_path

# the tools' root: the repository, or an installed package's .mim (configs/, tools/ and
# model-index.yml side by side in both)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')

METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')
GAIN_METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_s', 'bbox_mAP_l')


def repo_file(path: str) -> str:
    """A file the built-in methods name (``configs/...``, relative to ``ROOT``) or a config
    reference (``detkd::``/``mmdet::``; absolute), as a path that works from any directory."""
    path = config_path(path)
    return path if osp.isabs(path) else osp.join(ROOT, path)


def user_file(path: str) -> str:
    """A config given on the command line: a path from the working directory or a package
    reference (``detkd::``, ``mmdet::``), as an absolute path."""
    return osp.abspath(config_path(path))


def load_presets(root: str = ROOT) -> dict:
    """The built-in mini methods: every metafile entry with ``Metadata.Report`` (the method's
    name) is one of its distillation configs; the method's teacher and student are the
    entries' ``Metadata.Teacher.Config`` / ``Student.Config``, the same for all of them."""
    import yaml
    with open(osp.join(root, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    presets = {}
    for metafile in metafiles:
        with open(osp.join(root, metafile)) as f:
            models = yaml.safe_load(f).get('Models') or []
        for model in models:
            meta = model.get('Metadata') or {}
            if not meta.get('Report'):
                continue
            pair = dict(teacher=meta['Teacher']['Config'], student=meta['Student']['Config'])
            preset = presets.setdefault(meta['Report'], dict(pair, distill=[]))
            if {k: preset[k] for k in pair} != pair:
                raise ValueError(f"{metafile}: {model['Name']} is in method {meta['Report']} "
                                 f'but names another teacher or student ({pair}) than its '
                                 f'first entry ({preset["teacher"]}, {preset["student"]})')
            preset['distill'].append(model['Config'])
    return presets


PRESETS = load_presets()
_CONFIG_LOCK = threading.Lock()
FINAL = 'report_final.json'  # a run's final evaluation, as the report found it
_PROGRESS = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?eta: (\S+)')
_LOG_TIME = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        'pairs',
        nargs='*',
        metavar='PAIR_CONFIG',
        help='distillation configs to report as methods of their own (your pairs)')
    p.add_argument(
        '--methods',
        nargs='+',
        choices=sorted(PRESETS),
        help='the built-in mini methods (default: all of them, unless pair configs are given)')
    p.add_argument('--seeds', nargs='+', type=int, default=[0])
    p.add_argument(
        '--work-root', default='work_dirs', help='where the runs go (default work_dirs)')
    p.add_argument(
        '--runs-dir',
        help="with one method: where its student and distillation runs go instead of "
        "<work-root>/demo_<method>")
    p.add_argument('--out-dir', default='work_dirs/report', help='where the report goes')
    p.add_argument('--no-train', action='store_true', help='report the finished runs only')
    p.add_argument('--retrain-teacher', action='store_true')
    p.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs at a time (default 1): each is a tools/train.py process, so give each its '
        'share of the cores (e.g. OMP_NUM_THREADS=1 with --jobs 2 on 2 cores) or of the GPU; '
        'the students and the teacher start first, the distillations once the teacher is done')
    p.add_argument(
        '--skip',
        nargs='+',
        default=[],
        metavar='CONFIG_NAME',
        help='distillation configs (by file name, without .py) not to train in this call '
        '(e.g. ablations at fewer seeds); finished runs of them are still reported')
    p.add_argument(
        '--cost',
        metavar='BENCHMARK_JSON',
        help='the JSON of `tools/benchmark/benchmark.py --out X` (X.json): adds the table to '
        'choose by (gain next to step cost ratio and peak memory) to the report')
    p.add_argument('--grid-images', type=int, default=4, help='val images per grid (0: none)')
    p.add_argument('--score-thr', type=float, default=0.3, help='boxes drawn in the grids')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value options for every tools/train.py run; model.X applies to the '
        "detector: model.architecture.X in a distillation config")
    return p.parse_args(argv)


def config_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def method_dir(work_root: str, method: str) -> str:
    return osp.join(work_root, 'demo' if method == 'fgd' else f'demo_{method}')


# what a distillation config has that its student's own config has not
DISTILL_ONLY_KEYS = ('distill_balance_hook', 'find_unused_parameters')


def preset_from_pair(pair: str, work_root: str) -> dict:
    """A method from a distillation config: its teacher, its student alone (the config with
    ``model`` set to ``model.architecture``, written under ``<work_root>/pairs``) and itself.
    Exits with a message when the config is not one the report can read."""
    from mmengine.config import Config
    pair = user_file(pair)
    if not osp.isfile(pair):
        raise SystemExit(f'distill_report: no config file {pair}')
    cfg = Config.fromfile(pair)
    model = cfg.get('model') or {}
    arch, teacher = model.get('architecture'), model.get('teacher')
    if not isinstance(arch, dict) or not isinstance(teacher, str):
        raise SystemExit(
            f'distill_report: {pair} is not a distillation config the report can read: it '
            'needs model.architecture (the student, a model dict, as '
            "`model.update(architecture=_base_.model, ...)` in configs/fgd/*_mini.py) and "
            "model.teacher (the teacher's config file). The built-in methods are: " +
            ', '.join(sorted(PRESETS)))
    teacher_file = osp.abspath(config_path(teacher, osp.dirname(pair)))
    if not osp.isfile(teacher_file):
        raise SystemExit(f"distill_report: {pair}: model.teacher = '{teacher}' is not a "
                         f'config file (give a path from the directory you run from, '
                         f'{os.getcwd()}, one relative to the pair config starting with '
                         "'.', an absolute one, or a package's `detkd::<dir>/<config>.py`, "
                         '`mmdet::<dir>/<config>.py`)')
    student = Config(dict(cfg.to_dict(), model=arch))
    for key in DISTILL_ONLY_KEYS:
        student.pop(key, None)
    name = config_name(pair)
    path = osp.abspath(osp.join(work_root, 'pairs', f'{name}_student.py'))
    os.makedirs(osp.dirname(path), exist_ok=True)
    student.dump(path)
    ckpt = model.get('teacher_ckpt')
    url = ckpt and ckpt.startswith(('http://', 'https://'))
    if ckpt and not (url or osp.isfile(ckpt)):
        ckpt = None  # not there yet: the report trains the teacher config
    return dict(teacher=teacher_file, student=path, distill=[pair], teacher_ckpt=ckpt)


def student_owner(method: str) -> str:
    """The first preset with this method's student config: the one whose directory holds the
    student's runs, so that methods with the same student train it once."""
    student = PRESETS[method]['student']
    return next(m for m in PRESETS if PRESETS[m]['student'] == student)


def run_dir(work_root: str,
            method: str,
            seed: int,
            config: str,
            runs_dir: Optional[str] = None) -> str:
    base = runs_dir or method_dir(work_root, method)
    return osp.join(base, config_name(config)) if seed == 0 else osp.join(
        base, f'seed{seed}', config_name(config))


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The run's last complete epoch checkpoint. A file cut short (a run killed while saving
    it: torch's zip archive has no central directory yet) is skipped, with a message."""
    ckpts = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')), key=checkpoint_epoch)
    for ckpt in reversed(ckpts):
        if zipfile.is_zipfile(ckpt):
            return ckpt
        print(f'[incomplete] {ckpt}: not a complete checkpoint (killed while saving?), '
              'skipped',
              flush=True)
    return None


def wall_time(work_dir: str) -> Optional[float]:
    """Seconds from the first to the last line of the newest training log (resumed runs:
    the sum over the logs)."""
    total = 0.
    for log in glob.glob(osp.join(work_dir, '*', '*.log')):
        stamps = [
            datetime.strptime(m.group(1), '%Y/%m/%d %H:%M:%S') for line in open(log)
            for m in [_LOG_TIME.match(line)] if m
        ]
        if len(stamps) > 1:
            total += (stamps[-1] - stamps[0]).total_seconds()
    return total or None


def max_epochs(config: str, extra=()) -> int:
    """The run's epochs: the config's, or ``train_cfg.max_epochs=N`` among its options."""
    for opt in reversed(extra):  # the last one wins, as in tools/train.py
        if opt.startswith('train_cfg.max_epochs='):
            return int(opt.split('=', 1)[1])
    from mmengine.config import Config
    with _CONFIG_LOCK:  # --jobs: mmengine's package lookup (pkg_resources) is not thread-safe
        return Config.fromfile(repo_file(config)).train_cfg.max_epochs


def final_metrics(work_dir: str, epochs: int) -> Optional[dict]:
    """The run's final evaluation, or None: a run counts as finished only with it. It is the
    report's own record (``FINAL``, written the first time it is found), else the COCO
    metrics the runner logged after the last epoch (step ``epochs`` in scalars.json); an
    evaluation in the middle of training does not count."""
    marker = osp.join(work_dir, FINAL)
    if osp.isfile(marker):
        with open(marker) as f:
            return json.load(f)
    found = None
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            rec = json.loads(line)
            if rec.get('step') == epochs and any(k.startswith('coco/') for k in rec):
                found = {k[len('coco/'):]: v for k, v in rec.items() if k.startswith('coco/')}
    if found:
        with open(marker, 'w') as f:
            json.dump(found, f)
    return found


def checkpoint_epoch(path: str) -> int:
    return int(re.findall(r'epoch_(\d+)', path)[-1])


def _run(cmd: List[str], work_dir: str, label: str, epochs: int) -> None:
    """Run a tool, its output appended to the run's report_train.out, with one progress line
    per logged training iteration."""
    t0 = time.time()
    with open(osp.join(work_dir, 'report_train.out'), 'a') as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            out.write(line)
            m = _PROGRESS.search(line)
            if m:
                e, i, n, eta = m.groups()
                print(
                    f'  {label}: epoch {e}/{epochs}, iter {i}/{n}, ETA {eta}, '
                    f'{time.time() - t0:.0f} s so far',
                    flush=True)
        if proc.wait():
            raise RuntimeError(f'{label}: {cmd[1]} failed (exit {proc.returncode}); see '
                               f'{work_dir}/report_train.out')


def train(config: str, work_dir: str, label: str, extra=(), no_train=False) -> Optional[dict]:
    """A finished run's final metrics (see ``final_metrics``); otherwise train it, resuming
    from its last checkpoint (a killed run loses at most its last epoch), or, if it was
    trained to the end but killed during its final evaluation, evaluate that checkpoint with
    tools/test.py. None when ``no_train`` and not finished."""
    epochs = max_epochs(config, extra)
    metrics = final_metrics(work_dir, epochs)
    if metrics:
        print(f'[reuse] {label}: {work_dir} (mAP {100 * metrics["bbox_mAP"]:.1f})', flush=True)
        return metrics
    if no_train:
        print(f'[missing] {label}: {work_dir}', flush=True)
        return None
    os.makedirs(work_dir, exist_ok=True)
    ckpt = last_checkpoint(work_dir)
    t0 = time.time()
    if ckpt and checkpoint_epoch(ckpt) >= epochs:
        # trained to the end, stopped before its evaluation was logged: evaluate, no retraining
        return evaluate(config, ckpt, work_dir, label, extra)
    else:
        cmd = [
            sys.executable,
            osp.join(TOOLS, 'train.py'),
            repo_file(config), '--work-dir', work_dir, *extra
        ]
        if ckpt:  # this checkpoint, not the work dir's last_checkpoint, which may be cut short
            cmd += ['--resume', ckpt]
        print(f'[{"resume" if ckpt else "start"}] {label}: ' + ' '.join(cmd), flush=True)
        _run(cmd, work_dir, label, epochs)
        metrics = final_metrics(work_dir, epochs)
    if not metrics:
        raise RuntimeError(f'{label}: no final evaluation in {work_dir} (see its '
                           'report_train.out)')
    print(
        f'[done] {label}: mAP {100 * metrics["bbox_mAP"]:.1f} in {time.time() - t0:.0f} s',
        flush=True)
    return metrics


def evaluate(config: str, ckpt: str, work_dir: str, label: str, extra=()) -> dict:
    """The checkpoint's COCO metrics with tools/test.py, recorded in ``work_dir`` (``FINAL``)
    and reused from there."""
    marker = osp.join(work_dir, FINAL)
    if osp.isfile(marker):
        with open(marker) as f:
            metrics = json.load(f)
        print(f'[reuse] {label}: {ckpt} (mAP {100 * metrics["bbox_mAP"]:.1f})', flush=True)
        return metrics
    os.makedirs(work_dir, exist_ok=True)
    t0 = time.time()
    eval_dir = osp.join(work_dir, 'final_eval')
    cmd = [
        sys.executable,
        osp.join(TOOLS, 'test.py'),
        repo_file(config), ckpt, '--work-dir', eval_dir, *extra
    ]
    print(f'[evaluate] {label}: ' + ' '.join(cmd), flush=True)
    _run(cmd, work_dir, label, 0)
    metrics = read_logged_metrics(eval_dir)
    if not metrics:
        raise RuntimeError(f'{label}: no evaluation in {eval_dir} (see {work_dir}/'
                           'report_train.out)')
    with open(marker, 'w') as f:
        json.dump(metrics, f)
    print(
        f'[done] {label}: mAP {100 * metrics["bbox_mAP"]:.1f} in {time.time() - t0:.0f} s',
        flush=True)
    return metrics


def mean_std(values: List[float]) -> str:
    if not values:
        return ''
    if len(values) == 1:
        return f'{values[0]:+.1f}'
    return f'{statistics.mean(values):+.1f} ± {statistics.stdev(values):.1f}'


def gain_over_se(values: List[float]) -> str:
    """The mean gain in standard errors of the mean (sample std / sqrt(n)): above 2, the gain
    is more than twice its standard error."""
    if len(values) < 2:
        return ''
    se = statistics.stdev(values) / len(values)**0.5
    return f'{statistics.mean(values) / se:+.1f}' if se > 0 else ''


def run_balance(work_dir: str) -> dict:
    """A run's balance, averaged over the hook's probes: ``distill`` (the distillation terms'
    share of the gradient on the student), per group, per term, ``cos`` and ``clipped``."""
    probes = read_balance(work_dir)
    mean = {k: statistics.mean(v) for k, v in probes.items() if v}
    out = {
        'distill': mean.get('balance/distill_share/all'),
        'clipped': mean.get('balance/clip_frac'),
        'cos': mean.get('balance/cos'),
        'groups': {
            k.split('/')[-1]: v
            for k, v in mean.items()
            if k.startswith('balance/distill_share/') and not k.endswith('/all')
        },
        'terms': {
            k[len('balance/grad_share/'):]: v
            for k, v in mean.items() if k.startswith('balance/grad_share/')
        }
    }
    return out


def _pct(values: List[float]) -> str:
    values = [v for v in values if v is not None]
    return f'{100 * statistics.mean(values):.0f}%' if values else ''


class Runs:
    """The runs of one report, up to ``jobs`` at a time (threads, each waiting on its
    tools/train.py process): a work directory is trained once (a student shared by two
    methods, a teacher shared by two presets); ``submit`` returns the run's future, whose
    ``result()`` waits for its metrics."""

    def __init__(self, jobs: int = 1):
        self.pool = ThreadPoolExecutor(jobs) if jobs > 1 else None
        self.futures = {}

    def submit(self, work_dir: str, fn, *args) -> Future:
        if work_dir not in self.futures:
            if self.pool:
                self.futures[work_dir] = self.pool.submit(fn, *args)
            else:  # one at a time, in submission order
                self.futures[work_dir] = done = Future()
                done.set_result(fn(*args))
        return self.futures[work_dir]

    def close(self, error: bool = False) -> None:
        """Wait for the runs in progress (a failure elsewhere does not stop a training that
        is under way: it is reused next time); runs not yet started are cancelled."""
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=error)


def resolve(result: dict) -> dict:
    """``run_method``'s result with every run's metrics (waiting for them)."""
    for runs in result['seeds'].values():
        for name, (d, m) in runs.items():
            runs[name] = (d, m.result() if isinstance(m, Future) else m)
    return result


def run_method(method: str, args, runs: Optional[Runs] = None) -> dict:
    """One method's runs: its teacher, then for every seed its student alone, then each
    distillation once the teacher is done (they need its checkpoint; the students do not).
    With ``runs`` (shared by the methods of a report, ``--jobs``) the students' and the
    distillations' metrics are futures (``resolve``); without, they are trained one at a time
    and returned."""
    if runs is None:
        return resolve(run_method(method, args, Runs()))
    preset = PRESETS[method]
    extra_opts = ['--cfg-options', *args.cfg_options] if args.cfg_options else []
    t_dir = osp.join(args.work_root, config_name(preset['teacher']))
    label = f'{method} teacher'
    if preset.get('teacher_ckpt'):  # a pair's trained teacher: evaluated once, not trained
        t_ckpt = preset['teacher_ckpt']
        t_dir = osp.join(args.work_root, 'pairs', f'{method}_teacher')
        teacher = runs.submit(t_dir, evaluate, preset['teacher'], t_ckpt, t_dir, label, extra_opts)
    else:
        if args.retrain_teacher and not args.no_train and t_dir not in runs.futures:
            for f in glob.glob(osp.join(t_dir, 'epoch_*.pth')):
                os.remove(f)
        teacher = runs.submit(t_dir, train, preset['teacher'], t_dir, label, extra_opts,
                              args.no_train)
    result = dict(method=method, teacher_dir=t_dir, seeds={})
    for seed in args.seeds:
        seed_opts = ['--cfg-options', f'randomness.seed={seed}', *args.cfg_options]
        s_dir = run_dir(args.work_root, student_owner(method), seed, preset['student'],
                        args.runs_dir)
        label = f'{method} seed {seed} student'
        student = runs.submit(s_dir, train, preset['student'], s_dir, label, seed_opts,
                              args.no_train)
        result['seeds'][seed] = dict(student=(s_dir, student))
    result['teacher'] = teacher.result()
    if not preset.get('teacher_ckpt'):
        t_ckpt = last_checkpoint(t_dir)
    result['teacher_ckpt'] = t_ckpt
    for seed in args.seeds:
        d_opts = ['--cfg-options', f'randomness.seed={seed}'] + [
            'model.architecture.' + o[len('model.'):] if o.startswith('model.') else o
            for o in args.cfg_options
        ]
        for cfg in preset['distill']:
            name = config_name(cfg)
            d_dir = run_dir(args.work_root, method, seed, cfg, args.runs_dir)
            opts = d_opts + ([f'model.teacher_ckpt={t_ckpt}'] if t_ckpt else [])
            skip = args.no_train or name in args.skip
            run = runs.submit(d_dir, train, cfg, d_dir, f'{method} seed {seed} {name}', opts, skip)
            result['seeds'][seed][name] = (d_dir, run)
    return result


def config_stats(results: List[dict]):
    """Per distillation config with finished runs: its method, name, the teacher's mAP, and
    over the seeds where both runs finished: the student's and the distilled mAP, the gains
    (x100, per metric of ``GAIN_METRICS``), the wall times (min) and the balance."""
    for r in results:
        for cfg in PRESETS[r['method']]['distill']:
            name = config_name(cfg)
            st = dict(method=r['method'], name=name, config=cfg, teacher=r['teacher'])
            st.update(student=[], distilled=[], walls=[], balance=[])
            st['gains'] = {m: [] for m in GAIN_METRICS}
            for runs in r['seeds'].values():
                s_dir, s = runs['student']
                d_dir, d = runs[name]
                if not (s and d):
                    continue
                st['student'].append(100 * s['bbox_mAP'])
                st['distilled'].append(100 * d['bbox_mAP'])
                for m in GAIN_METRICS:
                    st['gains'][m].append(100 * (d[m] - s[m]))
                w = wall_time(d_dir)
                if w:
                    st['walls'].append(w / 60)
                st['balance'].append(run_balance(d_dir))
            if st['student']:
                yield st


def table(results: List[dict]) -> str:
    head = ('| method | run | teacher mAP | student mAP | distilled mAP | ' +
            ' | '.join(f'gain {m.replace("bbox_", "")}' for m in GAIN_METRICS) +
            ' | gain / SE | distill. share of gradient | steps clipped | seeds | '
            'wall time (min) |')
    lines = [head, '|' + '---|' * (11 + len(GAIN_METRICS) - 1)]
    avg = lambda v: f'{statistics.mean(v):.1f}'  # noqa: E731
    for st in config_stats(results):
        t_map = f'{100 * st["teacher"]["bbox_mAP"]:.1f}' if st['teacher'] else ''
        gains, balance = st['gains'], st['balance']
        gain_cells = ' | '.join(mean_std(gains[m]) for m in GAIN_METRICS)
        lines.append(f'| {st["method"]} | `{st["name"]}` | {t_map} | {avg(st["student"])} | '
                     f'{avg(st["distilled"])} | {gain_cells} | '
                     f'{gain_over_se(gains["bbox_mAP"])} | '
                     f'{_pct([b["distill"] for b in balance])} | '
                     f'{_pct([b["clipped"] for b in balance])} | '
                     f'{len(st["student"])} | {avg(st["walls"]) if st["walls"] else ""} |')
    return '\n'.join(lines)


def choose_table(results: List[dict], cost_rows: List[dict]) -> str:
    """The table to choose a method by: per distillation config, the gain over the seeds
    next to what it costs, from ``tools/benchmark/benchmark.py --out X`` (``X.json``; rows
    matched by the config's file name): the distillation step's time relative to the student's
    step plus the teacher's forward, and the peak memory of the distillation step against the
    student's own training step. A config the benchmark did not measure has empty cost cells.
    ``inherits``: what the student takes from the teacher before training (``inherit_teacher``),
    which on a student trained from scratch can weigh more than the loss."""
    from mmengine.config import Config
    cost = {config_name(r['distill']['config']): r for r in cost_rows}
    lines = [
        '| method | run | inherits | student mAP | distilled mAP | gain mAP | gain / SE | '
        'distill. share of gradient | step cost ratio | peak MB distill / student | seeds |',
        '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for st in config_stats(results):
        inherits = Config.fromfile(repo_file(st['config'])).model.get('inherit_teacher')
        c = cost.get(st['name'])
        ratio = f'{c["summary"]["ratio"]:.2f}' if c else ''
        peak = f'{c["distill"]["peak_mb"]:.0f} / {c["student"]["peak_mb"]:.0f}' if c else ''
        lines.append(f'| {st["method"]} | `{st["name"]}` | {", ".join(inherits or ()) or "-"} | '
                     f'{statistics.mean(st["student"]):.1f} | '
                     f'{statistics.mean(st["distilled"]):.1f} | '
                     f'{mean_std(st["gains"]["bbox_mAP"])} | '
                     f'{gain_over_se(st["gains"]["bbox_mAP"])} | '
                     f'{_pct([b["distill"] for b in st["balance"]])} | {ratio} | {peak} | '
                     f'{len(st["student"])} |')
    return '\n'.join(lines)


def balance_table(results: List[dict]) -> str:
    """Per distillation run, the hook's figures averaged over its probes and the seeds: each
    term's share of the gradient on the student, the distillation's share per parameter
    group, the cosine between the distillation gradient and the student's own, the steps
    clipped."""
    lines = [
        '| run | gradient share per term | distillation share per group | '
        'cos(distill, student) | steps clipped |', '|---|---|---|---|---|'
    ]
    for r in results:
        for cfg in PRESETS[r['method']]['distill']:
            name = config_name(cfg)
            runs = [run_balance(runs[name][0]) for runs in r['seeds'].values() if runs[name][1]]
            runs = [b for b in runs if b['terms']]
            if not runs:
                continue
            terms = {t: [b['terms'].get(t, 0.) for b in runs] for t in runs[0]['terms']}
            groups = {g: [b['groups'].get(g) for b in runs] for g in runs[0]['groups']}
            cos = [b['cos'] for b in runs if b['cos'] is not None]
            lines.append(f'| `{name}` | ' + ', '.join(f'{t} {_pct(v)}' for t, v in terms.items()) +
                         ' | ' + ', '.join(f'{g} {_pct(v)}' for g, v in groups.items()) + ' | ' +
                         (f'{statistics.mean(cos):+.2f}' if cos else '') + ' | ' +
                         f'{_pct([b["clipped"] for b in runs])} |')
    return '\n'.join(lines)


def gain_chart(results: List[dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names, means, errs = [], [], []
    for r in results:
        for cfg in PRESETS[r['method']]['distill']:
            g = [
                100 * (runs[config_name(cfg)][1]['bbox_mAP'] - runs['student'][1]['bbox_mAP'])
                for runs in r['seeds'].values() if runs['student'][1] and runs[config_name(cfg)][1]
            ]
            if g:
                names.append(config_name(cfg).replace('_mini', ''))
                means.append(statistics.mean(g))
                errs.append(statistics.stdev(g) if len(g) > 1 else 0.)
    if not names:
        return
    fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 3.8))
    bars = ax.bar(names, means, yerr=errs, capsize=4, color='#2ca02c')
    ax.bar_label(bars, fmt='%+.1f')
    ax.axhline(0, color='k', lw=0.8)
    ax.set_ylabel('mAP gain over the student (x100)')
    ax.set_title('Distillation gain on the mini dataset')
    plt.setp(ax.get_xticklabels(), rotation=30, ha='right')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def loss_curve(work_dir: str, scale: float = 1.0):
    """(iteration, the student's own detection loss) from a run's scalars.json: ``loss`` of a
    plain run, the sum of the ``student.*loss*`` terms of a distillation run (divided by the
    distiller's ``loss_scale``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    its, vals = [], []
    for path in files:
        for line in open(path):
            rec = json.loads(line)
            if 'iter' not in rec or 'coco/bbox_mAP' in rec:
                continue
            student = [v for k, v in rec.items() if k.startswith('student.') and 'loss' in k]
            if student:
                its.append(rec['iter'])
                vals.append(sum(student) / scale)
            elif 'loss' in rec:
                its.append(rec['iter'])
                vals.append(rec['loss'])
    return its, vals


def loss_chart(result: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.config import Config
    runs = result['seeds'][min(result['seeds'])]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, (d, metrics) in runs.items():
        if not metrics:
            continue
        scale = 1.0
        if name != 'student':
            cfg = Config.fromfile(
                repo_file([
                    c for c in PRESETS[result['method']]['distill'] if config_name(c) == name
                ][0]))
            scale = cfg.model.get('loss_scale', 1.0)
        its, vals = loss_curve(d, scale)
        if its:
            ax.plot(its, vals, label=name.replace('_mini', ''), lw=1)
    ax.set_xlabel('iteration')
    ax.set_ylabel("the student's detection loss")
    ax.set_title(f'{result["method"]}: student alone vs distilled (seed {min(result["seeds"])})')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def detection_grid(result: dict, path: str, num_images: int, score_thr: float) -> None:
    """The first ``num_images`` val images (rows) with the teacher's, the student's and the
    (first) distilled student's detections (columns), seed of the first run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.config import Config

    from detkd.utils.inference import build_inferencer
    preset = PRESETS[result['method']]
    runs = result['seeds'][min(result['seeds'])]
    distill = config_name(preset['distill'][0])
    if not (result['teacher'] and runs['student'][1] and runs[distill][1]):
        return  # a run is missing (--no-train)
    d_ckpt = last_checkpoint(runs[distill][0])
    columns = [('teacher', preset['teacher'], result['teacher_ckpt']),
               ('student', preset['student'], last_checkpoint(runs['student'][0])),
               (distill.replace('_mini', ''), preset['distill'][0], d_ckpt)]
    cfg = Config.fromfile(repo_file(preset['student']))
    val = cfg.val_dataloader.dataset
    img_dir = osp.join(val.data_root, val.data_prefix.img)
    images = sorted(glob.glob(osp.join(img_dir, '*.jpg')))[:num_images]
    panels = []
    for title, config, ckpt in columns:
        if ckpt is None:
            return
        inferencer = build_inferencer(repo_file(config), ckpt)
        out = inferencer(images, return_vis=True, no_save_vis=True, pred_score_thr=score_thr)
        panels.append((title, out['visualization']))
    fig, axes = plt.subplots(
        len(images), len(panels), figsize=(3.2 * len(panels), 2.6 * len(images)), squeeze=False)
    for c, (title, vis) in enumerate(panels):
        for r, im in enumerate(vis):
            axes[r][c].imshow(im)
            axes[r][c].axis('off')
            if r == 0:
                axes[r][c].set_title(title, fontsize=9)
    fig.suptitle(f'{result["method"]}: detections above {score_thr} on mini val images')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    pairs = [user_file(p) for p in args.pairs]
    for pair in pairs:
        name = config_name(pair)
        if name in PRESETS:
            raise SystemExit(f'distill_report: {pair}: a built-in method is called {name}; '
                             'use --methods for it, or rename the config')
        PRESETS[name] = preset_from_pair(pair, args.work_root)
    if args.methods is None:
        args.methods = [] if pairs else sorted(PRESETS)
    args.methods = list(args.methods) + [config_name(p) for p in pairs]
    if args.runs_dir and len(args.methods) > 1:
        raise SystemExit('--runs-dir takes one method')
    os.makedirs(args.out_dir, exist_ok=True)
    t0 = time.time()
    runs = Runs(args.jobs)
    try:
        results = [run_method(method, args, runs) for method in args.methods]
        results = [resolve(r) for r in results]
    except BaseException:
        runs.close(error=True)
        raise
    runs.close()
    md = table(results)
    header = (f'COCO box AP x100 on the 150 mini val images; gain = distilled - student, '
              f'seeds {args.seeds}' + (' (mean ± sample std)' if len(args.seeds) > 1 else ''))
    balance = balance_table(results)
    choose = ''
    if args.cost:
        with open(user_file(args.cost)) as f:
            choose = ('\n\nTo choose by (gain as above; cost from '
                      f'{args.cost}):\n\n' + choose_table(results, json.load(f)))
    with open(osp.join(args.out_dir, 'report.md'), 'w') as f:
        f.write(header + '\n\n' + md + '\n\nThe balance (DistillBalanceHook, mean over its '
                'probes and the seeds):\n\n' + balance + choose + '\n')
    gain_chart(results, osp.join(args.out_dir, 'gain.png'))
    for r in results:
        loss_chart(r, osp.join(args.out_dir, f'losses_{r["method"]}.png'))
        if args.grid_images:
            detection_grid(r, osp.join(args.out_dir, f'grid_{r["method"]}.png'), args.grid_images,
                           args.score_thr)
    print(f'\n{header}\n\n{md}\n\n{balance}{choose}\n\nsaved {args.out_dir}/report.md, gain.png, '
          f'losses_*.png{", grid_*.png" if args.grid_images else ""}; '
          f'total {time.time() - t0:.0f} s')
    return results


if __name__ == '__main__':
    main()
