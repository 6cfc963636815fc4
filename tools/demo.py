"""`make demo`: a distillation run on the embedded mini dataset, end to end.

One method of tools/analysis/distill_report.py, one seed, with its own table and chart.
Trains the teacher (reused when its checkpoint already exists), the student alone and the
distilled student with the same schedule, reads each run's COCO evaluation (the one at the end
of training, which tools/test.py reproduces exactly) and prints the comparison; the table is
saved as Markdown and as a PNG chart in the work dir.

    python tools/demo.py                        # FGD, RetinaNet R34 -> R18 (mini)
    python tools/demo.py --preset cwd-retina    # CWD, RetinaNet R34 -> R18 (mini)
    python tools/demo.py --preset cwd-gfl       # CWD, GFL R34vd -> R18 (mini)
    python tools/demo.py --preset yolov3        # YOLOv3 KD, YOLOv3 R34 -> MobileNetV1 (mini)
    python tools/demo.py --preset ld            # LD, GFL R34vd -> R18vd (mini)
    python tools/demo.py --preset ppyoloe       # PP-YOLOE+ logits + FGD, mini widths 0.375 -> 0.25
    python tools/demo.py --preset pkd           # also mgd, fbkd, fgd-fcos, pkd-faster-rcnn, ...:
                                                # every Report name in configs/*/metafile.yml
    python tools/demo.py --teacher T.py --student S.py --distill D.py [--distill D2.py]
"""
import argparse
import importlib.util
import os
import os.path as osp
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# one tool trains, resumes and reads the runs: the report's; the demo is its one-method,
# one-seed view with its own table and chart
_spec = importlib.util.spec_from_file_location(
    'distill_report', osp.join(ROOT, 'tools', 'analysis', 'distill_report.py'))
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)

METRICS = report.METRICS
PRESETS = report.PRESETS
config_name = report.config_name


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        '--preset',
        choices=sorted(PRESETS),
        default='fgd',
        help='the teacher, student and distillation configs to run (default fgd); '
        '--teacher, --student and --distill override them')
    p.add_argument('--teacher')
    p.add_argument('--student')
    p.add_argument('--distill', action='append', help='a distillation config (repeatable)')
    p.add_argument(
        '--work-dir',
        help='where the student runs go (default: where distill_report.py puts them, '
        'work_dirs/demo for fgd, work_dirs/demo_<preset> for the others, the student '
        'shared with fgd for cwd-retina); the teacher trains in '
        'tools/train.py\'s default work dir (work_dirs/<teacher config name>), '
        'where the distillation configs look for its checkpoint')
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
        gain = '' if name in ('teacher',
                              'student') else f'{100 * (m["bbox_mAP"] - student_map):+.1f}'
        vals = ' | '.join(f'{100 * m[k]:.1f}' for k in METRICS)
        lines.append(f'| {name} | `{cfg}` | {vals} | {gain} |')
    return '\n'.join(lines)


def save_chart(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = [r[0] for r in rows]
    maps = [100 * r[2]['bbox_mAP'] for r in rows]
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
    args = parse_args()
    preset = dict(PRESETS[args.preset])
    method = args.preset
    if args.teacher or args.student or args.distill:
        # your files, from the directory you run in (the built-in ones are the tools' own)
        given = dict(teacher=args.teacher, student=args.student, distill=args.distill)
        preset.update({
            k: [report.user_file(p) for p in v] if k == 'distill' else report.user_file(v)
            for k, v in given.items() if v
        })
        method = 'custom'
        PRESETS[method] = preset
    work_dir = args.work_dir or report.method_dir('work_dirs', args.preset)
    os.makedirs(work_dir, exist_ok=True)
    t0 = time.time()
    argv = ['--methods', method, '--seeds', '0', '--out-dir', work_dir, '--grid-images', '0']
    if args.work_dir or method == 'custom':
        # the report's own layout otherwise: same runs, same directories (a preset that
        # shares its student with an earlier one, CWD RetinaNet with FGD, reuses its runs)
        argv += ['--runs-dir', work_dir]
    if args.retrain_teacher:
        argv.append('--retrain-teacher')
    result = report.run_method(method, report.parse_args(argv))
    runs = result['seeds'][0]
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
