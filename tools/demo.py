"""`make demo`: a distillation run on the embedded mini dataset, end to end.

One method of the report (``detkd.report``), one seed, with its own table and chart: trains
the teacher (reused when its checkpoint already exists), the student alone and the distilled
student with the same schedule, reads each run's COCO evaluation and prints the comparison;
the table is saved as Markdown and as a PNG chart in the work dir.

    python tools/demo.py                        # FGD, RetinaNet R34 -> R18 (mini)
    python tools/demo.py --preset crosskd-gfl   # any Report name in configs/*/metafile.yml
    python tools/demo.py --teacher T.py --student S.py --distill D.py [--distill D2.py]
"""
import argparse
import os
import os.path as osp
import time

from detkd.report import Report, config_name, load_presets, parse_args
from detkd.report.presets import user_file
from detkd.report.runs import method_dir

METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')


def demo_args(presets):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        '--preset',
        choices=sorted(presets),
        default='fgd',
        help='the teacher, student and distillation configs to run (default fgd); '
        '--teacher, --student and --distill override them')
    p.add_argument('--teacher')
    p.add_argument('--student')
    p.add_argument('--distill', action='append', help='a distillation config (repeatable)')
    p.add_argument(
        '--work-dir',
        help='where the student runs go (default: where the report '
        'puts them, work_dirs/demo_<preset>; the teacher in work_dirs/<teacher '
        'config name>, where the distillation configs look for its checkpoint)')
    p.add_argument(
        '--retrain-teacher',
        action='store_true',
        help='train the teacher even if its checkpoint exists')
    return p.parse_args()


def markdown_table(rows):
    student_map = rows[1][2]['bbox_mAP']
    head = '| model | config | ' + ' | '.join(m.replace('bbox_', '') for m in METRICS)
    lines = [head + ' | gain (mAP) |', '|' + '---|' * (len(METRICS) + 3)]
    for name, cfg, m in rows:
        gain = '' if name in ('teacher', 'student') else \
            f'{100 * (m["bbox_mAP"] - student_map):+.1f}'
        vals = ' | '.join(f'{100 * m[k]:.1f}' for k in METRICS)
        lines.append(f'| {name} | `{cfg}` | {vals} | {gain} |')
    return '\n'.join(lines)


def save_chart(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names, maps = [r[0] for r in rows], [100 * r[2]['bbox_mAP'] for r in rows]
    fig, ax = plt.subplots(figsize=(1.8 * len(rows) + 2, 3.4))
    bars = ax.bar(names, maps, color=['#7f7f7f', '#1f77b4'] + ['#2ca02c'] * (len(rows) - 2))
    ax.bar_label(bars, fmt='%.1f')
    ax.set_ylabel('COCO box mAP (mini val)')
    ax.set_ylim(0, max(maps) * 1.2 + 1)
    ax.set_title('Distillation on the mini dataset')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    presets = load_presets()
    args = demo_args(presets)
    method = args.preset
    if args.teacher or args.student or args.distill:
        # your files, from the directory you run in (the built-in ones are the tools' own)
        preset = dict(presets[method])
        given = dict(teacher=args.teacher, student=args.student, distill=args.distill)
        preset.update({
            k: [user_file(p) for p in v] if k == 'distill' else user_file(v)
            for k, v in given.items() if v
        })
        method = 'custom'
        presets[method] = preset
    work_dir = args.work_dir or method_dir('work_dirs', args.preset)
    os.makedirs(work_dir, exist_ok=True)
    t0 = time.time()
    argv = ['--methods', method, '--seeds', '0', '--out-dir', work_dir, '--grid-images', '0']
    if args.work_dir or method == 'custom':
        argv += ['--runs-dir', work_dir]
    if args.retrain_teacher:
        argv.append('--retrain-teacher')
    (result, ) = Report(parse_args(argv, presets), presets).run()
    runs = result['seeds'][0]
    preset = presets[method]
    rows = [('teacher', preset['teacher'], result['teacher']),
            ('student', preset['student'], runs['student'][1])]
    rows += [(config_name(c), c, runs[config_name(c)][1]) for c in preset['distill']]
    table = markdown_table(rows)
    md, png = osp.join(work_dir, 'results.md'), osp.join(work_dir, 'results.png')
    with open(md, 'w') as f:
        f.write(table + '\n')
    save_chart(rows, png)
    print('\nCOCO box AP on the mini val set (150 images)\n\n' + table)
    print(f'\nsaved {md} and {png}; total {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()
