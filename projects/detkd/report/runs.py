"""The runs of a report: where each goes, training (resuming) or reusing it, evaluating a
given teacher, several at a time.

Layout, under the work root (``work_dirs/`` by default, relative to where the command runs):

- a built-in method's runs where ``make demo`` puts them: ``demo_<method>/<config name>``
  (``demo`` for fgd) for seed 0, ``demo_<method>/seed<s>/<config name>`` for seed s; methods
  with the same student config share its runs, in the first such method's directory;
- a pair config's: ``<pair name>/seed<s>``, its student alone in ``students/<student>/seed<s>``
  (one per distinct resolved student: pairs that share a student share its runs);
- a teacher trained by the report: ``<teacher config name>`` (where ``tools/train.py`` puts it
  and the pair configs look for its checkpoint); a pair's given teacher checkpoint is evaluated
  once in ``teachers/<teacher name>-<key>`` (one per teacher config and checkpoint);
- a compute-matched student (``--compute-matched``): the student's run directory with
  ``_<epochs>e`` appended.

A run counts as finished only when its final evaluation is logged; an interrupted one resumes
from its last complete checkpoint.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Callable, List, Optional

from ..utils import read_logged_metrics
from .presets import CONFIG_LOCK, ROOT, config_name, repo_file

TOOLS = osp.join(ROOT, 'tools')
FINAL = 'report_final.json'  # a run's final evaluation, as the report found it
_PROGRESS = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?eta: (\S+)')
_LOG_TIME = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)')

# -- where the runs go ---------------------------------------------------------------------


def method_dir(work_root: str, method: str) -> str:
    return osp.join(work_root, 'demo' if method == 'fgd' else f'demo_{method}')


def builtin_run_dir(work_root: str,
                    method: str,
                    seed: int,
                    config: str,
                    runs_dir: Optional[str] = None) -> str:
    base = runs_dir or method_dir(work_root, method)
    return osp.join(base, config_name(config)) if seed == 0 else osp.join(
        base, f'seed{seed}', config_name(config))


def pair_run_dir(work_root: str, name: str, seed: int) -> str:
    return osp.join(work_root, name, f'seed{seed}')


def student_run_dir(work_root: str, student: str, seed: int) -> str:
    return osp.join(work_root, 'students', config_name(student), f'seed{seed}')


def teacher_eval_dir(work_root: str, teacher: str, ckpt: str) -> str:
    key = hashlib.sha1(f'{osp.realpath(teacher)}|{ckpt}'.encode()).hexdigest()[:8]
    return osp.join(work_root, 'teachers', f'{config_name(teacher)}-{key}')


# -- reading runs ---------------------------------------------------------------------------


def checkpoint_epoch(path: str) -> int:
    return int(re.findall(r'epoch_(\d+)', path)[-1])


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
    """Seconds from the first to the last line of each training log (resumed runs: the sum
    over the logs)."""
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
    for opt in reversed(list(extra)):  # the last one wins, as in tools/train.py
        if opt.startswith('train_cfg.max_epochs='):
            return int(opt.split('=', 1)[1])
    from mmengine.config import Config
    with CONFIG_LOCK:
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


def _no_detections(work_dir: str) -> Optional[dict]:
    """A run whose final evaluation found no detection at all (mmdet's CocoMetric then logs
    no metric, only "The testing results of the whole dataset is empty"): every metric 0,
    recorded as its final evaluation with ``no_detections``; None for any other run."""
    out = osp.join(work_dir, 'report_train.out')
    if not (osp.isfile(out)
            and 'testing results of the whole dataset is empty' in open(out).read()):
        return None
    metrics = dict(
        {
            m: 0.0
            for m in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m',
                      'bbox_mAP_l')
        },
        no_detections=True)
    with open(osp.join(work_dir, FINAL), 'w') as f:
        json.dump(metrics, f)
    print(f'[no detections] {work_dir}: its final evaluation found no box (mAP 0)', flush=True)
    return metrics


# -- running ---------------------------------------------------------------------------------


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
    cmd = [
        sys.executable,
        osp.join(TOOLS, 'train.py'),
        repo_file(config), '--work-dir', work_dir, *extra
    ]
    if ckpt:  # this checkpoint, not the work dir's last_checkpoint, which may be cut short
        cmd += ['--resume', ckpt]
    print(f'[{"resume" if ckpt else "start"}] {label}: ' + ' '.join(cmd), flush=True)
    _run(cmd, work_dir, label, epochs)
    metrics = final_metrics(work_dir, epochs) or _no_detections(work_dir)
    if not metrics:
        raise RuntimeError(f'{label}: no final evaluation in {work_dir} (see its '
                           'report_train.out)')
    print(
        f'[done] {label}: mAP {100 * metrics["bbox_mAP"]:.1f} in {time.time() - t0:.0f} s',
        flush=True)
    return metrics


def evaluate(config: str,
             ckpt: str,
             work_dir: str,
             label: str,
             extra=(),
             no_train=False) -> Optional[dict]:
    """The checkpoint's COCO metrics with tools/test.py, recorded in ``work_dir`` (``FINAL``)
    and reused from there."""
    marker = osp.join(work_dir, FINAL)
    if osp.isfile(marker):
        with open(marker) as f:
            metrics = json.load(f)
        print(f'[reuse] {label}: {ckpt} (mAP {100 * metrics["bbox_mAP"]:.1f})', flush=True)
        return metrics
    if no_train:
        print(f'[missing] {label}: {work_dir}', flush=True)
        return None
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


class Runs:
    """The runs of one report, up to ``jobs`` at a time (threads, each waiting on its
    tools/train.py process): a work directory is run once (a student shared by two methods, a
    teacher shared by two pairs); ``submit`` returns the run's future, whose ``result()``
    waits for its metrics. ``trainer`` and ``evaluator`` are what runs a training and an
    evaluation (``train`` and ``evaluate``; tests give their own)."""

    def __init__(self, jobs: int = 1, trainer: Callable = train, evaluator: Callable = evaluate):
        self.pool = ThreadPoolExecutor(jobs) if jobs > 1 else None
        self.futures = {}
        self.trainer, self.evaluator = trainer, evaluator

    def submit(self, work_dir: str, fn, *args) -> Future:
        if work_dir not in self.futures:
            if self.pool:
                self.futures[work_dir] = self.pool.submit(fn, *args)
            else:  # one at a time, in submission order
                self.futures[work_dir] = done = Future()
                done.set_result(fn(*args))
        return self.futures[work_dir]

    def train(self, work_dir: str, *args) -> Future:
        return self.submit(work_dir, self.trainer, args[0], work_dir, *args[1:])

    def evaluate(self, work_dir: str, config: str, ckpt: str, *args) -> Future:
        return self.submit(work_dir, self.evaluator, config, ckpt, work_dir, *args)

    def close(self, error: bool = False) -> None:
        """Wait for the runs in progress (a failure elsewhere does not stop a training that
        is under way: it is reused next time); runs not yet started are cancelled."""
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=error)


def resolve(result: dict) -> dict:
    """A method's runs with every run's metrics (waiting for them)."""
    for key in ('teacher', ):
        if isinstance(result.get(key), Future):
            result[key] = result[key].result()
    for runs in result['seeds'].values():
        for name, (d, m) in runs.items():
            runs[name] = (d, m.result() if isinstance(m, Future) else m)
    return result
