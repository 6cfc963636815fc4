"""The report's charts: the gains, the student's loss curves, detection grids."""
import glob
import json
import os.path as osp
import statistics
from typing import List

from .runs import last_checkpoint


def _plt():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def gain_chart(stats: List[dict], path: str, title: str) -> None:
    names, means, errs = [], [], []
    for st in stats:
        g = st['gains']['bbox_mAP']
        if g:
            names.append(st['name'].replace('_mini', ''))
            means.append(statistics.mean(g))
            errs.append(statistics.stdev(g) if len(g) > 1 else 0.)
    if not names:
        return
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 3.8))
    bars = ax.bar(names, means, yerr=errs, capsize=4, color='#2ca02c')
    ax.bar_label(bars, fmt='%+.1f')
    ax.axhline(0, color='k', lw=0.8)
    ax.set_ylabel('mAP gain over the student (x100)')
    ax.set_title(title)
    plt.setp(ax.get_xticklabels(), rotation=30, ha='right')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def loss_curve(work_dir: str, scale: float = 1.0):
    """(iteration, the student's own detection loss) from a run's scalars.json: ``loss`` of a
    plain run, the sum of the ``student.*loss*`` terms of a distillation run (divided by the
    distiller's ``loss_scale``)."""
    its, vals = [], []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
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


def loss_chart(method: str, seed: int, curves: dict, path: str) -> None:
    """``curves``: run name -> (work dir, the distiller's loss_scale)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, (work_dir, scale) in curves.items():
        its, vals = loss_curve(work_dir, scale)
        if its:
            ax.plot(its, vals, label=name.replace('_mini', ''), lw=1)
    ax.set_xlabel('iteration')
    ax.set_ylabel("the student's detection loss")
    ax.set_title(f'{method}: student alone vs distilled (seed {seed})')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def detection_grid(method: str, columns: list, val_dataset: dict, path: str, num_images: int,
                   score_thr: float) -> None:
    """The first ``num_images`` val images (rows) with each column's detections; ``columns``:
    (title, config file, work dir or checkpoint)."""
    from detkd.utils.inference import build_inferencer
    img_dir = osp.join(val_dataset['data_root'], val_dataset['data_prefix']['img'])
    images = sorted(glob.glob(osp.join(img_dir, '*.jpg')))[:num_images]
    panels = []
    for title, config, ckpt in columns:
        if ckpt and osp.isdir(ckpt):
            ckpt = last_checkpoint(ckpt)
        if not ckpt:
            return
        inferencer = build_inferencer(config, ckpt)
        out = inferencer(images, return_vis=True, no_save_vis=True, pred_score_thr=score_thr)
        panels.append((title, out['visualization']))
    plt = _plt()
    fig, axes = plt.subplots(
        len(images), len(panels), figsize=(3.2 * len(panels), 2.6 * len(images)), squeeze=False)
    for c, (title, vis) in enumerate(panels):
        for r, im in enumerate(vis):
            axes[r][c].imshow(im)
            axes[r][c].axis('off')
            if r == 0:
                axes[r][c].set_title(title, fontsize=9)
    fig.suptitle(f'{method}: detections above {score_thr} on val images')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
