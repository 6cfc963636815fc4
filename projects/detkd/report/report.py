"""``Report``: the runs a comparison needs, their statistics and the report's files."""
import argparse
import json
import os
import os.path as osp
import platform
import shlex
import statistics
import sys
import time
from datetime import date
from typing import Dict, List, Optional

from .presets import (CONFIG_LOCK, ROOT, config_name, load_presets, preset_from_pair, repo_file,
                      user_file)
from .runs import (Runs, builtin_run_dir, last_checkpoint, max_epochs, pair_run_dir, resolve,
                   student_run_dir, teacher_eval_dir, wall_time)
from .stats import gain_over_se_value, run_balance, teacher_margin
from .tables import GAIN_METRICS, balance_table, caption, choose_table, gain_table, margin_lines

RESULTS = 'results.json'


def parse_args(argv=None, presets: Optional[dict] = None):
    presets = load_presets() if presets is None else presets
    p = argparse.ArgumentParser(
        description='The gain of distillation methods over seeds, in one command: the '
        "built-in mini pairs or your own pair configs, on each pair's own data.")
    p.add_argument(
        'pairs',
        nargs='*',
        metavar='PAIR_CONFIG',
        help='distillation configs to report as methods of their own (your pairs; those with '
        'the same student share its runs, those with the same teacher and checkpoint its '
        'evaluation)')
    p.add_argument(
        '--methods',
        nargs='+',
        choices=sorted(presets),
        help='the built-in mini methods (default: all of them, unless pair configs are given)')
    p.add_argument('--seeds', nargs='+', type=int, default=[0])
    p.add_argument(
        '--work-root', default='work_dirs', help='where the runs go (default work_dirs)')
    p.add_argument(
        '--runs-dir',
        help="with one built-in method: where its student and distillation runs go instead of "
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
    p.add_argument(
        '--compute-matched',
        action='store_true',
        help='with --cost: also train each student alone for as many more epochs as a '
        'distillation step of its pairs costs (the largest distillation step time over the '
        "student step time in --cost), at the same seeds: the gain the compute alone buys, "
        'as a row of the table to choose by')
    p.add_argument('--grid-images', type=int, default=4, help='val images per grid (0: none)')
    p.add_argument('--score-thr', type=float, default=0.3, help='boxes drawn in the grids')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value options for every tools/train.py run; model.X applies to the '
        "detector: model.architecture.X in a distillation config")
    args = p.parse_args(argv)
    if args.compute_matched and not args.cost:
        p.error('--compute-matched needs --cost (the benchmark gives the step times)')
    return args


def _load(config: str):
    from mmengine.config import Config
    with CONFIG_LOCK:
        return Config.fromfile(repo_file(config))


def scaled_schedule(cfg, factor: float, epochs: int):
    """``cfg`` (an mmengine Config) trained for ``epochs`` epochs instead of its own, its
    epoch-based scheduler steps and epoch hooks scaled alike (iteration-based warmups kept)."""
    base = cfg.train_cfg.max_epochs
    scale = epochs / base

    def at(e):
        return max(1, round(e * scale)) if e else e

    cfg.train_cfg.max_epochs = epochs
    if cfg.train_cfg.get('val_interval') == base:
        cfg.train_cfg.val_interval = epochs
    for sched in cfg.get('param_scheduler') or []:
        if not sched.get('by_epoch', True):
            continue
        for key in ('begin', 'end', 'T_max'):
            if isinstance(sched.get(key), int):
                sched[key] = epochs if sched[key] == base else at(sched[key])
        if 'milestones' in sched:
            sched['milestones'] = [at(m) for m in sched['milestones']]
    for hook in cfg.get('custom_hooks') or []:
        if 'switch_epoch' in hook:
            hook['switch_epoch'] = epochs - (base - hook['switch_epoch'])
    return cfg


