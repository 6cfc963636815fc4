"""Every measured figure of the documents, from one source: the report's results files.

``docs/results/**/*.json`` are ``results.json`` files the report wrote (or, for runs no longer
on any machine, transcribed into the same form, saying so in ``source``). A run (a method's
distillation config) is the newest record of it over those files. From them:

- every table between ``<!-- table:NAME -->`` and ``<!-- /table -->`` in README.md, docs/ and
  configs/*/README.md is generated (``TABLES`` names them);
- every mini entry of the metafiles gets a ``Results`` block (its run's figures and where,
  when and how they were measured).

A results file made from finished runs (``distill_report.py --no-train``) may list the commands
that trained them in ``trained_by``. ``python tools/docs/tables.py --write`` rewrites both;
``--check`` (a test) fails when a table or a ``Results`` block differs from what the files
give.
"""
import glob
import json
import os.path as osp
import re
from typing import Callable, Dict, List, Optional

import yaml

RESULTS_DIR = 'docs/results'
_TABLE = re.compile(r'(<!-- table:([\w-]+) -->\n)(.*?)(<!-- /table -->)', re.S)

# -- the source -------------------------------------------------------------------------------


def _records(data: dict, file: str) -> List[dict]:
    """A results file's records, each with the file's provenance."""
    return [
        dict(
            rec,
            date=data['date'],
            machine=data.get('machine'),
            command=data.get('command'),
            source=data.get('source'),
            trained_by=data.get('trained_by'),
            datasets=data.get('datasets') or [],
            file=file) for rec in data['results']
    ]


def load_runs(root: str = '.') -> Dict[str, dict]:
    """``run name -> record``: the newest record of each run (by the file's date, then its
    name), each with its file's provenance (``date``, ``machine``, ``command``, ``source``,
    ``datasets``, ``file``)."""
    runs = {}
    files = sorted(glob.glob(osp.join(root, RESULTS_DIR, '**', '*.json'), recursive=True))
    for path in files:
        with open(path) as f:
            data = json.load(f)
        if 'results' not in data:
            continue
        for rec in _records(data, osp.relpath(path, root)):
            old = runs.get(rec['run'])
            if old is None or (rec['date'], rec['file']) >= (old['date'], old['file']):
                runs[rec['run']] = rec
    return runs


