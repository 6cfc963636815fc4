"""`make demo`: a distillation run on the embedded mini dataset, end to end.

Trains the teacher (reused when its checkpoint already exists), the student alone and the
distilled student with the same schedule, reads each run's COCO evaluation (the one at the end
of training, which tools/test.py reproduces exactly) and prints the comparison; the table is
saved as Markdown and as a PNG chart in the work dir.

    python tools/demo.py                        # FGD, RetinaNet R34 -> R18 (mini)
    python tools/demo.py --preset cwd-retina    # CWD, RetinaNet R34 -> R18 (mini)
    python tools/demo.py --preset cwd-gfl       # CWD, GFL R34vd -> R18 (mini)
    python tools/demo.py --preset yolov3        # YOLOv3 KD, YOLOv3 R34 -> MobileNetV1 (mini)
    python tools/demo.py --preset ld            # LD, GFL R34vd -> R18vd (mini)
    python tools/demo.py --preset ppyoloe       # PP-YOLOE+ logits + FGD, width 0.375 -> 0.25 (mini)
    python tools/demo.py --teacher T.py --student S.py --distill D.py [--distill D2.py]
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time

from mmengine.runner import find_latest_checkpoint

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'projects'))
from detkd.utils import read_logged_metrics  # noqa: E402

METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')
_RETINA = dict(
    teacher='configs/retinanet/retinanet_r34_mini.py',
    student='configs/retinanet/retinanet_r18_mini.py')
PRESETS = {
    'fgd':
    dict(_RETINA, distill=['configs/mini/fgd_retina_r34_r18_mini.py']),
    'cwd-retina':
    dict(_RETINA, distill=['configs/mini/cwd_retina_r34_r18_mini.py']),
    'cwd-gfl':
    dict(
        teacher='configs/gfl/gfl_r34vd_mini.py',
        student='configs/gfl/gfl_r18_mini.py',
        distill=['configs/mini/cwd_gfl_r34vd_r18_mini.py']),
    'yolov3':
    dict(
        teacher='configs/yolov3/yolov3_r34_mini.py',
        student='configs/yolov3/yolov3_mv1_mini.py',
        distill=['configs/mini/yolov3_r34_mv1_distill_mini.py']),
    'ld':
    dict(
        teacher='configs/gfl/gfl_r34vd_mini.py',
        student='configs/gfl/gfl_r18vd_mini.py',
        distill=['configs/mini/ld_gfl_r34vd_r18vd_mini.py']),
    'ppyoloe':
    dict(
        teacher='configs/ppyoloe/ppyoloe_plus_mini_teacher.py',
        student='configs/ppyoloe/ppyoloe_plus_mini.py',
        distill=[
            'configs/mini/ppyoloe_plus_kd_mini.py', 'configs/mini/ppyoloe_plus_kd_logits_mini.py',
            'configs/mini/ppyoloe_plus_kd_feat_mini.py'
        ]),
}


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
        help='where the student runs go (default work_dirs/demo, or '
        'work_dirs/demo_<preset> for the other presets); the teacher trains in '
        'tools/train.py\'s default work dir (work_dirs/<teacher config name>), '
        'where the distillation configs look for its checkpoint')
    p.add_argument(
        '--retrain-teacher',
        action='store_true',
        help='train the teacher even if its checkpoint exists')
    return p.parse_args()


def config_name(config):
    return osp.splitext(osp.basename(config))[0]


def last_checkpoint(work_dir):
    """MMEngine's latest checkpoint of ``work_dir``, if the file is still there."""
    ckpt = find_latest_checkpoint(work_dir)
    return ckpt if ckpt and osp.exists(ckpt) else None


def train(config, work_dir, extra=()):
    """Train with tools/train.py; return the final checkpoint and the final evaluation."""
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir, *extra]
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    ckpt, metrics = last_checkpoint(work_dir), read_logged_metrics(work_dir)
    if ckpt is None or not metrics:
        raise RuntimeError(f'training {config} left no checkpoint or evaluation in {work_dir}')
    return ckpt, metrics


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
    preset = PRESETS[args.preset]
    args.teacher = args.teacher or preset['teacher']
    args.student = args.student or preset['student']
    distill = args.distill or preset['distill']
    args.work_dir = args.work_dir or ('work_dirs/demo'
                                      if args.preset == 'fgd' else f'work_dirs/demo_{args.preset}')
    os.makedirs(args.work_dir, exist_ok=True)
    t0 = time.time()

    t_dir = osp.join('work_dirs', config_name(args.teacher))
    t_ckpt = None if args.retrain_teacher else last_checkpoint(t_dir)
    if t_ckpt is not None and read_logged_metrics(t_dir):
        print(f'reusing the trained teacher {t_ckpt}')
        t_metrics = read_logged_metrics(t_dir)
    else:
        t_ckpt, t_metrics = train(args.teacher, t_dir)
    rows = [('teacher', args.teacher, t_metrics)]

    s_dir = osp.join(args.work_dir, config_name(args.student))
    rows.append(('student', args.student, train(args.student, s_dir)[1]))

    for cfg in distill:
        d_dir = osp.join(args.work_dir, config_name(cfg))
        _, metrics = train(cfg, d_dir, ['--cfg-options', f'model.teacher_ckpt={t_ckpt}'])
        rows.append((config_name(cfg), cfg, metrics))

    table = markdown_table(rows)
    md, png = osp.join(args.work_dir, 'results.md'), osp.join(args.work_dir, 'results.png')
    with open(md, 'w') as f:
        f.write(table + '\n')
    save_chart(rows, png)
    print('\nCOCO box AP on the mini val set (150 images)\n\n' + table)
    print(f'\nsaved {md} and {png}; total {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()
