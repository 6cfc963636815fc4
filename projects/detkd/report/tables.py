"""The report's Markdown tables, from its statistics (``Report.stats()``): no training, no
file reading; what they print is what the results JSON holds."""
import statistics
from typing import List

from .stats import gain_over_se, mean_std, pct

GAIN_METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_s', 'bbox_mAP_l')


def _avg(values):
    return f'{statistics.mean(values):.1f}' if values else ''


def caption(datasets: List[dict], seeds) -> str:
    """What was evaluated and how the gains read: the val sets of the runs (name, images)."""
    where = '; '.join(f'{d["name"]} ({d["images"]} val images)' if d.get('images') else d['name']
                      for d in datasets)
    return (f'COCO box AP x100 on {where}; gain = distilled - student alone, seeds '
            f'{list(seeds)}' + (' (mean ± sample std)' if len(seeds) > 1 else ''))


def margin_lines(stats: List[dict]) -> str:
    """The teacher's margin over the student alone, one line per teacher and student (the
    methods that share them named together), and a warning for each method that imitates the
    teacher's predictions without a teacher ahead."""
    groups = {}
    for st in stats:
        m = st['margin']
        if m is None or st.get('matched'):
            continue
        key = (m['teacher'], m['student'], m['seeds'])
        g = groups.setdefault(key, dict(margin=m, methods=[], warn=[]))
        if st['method'] not in g['methods']:
            g['methods'].append(st['method'])
        if st['prediction_level'] and m['ahead'] is False and st['method'] not in g['warn']:
            g['warn'].append(st['method'])
    lines = []
    for g in groups.values():
        m = g['margin']
        sd = f' ± {m["student_sd"]:.1f}' if m['student_sd'] is not None else ''
        line = (f'- {", ".join(g["methods"])}: teacher {m["teacher"]:.1f}, student alone '
                f'{m["student"]:.1f}{sd} ({m["seeds"]} seed{"s" * (m["seeds"] > 1)}): margin '
                f'{m["margin"]:+.1f}')
        if m['threshold'] is not None:
            line += f' ({"ahead" if m["ahead"] else "not ahead"}: threshold {m["threshold"]:.1f})'
        lines.append(line)
        for method in g['warn']:
            lines.append(
                f'  WARNING: {method} imitates the teacher\'s predictions (its teacher runs its '
                f'head), but the teacher is not ahead of the student alone (margin '
                f'{m["margin"]:+.1f}' +
                (f', threshold {m["threshold"]:.1f}' if m['threshold'] is not None else '') +
                '): what it gains is not shown to be the teacher\'s knowledge. Train the '
                'teacher longer or take a larger one, or compare feature methods.')
    return '\n'.join(lines)


def gain_table(stats: List[dict]) -> str:
    head = ('| method | run | teacher mAP | student mAP | distilled mAP | ' +
            ' | '.join(f'gain {m.replace("bbox_", "")}' for m in GAIN_METRICS) +
            ' | gain / SE | distill. share of gradient | steps clipped | seeds | '
            'wall time (min) |')
    lines = [head, '|' + '---|' * (11 + len(GAIN_METRICS) - 1)]
    for st in stats:
        t_map = f'{st["teacher"]:.1f}' if st['teacher'] is not None else ''
        gains, balance = st['gains'], st['balance']
        gain_cells = ' | '.join(mean_std(gains[m]) for m in GAIN_METRICS)
        lines.append(f'| {st["method"]} | `{st["name"]}` | {t_map} | {_avg(st["student"])} | '
                     f'{_avg(st["distilled"])} | {gain_cells} | '
                     f'{gain_over_se(gains["bbox_mAP"])} | '
                     f'{pct([b["distill"] for b in balance])} | '
                     f'{pct([b["clipped"] for b in balance])} | '
                     f'{len(st["student"])} | {_avg(st["walls"])} |')
    return '\n'.join(lines)


def balance_table(stats: List[dict]) -> str:
    """Per distillation run, the hook's figures averaged over its probes and the seeds: each
    term's share of the gradient on the student, the distillation's share per parameter
    group, the cosine between the distillation gradient and the student's own, the steps
    clipped."""
    lines = [
        '| run | gradient share per term | distillation share per group | '
        'cos(distill, student) | steps clipped |', '|---|---|---|---|---|'
    ]
    for st in stats:
        runs = [b for b in st['balance'] if b['terms']]
        if not runs:
            continue
        terms = {t: [b['terms'].get(t, 0.) for b in runs] for t in runs[0]['terms']}
        groups = {g: [b['groups'].get(g) for b in runs] for g in runs[0]['groups']}
        cos = [b['cos'] for b in runs if b['cos'] is not None]
        lines.append(f'| `{st["name"]}` | ' + ', '.join(f'{t} {pct(v)}'
                                                        for t, v in terms.items()) + ' | ' +
                     ', '.join(f'{g} {pct(v)}' for g, v in groups.items()) + ' | ' +
                     (f'{statistics.mean(cos):+.2f}' if cos else '') + ' | ' +
                     f'{pct([b["clipped"] for b in runs])} |')
    return '\n'.join(lines)


def choose_table(stats: List[dict]) -> str:
    """The table to choose a method by: per distillation config, the gain over the seeds next
    to what it costs (``cost``: the benchmark's step cost ratio, the distillation step's time
    relative to the student's step plus the teacher's forward, and the peak memories), and,
    where the report trained it, the compute-matched student alone (the same seeds, trained as
    many epochs longer as a distillation step costs more than a student step: its gain is
    what the compute alone buys). ``inherits``: what the student takes from the teacher before
    training (``inherit_teacher``), which on a student trained from scratch can weigh more
    than the loss."""
    lines = [
        '| method | run | inherits | student mAP | distilled mAP | gain mAP | gain / SE | '
        'distill. share of gradient | step cost ratio | peak MB distill / student | seeds |',
        '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for st in stats:
        c = st.get('cost')
        ratio = f'{c["ratio"]:.2f}' if c else ''
        peak = f'{c["distill_peak_mb"]:.0f} / {c["student_peak_mb"]:.0f}' if c else ''
        if st.get('matched'):  # the student alone, as long as a distillation step costs
            m = st['matched']
            ratio = f'{m["epochs"]} epochs for {m["base_epochs"]} (x{m["factor"]:.2f})'
        lines.append(f'| {st["method"]} | `{st["name"]}` | {", ".join(st["inherits"]) or "-"} | '
                     f'{_avg(st["student"])} | {_avg(st["distilled"])} | '
                     f'{mean_std(st["gains"]["bbox_mAP"])} | '
                     f'{gain_over_se(st["gains"]["bbox_mAP"])} | '
                     f'{pct([b["distill"] for b in st["balance"]])} | {ratio} | {peak} | '
                     f'{len(st["student"])} |')
    return '\n'.join(lines)
