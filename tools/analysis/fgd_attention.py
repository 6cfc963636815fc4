"""Draw what FGD attends to, for one image: per FPN level, the foreground mask, the
background mask and the teacher's spatial attention, as the FGD losses of a config see them.

    python tools/analysis/fgd_attention.py configs/fgd/fgd_retina_r34_r18_mini.py \
        --index 3 --out work_dirs/fgd_attention.png [--cfg-options model.teacher_ckpt=...]
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from detkd.distill.losses import FGDLoss
from detkd.utils import load_config


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='an FGD distillation config')
    p.add_argument('--index', type=int, default=0, help='image index in the dataset')
    p.add_argument('--split', choices=['train', 'val'], default='val')
    p.add_argument('--out', default='work_dirs/fgd_attention.png')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def fgd_losses(algo):
    """The FGD losses of the distiller, in the order of the FPN levels they are fed."""
    mappings = algo.distiller.loss_forward_mappings
    found = [(mappings[name]['preds_T'].get('data_idx', 0), name, loss)
             for name, loss in algo.distiller.distill_losses.items() if isinstance(loss, FGDLoss)]
    if not found:
        raise SystemExit('this config has no FGDLoss in model.distiller.distill_losses')
    return sorted(found, key=lambda x: x[0])


@torch.no_grad()
def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS
    from mmrazor.registry import MODELS

    loader = cfg.val_dataloader if args.split == 'val' else cfg.train_dataloader
    dataset_cfg = loader.dataset
    # The test pipeline (no random flip or resize), with the annotations loaded before the
    # resize so that the GT boxes are resized with the image, as in training (mmdet's test
    # pipelines load them after it: their boxes stay in original-image pixels).
    pipeline = [t for t in cfg.val_dataloader.dataset.pipeline if t['type'] != 'LoadAnnotations']
    pipeline.insert(1, dict(type='LoadAnnotations', with_bbox=True))
    dataset_cfg.pipeline = pipeline
    dataset = DATASETS.build(dataset_cfg)
    sample = dataset[args.index]

    algo = MODELS.build(cfg.model)
    algo.eval()
    data = algo.data_preprocessor(
        dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]), False)
    inputs, data_samples = data['inputs'], data['data_samples']
    feats = algo.teacher.extract_feat(inputs)

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    pre = algo.data_preprocessor
    img = (inputs[0] * pre.std + pre.mean).permute(1, 2, 0).clamp(0, 255).byte().numpy()
    boxes = data_samples[0].gt_instances.bboxes
    levels = fgd_losses(algo)
    fig, axes = plt.subplots(len(levels), 4, figsize=(12, 3 * len(levels)), squeeze=False)
    for row, (lvl, name, loss) in zip(axes, levels):
        feat = feats[lvl]
        _, _, H, W = feat.shape
        fg, bg = loss.build_masks(data_samples, H, W, feat.device, feat.dtype)
        s_att, _ = loss.get_attention(feat, loss.temp)
        row[0].imshow(img)
        for x1, y1, x2, y2 in boxes.tolist():
            row[0].add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color='lime'))
        extent = (0, inputs.shape[-1], inputs.shape[-2], 0)
        for ax, m, title in ((row[1], fg[0], 'foreground mask (1/area)'),
                             (row[2], bg[0], 'background mask (sums to 1)'),
                             (row[3], s_att[0], f'teacher spatial attention (T={loss.temp})')):
            im = ax.imshow(m.numpy(), cmap='viridis', interpolation='nearest', extent=extent)
            fig.colorbar(im, ax=ax, fraction=0.046)
            ax.set_title(title, fontsize=9)
        row[0].set_title(f'{name}: level {lvl}, {H}x{W}', fontsize=9)
        for ax in row:
            ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f'saved {args.out} ({len(levels)} levels, {len(boxes)} GT boxes)')


if __name__ == '__main__':
    main()