def dataset_info(config: str) -> dict:
    """The val set a config evaluates on: its dataset type, folder and image count."""
    cfg = _load(config)
    ds = cfg.val_dataloader.dataset
    ann = osp.join(ds.get('data_root') or '', ds.get('ann_file') or '')
    images = None
    if osp.isfile(ann):
        with open(ann) as f:
            images = len(json.load(f).get('images', []))
    name = 'the mini dataset' if ds.type == 'MiniCocoDataset' else \
        f'{ds.get("data_root") or ""}{ds.get("ann_file") or ""}'
    return dict(name=name, images=images, type=ds.type, ann_file=ann)


def _tool(path: str) -> str:
    """The tool as a user types it: ``tools/...`` from the repository (or the package's
    ``.mim``), else the path from the working directory."""
    real = osp.realpath(path)
    root = osp.dirname(osp.realpath(osp.join(ROOT, 'tools')))
    return osp.relpath(real, root) if real.startswith(root + os.sep) else osp.relpath(path)


class Report:
    """A report's methods (the built-in ones asked for and the pair configs given), their
    runs, statistics and files.

    Args:
        args: ``parse_args``' namespace.
        presets (dict, optional): the built-in methods (``load_presets()``).
        trainer, evaluator: what runs a training and an evaluation (``runs.train``,
            ``runs.evaluate``; tests give their own).
    """

    def __init__(self, args, presets: Optional[dict] = None, trainer=None, evaluator=None):
        self.args = args
        self.presets = dict(load_presets() if presets is None else presets)
        self.methods = list(args.methods or ([] if args.pairs else self.presets))
        for pair in args.pairs:
            name = config_name(pair)
            if name in self.presets:
                raise SystemExit(f'distill_report: {pair}: a built-in method is called {name}; '
                                 'use --methods for it, or rename the config')
            self.presets[name] = preset_from_pair(pair, args.work_root)
            self.methods.append(name)
        if args.runs_dir and len(self.methods) > 1:
            raise SystemExit('--runs-dir takes one method')
        self.cost_rows = None
        if args.cost:
            with open(user_file(args.cost)) as f:
                data = json.load(f)
            rows = data['rows'] if isinstance(data, dict) else data
            self.cost_rows = {config_name(r['distill']['config']): r for r in rows}
        self._runner = dict(trainer=trainer, evaluator=evaluator)

    # -- where --------------------------------------------------------------------------
    def student_owner(self, method: str) -> str:
        """The first built-in method with this method's student config: the one whose
        directory holds the student's runs, so that methods with the same student train it
        once (pair configs share by their resolved student instead)."""
        student = self.presets[method]['student']
        return next(m for m, p in self.presets.items()
                    if p.get('builtin', True) and p['student'] == student)

    def student_dir(self, method: str, seed: int) -> str:
        preset = self.presets[method]
        if preset.get('builtin', True):
            return builtin_run_dir(self.args.work_root, self.student_owner(method), seed,
                                   preset['student'], self.args.runs_dir)
        return student_run_dir(self.args.work_root, preset['student'], seed)

    def distill_dir(self, method: str, seed: int, config: str) -> str:
        if self.presets[method].get('builtin', True):
            return builtin_run_dir(self.args.work_root, method, seed, config, self.args.runs_dir)
        return pair_run_dir(self.args.work_root, method, seed)

    # -- the compute-matched student ------------------------------------------------------
    def matched_student(self, method: str) -> Optional[dict]:
        """The student alone trained as long as its most expensive distillation in the report
        costs (``--compute-matched``): its config, epochs and factor; None without costs."""
        if not (self.args.compute_matched and self.cost_rows):
            return None
        student = self.presets[method]['student']
        configs = [
            config_name(c) for m in self.methods if self.presets[m]['student'] == student
            for c in self.presets[m]['distill']
        ]
        rows = [self.cost_rows[c] for c in configs if c in self.cost_rows]
        if not rows:
            return None
        factor = max(r['distill']['time'] / r['student']['time'] for r in rows)
        cfg = _load(student)
        base = cfg.train_cfg.max_epochs
        epochs = max(base, round(base * factor))
        path = osp.abspath(
            osp.join(self.args.work_root, 'students', f'{config_name(student)}_{epochs}e.py'))
        os.makedirs(osp.dirname(path), exist_ok=True)
        scaled_schedule(cfg, factor, epochs).dump(path)
        return dict(config=path, epochs=epochs, base_epochs=base, factor=factor)

    # -- running ----------------------------------------------------------------------------
    def run_method(self, method: str, runs: Runs) -> dict:
        """One method's runs: its teacher, then for every seed its student alone, then each
        distillation once the teacher is done (they need its checkpoint; the students do not).
        The metrics are futures until ``resolve``."""
        args, preset = self.args, self.presets[method]
        extra = ['--cfg-options', *args.cfg_options] if args.cfg_options else []
        label = f'{method} teacher'
        t_ckpt = preset.get('teacher_ckpt')
        if t_ckpt:  # a pair's trained teacher: evaluated once, not trained
            t_dir = teacher_eval_dir(args.work_root, preset['teacher'], t_ckpt)
            teacher = runs.evaluate(t_dir, preset['teacher'], t_ckpt, label, extra)
        else:
            t_dir = osp.join(args.work_root, config_name(preset['teacher']))
            if args.retrain_teacher and not args.no_train and t_dir not in runs.futures:
                for f in [f for f in os.listdir(t_dir)
                          if f.startswith('epoch_')] if osp.isdir(t_dir) else []:
                    os.remove(osp.join(t_dir, f))
            teacher = runs.train(t_dir, preset['teacher'], label, extra, args.no_train)
        result = dict(method=method, teacher_dir=t_dir, seeds={}, matched=None)
        matched = self.matched_student(method)
        for seed in args.seeds:
            opts = ['--cfg-options', f'randomness.seed={seed}', *args.cfg_options]
            s_dir = self.student_dir(method, seed)
            student = runs.train(s_dir, preset['student'], f'{method} seed {seed} student', opts,
                                 args.no_train)
            result['seeds'][seed] = dict(student=(s_dir, student))
            if matched:
                m_dir = f'{s_dir}_{matched["epochs"]}e'
                run = runs.train(m_dir, matched['config'],
                                 f'{method} seed {seed} student, {matched["epochs"]} epochs', opts,
                                 args.no_train)
                result['seeds'][seed]['matched'] = (m_dir, run)
        result['matched'] = matched
        result['teacher'] = teacher.result()
        if not t_ckpt:
            t_ckpt = last_checkpoint(t_dir)
        result['teacher_ckpt'] = t_ckpt
        for seed in args.seeds:
            opts = ['--cfg-options', f'randomness.seed={seed}'] + [
                'model.architecture.' + o[len('model.'):] if o.startswith('model.') else o
                for o in args.cfg_options
            ]
            for cfg in preset['distill']:
                name = config_name(cfg)
                d_dir = self.distill_dir(method, seed, cfg)
                d_opts = opts + ([f'model.teacher_ckpt={t_ckpt}'] if t_ckpt else [])
                skip = args.no_train or name in args.skip
                run = runs.train(d_dir, cfg, f'{method} seed {seed} {name}', d_opts, skip)
                result['seeds'][seed][name] = (d_dir, run)
        return result

    def run(self) -> List[dict]:
        """Every method's runs (``--jobs`` at a time), resolved to their metrics."""
        runs = Runs(self.args.jobs, **{k: v for k, v in self._runner.items() if v})
        try:
            results = [self.run_method(method, runs) for method in self.methods]
            results = [resolve(r) for r in results]
        except BaseException:
            runs.close(error=True)
            raise
        runs.close()
        return results

    # -- statistics -------------------------------------------------------------------------
    def stats(self, results: List[dict]) -> List[dict]:
        """Per distillation config with finished runs (and per compute-matched student): its
        method, name, the teacher's mAP and margin, and over the seeds where both runs
        finished the student's and the distilled mAP, the gains (x100, per metric), the wall
        times (min), the balance, the cost when given."""
        out, matched_done = [], set()
        for r in results:
            preset = self.presets[r['method']]
            teacher = 100 * r['teacher']['bbox_mAP'] if r.get('teacher') else None
            students = [
                100 * runs['student'][1]['bbox_mAP'] for runs in r['seeds'].values()
                if runs['student'][1]
            ]
            margin = teacher_margin(teacher, students)
            cfgs = [(c, config_name(c)) for c in preset['distill']]
            prediction = {}
            for cfg, name in cfgs:
                model = _load(cfg).model
                prediction[name] = (model.get('teacher_forward', 'neck') == 'head',
                                    list(model.get('inherit_teacher') or ()))
            rows = [(name, name, prediction[name]) for _, name in cfgs]
            matched = r.get('matched')
            if matched and matched['config'] not in matched_done:  # once per student
                matched_done.add(matched['config'])
                rows.append(('matched', config_name(matched['config']), (False, [])))
            for key, name, (pred_level, inherits) in rows:
                st = dict(
                    method=r['method'],
                    name=name,
                    config=key,
                    teacher=teacher,
                    margin=margin,
                    prediction_level=pred_level,
                    inherits=inherits,
                    student=[],
                    distilled=[],
                    walls=[],
                    balance=[],
                    per_seed={},
                    gains={m: []
                           for m in GAIN_METRICS})
                if key == 'matched':
                    st['matched'] = r['matched']
                for seed, runs in r['seeds'].items():
                    s_dir, s = runs['student']
                    d_dir, d = runs.get(key, (None, None))
                    if not (s and d):
                        continue
                    st['student'].append(100 * s['bbox_mAP'])
                    st['distilled'].append(100 * d['bbox_mAP'])
                    st['per_seed'][seed] = dict(student=s, distilled=d)
                    for m in GAIN_METRICS:
                        st['gains'][m].append(100 * (d[m] - s[m]))
                    w = wall_time(d_dir)
                    if w:
                        st['walls'].append(w / 60)
                    if key != 'matched':
                        st['balance'].append(run_balance(d_dir))
                c = (self.cost_rows or {}).get(name)
                if c:
                    st['cost'] = dict(
                        ratio=c['summary']['ratio'],
                        distill_peak_mb=c['distill']['peak_mb'],
                        student_peak_mb=c['student']['peak_mb'],
                        step_time_ratio=c['distill']['time'] / c['student']['time'])
                if st['student']:
                    out.append(st)
        return out

    def datasets(self) -> List[dict]:
        seen, out = set(), []
        for m in self.methods:
            info = dataset_info(self.presets[m]['student'])
            if info['ann_file'] not in seen:
                seen.add(info['ann_file'])
                out.append(info)
        return out

    # -- output -----------------------------------------------------------------------------
    def markdown(self, stats: List[dict]) -> str:
        datasets = self.datasets()
        text = caption(datasets, self.args.seeds) + '\n\n'
        margins = margin_lines(stats)
        if margins:
            text += "The teachers' margins over the student alone:\n\n" + margins + '\n\n'
        text += gain_table([s for s in stats if not s.get('matched')])
        text += ('\n\nThe balance (DistillBalanceHook, mean over its probes and the seeds):\n\n' +
                 balance_table(stats))
        if self.cost_rows:
            text += (f'\n\nTo choose by (gain as above; cost from {self.args.cost}):\n\n' +
                     choose_table(stats))
        return text + '\n'

    def results_json(self, stats: List[dict]) -> dict:
        """The machine-readable results: per distillation config (and compute-matched
        student) its per-seed mAPs, the gain's mean, sd and gain / SE, the gradient shares,
        the cost when given; and where, when and how it was measured."""
        import torch
        records = []
        for st in stats:
            g = st['gains']['bbox_mAP']
            bal = [b for b in st['balance'] if b['distill'] is not None]
            records.append(
                dict(
                    method=st['method'],
                    run=st['name'],
                    config=st['config'],
                    teacher_map=st['teacher'],
                    margin=st['margin'],
                    prediction_level=st['prediction_level'],
                    inherits=st['inherits'],
                    seeds={
                        str(k):
                        dict(
                            student_map=100 * v['student']['bbox_mAP'],
                            distilled_map=100 * v['distilled']['bbox_mAP'])
                        for k, v in st['per_seed'].items()
                    },
                    student_map=statistics.mean(st['student']),
                    distilled_map=statistics.mean(st['distilled']),
                    gain=statistics.mean(g),
                    gain_sd=statistics.stdev(g) if len(g) > 1 else None,
                    gain_over_se=gain_over_se_value(g),
                    gains={
                        m: statistics.mean(v)
                        for m, v in st['gains'].items() if v
                    },
                    distill_share=(statistics.mean(b['distill'] for b in bal) if bal else None),
                    terms={
                        t: statistics.mean(b['terms'].get(t, 0.) for b in bal)
                        for t in (bal[0]['terms'] if bal else {})
                    },
                    cos=(statistics.mean(b['cos'] for b in bal
                                         if b['cos'] is not None) if any(b['cos'] is not None
                                                                         for b in bal) else None),
                    clipped=(statistics.mean(b['clipped'] for b in bal
                                             if b['clipped'] is not None) if any(
                                                 b['clipped'] is not None for b in bal) else None),
                    cost=st.get('cost'),
                    matched=(dict(st['matched'], config=osp.relpath(st['matched']['config']))
                             if st.get('matched') else None),
                    wall_min=statistics.mean(st['walls']) if st['walls'] else None))
        return dict(
            date=date.today().isoformat(),
            machine=(f'{platform.machine()}, {os.cpu_count()} CPU cores, torch '
                     f'{torch.__version__}, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")}'),
            command=' '.join(
                shlex.quote(a) for a in ['python', _tool(sys.argv[0])] + sys.argv[1:]),
            seeds=list(self.args.seeds),
            datasets=self.datasets(),
            results=records)

    def write(self, results: List[dict], stats: List[dict]) -> str:
        """report.md, results.json and the charts in ``--out-dir``; returns the Markdown."""
        from .charts import detection_grid, gain_chart, loss_chart
        out = self.args.out_dir
        os.makedirs(out, exist_ok=True)
        md = self.markdown(stats)
        with open(osp.join(out, 'report.md'), 'w') as f:
            f.write(md)
        with open(osp.join(out, RESULTS), 'w') as f:
            json.dump(self.results_json(stats), f, indent=1)
        gain_chart([s for s in stats if not s.get('matched')], osp.join(out, 'gain.png'),
                   'Distillation gain over the student alone')
        for r in results:
            seed = min(r['seeds'])
            runs = r['seeds'][seed]
            curves = {'student': (runs['student'][0], 1.0)}
            for cfg in self.presets[r['method']]['distill']:
                name = config_name(cfg)
                if name in runs and runs[name][1]:
                    curves[name] = (runs[name][0], _load(cfg).model.get('loss_scale', 1.0))
            loss_chart(r['method'], seed, curves, osp.join(out, f'losses_{r["method"]}.png'))
            preset = self.presets[r['method']]
            first = config_name(preset['distill'][0])
            if self.args.grid_images and r.get('teacher') and runs['student'][1] and \
                    runs.get(first, (None, None))[1]:
                columns = [('teacher', repo_file(preset['teacher']), r['teacher_ckpt']),
                           ('student', repo_file(preset['student']), runs['student'][0]),
                           (first.replace('_mini',
                                          ''), repo_file(preset['distill'][0]), runs[first][0])]
                detection_grid(r['method'], columns,
                               _load(preset['student']).val_dataloader.dataset,
                               osp.join(out, f'grid_{r["method"]}.png'), self.args.grid_images,
                               self.args.score_thr)
        return md


def main(argv=None) -> Dict[str, object]:
    """The command: run (or reuse) every run, print and write the report."""
    args = parse_args(argv)
    t0 = time.time()
    report = Report(args)
    if not report.methods:
        raise SystemExit('distill_report: no method: give --methods or pair configs')
    results = report.run()
    stats = report.stats(results)
    md = report.write(results, stats)
    print(f'\n{md}\nsaved {args.out_dir}/report.md, {RESULTS}, gain.png, losses_*.png'
          f'{", grid_*.png" if args.grid_images else ""}; total {time.time() - t0:.0f} s')
    return dict(report=report, results=results, stats=stats)


__all__ = ['Report', 'parse_args', 'main', 'max_epochs', 'scaled_schedule', 'dataset_info']