def load_file(root: str, name: str) -> Optional[dict]:
    path = osp.join(root, RESULTS_DIR, name)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def metafile_entries(root: str = '.') -> List[dict]:
    """Every metafile entry, with its folder (``configs/<folder>/``)."""
    with open(osp.join(root, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    out = []
    for metafile in metafiles:
        with open(osp.join(root, metafile)) as f:
            meta = yaml.safe_load(f)
        for model in meta.get('Models') or []:
            out.append(dict(model, folder=osp.basename(osp.dirname(metafile)), metafile=metafile))
    return out


# -- cells ------------------------------------------------------------------------------------


def _f(v, fmt='{:.1f}'):
    return '' if v is None else fmt.format(v)


def gain_cell(rec: dict) -> str:
    if rec.get('gain') is None:
        return ''
    sd = f' ± {rec["gain_sd"]:.1f}' if rec.get('gain_sd') is not None else ''
    return f'{rec["gain"]:+.1f}{sd}'


def seeds_of(rec: dict) -> int:
    return rec.get('n_seeds') or len(rec.get('seeds') or {}) or 0


def _pct(v):
    return '' if v is None else f'{100 * v:.0f}%'


# -- tables -----------------------------------------------------------------------------------


def mini_table(runs: Dict[str, dict], names: List[str]) -> str:
    """The mini runs ``names``: teacher, student, distilled, gain, gain / SE, the
    distillation's share of the gradient, the cosine between the distillation's gradient and
    the student's own, the steps clipped, seeds, when."""
    lines = [
        '| run | teacher mAP | student mAP | distilled mAP | gain mAP | gain / SE | '
        'distill. share of gradient | cos(distill, student) | steps clipped | seeds | '
        'measured |', '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for name in names:
        r = runs.get(name)
        if r is None:
            lines.append(f'| `{name}` | | | | not measured | | | | | | |')
            continue
        lines.append(f'| `{name}` | {_f(r.get("teacher_map"))} | {_f(r.get("student_map"))} | '
                     f'{_f(r.get("distilled_map"))} | {gain_cell(r)} | '
                     f'{_f(r.get("gain_over_se"), "{:+.1f}")} | {_pct(r.get("distill_share"))} | '
                     f'{_f(r.get("cos"), "{:+.2f}")} | {_pct(r.get("clipped"))} | '
                     f'{seeds_of(r) or ""} | {r["date"]} |')
    return '\n'.join(lines)


def latest_costs(root: str) -> Dict[str, dict]:
    """``config name -> cost``: each config's newest measurement over the benchmark files
    (``docs/results/benchmark/*.json``), so that a cost reads the same in every table."""
    costs = {}
    for path in sorted(glob.glob(osp.join(root, RESULTS_DIR, 'benchmark', '*.json'))):
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict):
            continue
        for row in data['rows']:
            name = osp.splitext(osp.basename(row['distill']['config']))[0]
            old = costs.get(name)
            if old is None or data['date'] >= old['date']:
                costs[name] = dict(
                    ratio=row['summary']['ratio'],
                    distill_peak_mb=row['distill']['peak_mb'],
                    student_peak_mb=row['student']['peak_mb'],
                    date=data['date'],
                    file=osp.relpath(path, root))
    return costs


def choose_table(runs: Dict[str, dict], names: List[str], costs: Optional[dict] = None) -> str:
    """The table to choose by for one pair: gain, gain / SE, gradient share, step cost ratio
    and peak memory per run (the newest benchmark of its config in ``costs``, else the cost
    its results file gives); the compute-matched student as a row of its own."""
    costs = costs or {}
    lines = [
        '| run | inherits | student mAP | distilled mAP | gain mAP | gain / SE | '
        'distill. share of gradient | step cost ratio | peak MB distill / student | '
        'seeds | measured |', '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for name in names:
        r = runs.get(name)
        if r is None:
            continue
        c = costs.get(name) or r.get('cost') or {}
        ratio = _f(c.get('ratio'), '{:.2f}')
        peak = (f'{c["distill_peak_mb"]:.0f} / {c["student_peak_mb"]:.0f}'
                if c.get('distill_peak_mb') and c.get('student_peak_mb') else '')
        if r.get('matched'):
            m = r['matched']
            ratio = f'student alone, {m["epochs"]} epochs for {m["base_epochs"]}'
        lines.append(f'| `{name}` | {", ".join(r.get("inherits") or []) or "-"} | '
                     f'{_f(r.get("student_map"))} | {_f(r.get("distilled_map"))} | '
                     f'{gain_cell(r)} | {_f(r.get("gain_over_se"), "{:+.1f}")} | '
                     f'{_pct(r.get("distill_share"))} | {ratio} | {peak} | '
                     f'{seeds_of(r) or ""} | {r["date"]} |')
    return '\n'.join(lines)


def provenance(runs: Dict[str, dict], names: List[str]) -> str:
    """Where, when and how the rows above were measured, one line per results file."""
    seen = {}
    for name in names:
        r = runs.get(name)
        if r is not None:
            seen.setdefault(r['file'], r)
    lines = []
    for file, r in seen.items():
        how = f'`{r["command"]}`' if r.get('command') else 'command not recorded'
        if r.get('trained_by'):
            how = ('trained by ' + '; '.join(f'`{c}`'
                                             for c in r['trained_by']) + f'; the table by {how}')
        src = f' ({r["source"]})' if r.get('source') else ''
        data = ', '.join(f'{d["name"]} ({d["images"]} val images)'
                         for d in r.get('datasets') or [] if d.get('images'))
        data = f' on {data}' if data else ''
        machine = r.get('machine') or 'machine not recorded'
        lines.append(f'- {r["date"]}{data}, {machine}: {how}{src}; '
                     f'[{osp.basename(file)}]({{rel}}{file})')
    return '\n'.join(lines)


def teacher_line(runs, names) -> str:
    """The teacher's margin over the student alone, above a table of one student's runs; the
    runs of another teacher (a mixed pair) are named with their teacher's mAP."""
    present = [n for n in names if n in runs]
    recs = [runs[n] for n in present if runs[n].get('margin')]
    if not recs:
        return ''
    m = recs[0]['margin']
    others = '; '.join(f'{runs[n]["teacher_map"]:.1f} for `{n}`' for n in present
                       if runs[n].get('teacher_map') is not None
                       and round(runs[n]['teacher_map'], 1) != round(m['teacher'], 1))
    others = f' ({others})' if others else ''
    sd = f' ± {m["student_sd"]:.1f}' if m.get('student_sd') is not None else ''
    seeds = f'{m["seeds"]} seed' + ('s' if m['seeds'] != 1 else '')
    return (f'Teacher {m["teacher"]:.1f}{others}, student alone {m["student"]:.1f}{sd} over '
            f'{seeds}: the teacher\'s margin {m["margin"]:+.1f}.\n\n')


# -- what each marker holds --------------------------------------------------------------------


def mini_runs_of(entries: List[dict], **where) -> List[str]:
    """The mini runs (config names) of the metafile entries matching ``where``
    (``folder=``, ``student=``)."""
    out = []
    for e in entries:
        meta = e.get('Metadata') or {}
        if not meta.get('Report'):
            continue
        if 'folder' in where and e['folder'] != where['folder']:
            continue
        if 'student' in where and meta['Student']['Config'] != where['student']:
            continue
        out.append(osp.splitext(osp.basename(e['Config']))[0])
    return out


PAIRS = {
    'retinanet': 'configs/retinanet/retinanet_r18_mini.py',
    'gfl': 'configs/gfl/gfl_r18vd_mini.py',
    'rtmdet': 'configs/rtmdet/rtmdet_tiny_mini.py',
    'fcos': 'configs/fcos/fcos_r18_mini.py',
    'faster-rcnn': 'configs/faster_rcnn/faster-rcnn_r18_mini.py',
    'yolov3': 'configs/yolov3/yolov3_mv1_mini.py',
    'ppyoloe': 'configs/ppyoloe/ppyoloe_plus_mini.py',
}


def bench_table(root: str, name: str, rel: str) -> Optional[str]:
    """``docs/results/benchmark/<name>.json`` (``benchmark.py --out``): per config the
    student step, the teacher's forward, the distillation step and its losses, the balance
    probe, the step cost ratio and the peak memories, and how it was measured."""
    data = load_file(root, osp.join('benchmark', name + '.json'))
    if data is None:
        return None
    rows = data['rows'] if isinstance(data, dict) else data
    lines = [
        '| config | student step (ms) | teacher fwd (ms) | distill step (ms) | '
        'distill losses (ms, share) | balance probe (ms, every N steps) | step cost ratio | '
        'peak MB student / teacher / distill |', '|---|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        s, t, d = r['student'], r['teacher'], r['distill']
        probe = (f'{1000 * d["probe_time"]:.0f} / {d["probe_interval"]}'
                 if 'probe_time' in d else 'off')
        lines.append(f'| `{osp.basename(d["config"])}` | {1000 * s["time"]:.0f} | '
                     f'{1000 * t["time"]:.0f} | {1000 * d["time"]:.0f} | '
                     f'{1000 * d["loss_time"]:.0f} ({100 * d["loss_time"] / d["time"]:.0f}%) | '
                     f'{probe} | {r["summary"]["ratio"]:.2f} | {s["peak_mb"]:.0f} / '
                     f'{t["peak_mb"]:.0f} / {d["peak_mb"]:.0f} |')
    if isinstance(data, dict):
        lines += [
            '', f'- {data["date"]}, {data["machine"]}: `{data["command"]}`; '
            f'[{name}.json]({rel}{RESULTS_DIR}/benchmark/{name}.json)'
        ]
    return '\n'.join(lines)


def render(name: str,
           root: str,
           runs: Dict[str, dict],
           entries: List[dict],
           doc_dir: str,
           costs: Optional[dict] = None) -> Optional[str]:
    """The body of table ``name`` (None: an unknown name); ``costs`` as ``latest_costs`` gives
    them, read once by ``regenerate``."""
    rel = osp.relpath(root, osp.join(root, doc_dir)) + '/' if doc_dir else ''
    rel = '' if rel == './' else rel
    if name.startswith('mini-'):
        names = mini_runs_of(entries, folder=name[len('mini-'):])
        students = {
            e['Metadata']['Student']['Config']
            for e in entries if osp.splitext(osp.basename(e['Config']))[0] in names
        }
        line = teacher_line(runs, names) if len(students) == 1 else ''
        return (line + mini_table(runs, names) + '\n\n' +
                provenance(runs, names).replace('{rel}', rel))
    if name.startswith('choose-'):
        names = mini_runs_of(entries, student=PAIRS[name[len('choose-'):]])
        names += sorted(
            n for n, r in runs.items()
            if r.get('matched') and osp.basename(r['matched'].get('config', '')).startswith(
                osp.splitext(osp.basename(PAIRS[name[len('choose-'):]]))[0]))
        costs = latest_costs(root) if costs is None else costs
        used = sorted({costs[n]['file'] for n in names if n in costs})
        cost_line = ''.join(
            f'\n- step cost ratio and peak memory: [{osp.basename(f)}]({{rel}}{f}) '
            '([docs/benchmark.md]({rel}docs/benchmark.md))' for f in used)
        return (teacher_line(runs, names) + choose_table(runs, names, costs) + '\n\n' +
                (provenance(runs, names) + cost_line).replace('{rel}', rel))
    if name == 'methods':
        return methods_table(runs, entries)
    if name.startswith('runs-'):
        names = mini_runs_of(entries, student=PAIRS[name[len('runs-'):]])
        return (teacher_line(runs, names) + mini_table(runs, names) + '\n\n' +
                provenance(runs, names).replace('{rel}', rel))
    if name.startswith('bench-'):
        return bench_table(root, name[len('bench-'):], rel)
    if name.startswith('file-'):
        data = load_file(root, name[len('file-'):] + '.json')
        if data is None:
            return None
        file_runs = {
            r['run']: r
            for r in _records(data, osp.join(RESULTS_DIR, name[len('file-'):] + '.json'))
        }
        names = list(file_runs)
        return (teacher_line(file_runs, names) + mini_table(file_runs, names) + '\n\n' +
                provenance(file_runs, names).replace('{rel}', rel))
    return None


FOLDER_NAMES = {
    'fgd': 'FGD',
    'cwd': 'CWD',
    'ld': 'LD',
    'yolov3_kd': 'YOLOv3 KD',
    'ppyoloe_kd': 'PP-YOLOE+ KD',
    'pkd': 'PKD',
    'mgd': 'MGD',
    'fbkd': 'FBKD',
    'crosskd': 'CrossKD',
    'bckd': 'BCKD',
    'rtmdet_kd': 'RTMDet KD'
}


def methods_table(runs: Dict[str, dict], entries: List[dict]) -> str:
    """One line per method: its first COCO pair (published student -> distilled), its
    recipe's mini gain with the spread and seeds, its README."""
    lines = [
        '| method | COCO pair (first of its folder) | published, student -> distilled | '
        'mini recipe: gain mAP (seeds) | README |', '|---|---|---|---|---|'
    ]
    for folder, title in FOLDER_NAMES.items():
        coco = [
            e for e in entries
            if e['folder'] == folder and not (e.get('Metadata') or {}).get('Report')
        ]
        minis = mini_runs_of(entries, folder=folder)
        first = coco[0] if coco else None
        pub = ''
        if first:
            meta = first['Metadata']
            s = (meta.get('Student') or {}).get('Metrics', {}).get('box AP')
            d = (meta.get('Published') or {}).get('box AP')
            pub = f'{s} -> {d}' if d is not None else f'{s} -> not published'
        rec = runs.get(minis[0]) if minis else None
        mini = f'{gain_cell(rec)} ({seeds_of(rec)})' if rec else 'not measured'
        cfg = f'`{osp.basename(first["Config"])}`' if first else ''
        lines.append(f'| {title} | {cfg} | {pub} | {mini} | '
                     f'[configs/{folder}](configs/{folder}/README.md) |')
    return '\n'.join(lines)


# -- the metafiles' Results ---------------------------------------------------------------------


def results_block(rec: dict, cost: Optional[dict] = None) -> str:
    """A metafile ``Results`` block (OpenMMLab's: Task, Dataset, Metrics) with the run's
    figures and where, when and how they were measured; ``cost``, its config's newest
    benchmark, else the cost its results file gives."""
    ds = (rec.get('datasets') or [{}])[0]
    images = f' ({ds["images"]} val images)' if ds.get('images') else ''
    metrics = {
        'box AP': rec.get('distilled_map'),
        'student box AP': rec.get('student_map'),
        'teacher box AP': rec.get('teacher_map'),
        'gain': rec.get('gain'),
        'gain sd': rec.get('gain_sd'),
        'gain / SE': rec.get('gain_over_se'),
        'seeds': seeds_of(rec) or None,
        'distillation share of gradient': rec.get('distill_share'),
        'step cost ratio': (cost or rec.get('cost') or {}).get('ratio')
    }
    lines = [
        '  Results:', '  - Task: Object Detection',
        f'    Dataset: {ds.get("name", "the mini dataset")}{images}', '    Metrics:'
    ]
    for k, v in metrics.items():
        if v is not None:
            lines.append(f'      {k}: {round(v, 3) if isinstance(v, float) else v}')
    lines.append(f'    Measured: {json.dumps(rec["date"] + ", " + (rec.get("machine") or ""))}')
    lines.append(f'    Command: {json.dumps(rec.get("command") or "")}')
    lines.append(f'    Results file: {rec["file"]}')
    if cost and cost.get('file'):
        lines.append(f'    Step cost from: {cost["file"]}')
    return '\n'.join(lines) + '\n'


def update_metafile(text: str, runs: Dict[str, dict], costs: Optional[dict] = None) -> str:
    """The metafile with each mini entry's ``Results`` block replaced by its run's (or
    removed when the run has no record); ``costs`` as ``latest_costs`` gives them."""
    costs = costs or {}
    parts = re.split(r'(?m)^(?=- Name: )', text)
    out = []
    for part in parts:
        m = re.match(r'- Name: (\S+)\n', part)
        if not m or 'Report:' not in part:
            out.append(part)
            continue
        # the Results block is always the entry's last
        cut = part.find('\n  Results:\n')
        body = part if cut < 0 else part[:cut + 1]
        rec = runs.get(m.group(1))
        if rec is not None:
            body = body.rstrip('\n') + '\n' + results_block(rec, costs.get(m.group(1)))
        out.append(body)
    return ''.join(out)


# -- files ---------------------------------------------------------------------------------------


def documents(root: str = '.') -> List[str]:
    files = [osp.join(root, 'README.md')] + sorted(glob.glob(osp.join(root, 'docs', '*.md')))
    files += sorted(glob.glob(osp.join(root, 'configs', '*', 'README.md')))
    return files


def regenerate(root: str = '.',
               write: bool = False,
               report: Callable[[str], None] = print) -> List[str]:
    """Regenerate every marked table and every metafile ``Results`` block; the files that
    differ (written when ``write``)."""
    runs = load_runs(root)
    entries = metafile_entries(root)
    costs = latest_costs(root)
    changed, missing = [], []
    for path in documents(root):
        text = open(path).read()
        doc_dir = osp.relpath(osp.dirname(path), root)

        def fill(m):
            body = render(
                m.group(2), root, runs, entries, '' if doc_dir == '.' else doc_dir, costs)
            if body is None:  # an unknown table, or its results file is missing
                missing.append(f'{osp.relpath(path, root)}: no source for table '
                               f'{m.group(2)!r}')
                return m.group(0)
            return m.group(1) + body + '\n' + m.group(4)

        new = _TABLE.sub(fill, text)
        if new != text:
            changed.append(path)
            if write:
                with open(path, 'w') as f:
                    f.write(new)
    with open(osp.join(root, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    for metafile in metafiles:
        path = osp.join(root, metafile)
        text = open(path).read()
        new = update_metafile(text, runs, costs)
        if new != text:
            changed.append(path)
            if write:
                with open(path, 'w') as f:
                    f.write(new)
    for path in changed:
        report(('wrote ' if write else 'differs: ') + osp.relpath(path, root))
    for line in missing:
        report(line)
    return changed + missing
