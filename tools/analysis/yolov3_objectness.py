"""Does a YOLOv3 teacher's objectness fire on the objects? The premise of objectness-masked KD.

YOLOv3 KD (``YOLOv3DistillLoss``) weighs the box and class terms by the teacher's objectness
and teaches the student "no object" wherever sigmoid(t_obj) < 0.5. So a teacher is fit for it
when its objectness is high where the detector's own loss puts the objects: at each GT box's
assigned anchor (mmdet's ``GridAssigner``, as ``YOLOV3Head.loss_by_feat`` assigns). This tool
runs a trained YOLOv3 over a split (no augmentation) and prints the fraction of those positive
anchors whose objectness exceeds the threshold, and the objectness quantiles there.

    python tools/analysis/yolov3_objectness.py configs/yolov3/yolov3_r34_mini.py \\
        work_dirs/yolov3_r34_mini/epoch_24.pth --split train
"""
import argparse
import json

import torch
from mmengine.runner import Runner

from detkd.utils import load_config


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a YOLOv3 detector config')
    p.add_argument('checkpoint')
    p.add_argument('--split', choices=['train', 'val'], default='train')
    p.add_argument('--num-images', type=int, default=None, help='the first N images only')
    p.add_argument('--thr', type=float, default=0.5, help='objectness threshold (probability)')
    p.add_argument('--json', help='also write the figures to this file')
    return p.parse_args(argv)


@torch.no_grad()
def assigned_objectness(model, inputs, data_samples) -> torch.Tensor:
    """sigmoid(objectness) at every positive anchor of mmdet's YOLOv3 assignment."""
    head = model.bbox_head
    pred_maps = head(model.extract_feat(inputs))[0]
    gts = [s.gt_instances for s in data_samples]
    sizes = [m.shape[-2:] for m in pred_maps]
    anchors = head.prior_generator.grid_priors(sizes, device=inputs.device)
    flags = [head.responsible_flags(sizes, gt.bboxes, inputs.device) for gt in gts]
    targets, _ = head.get_targets([anchors] * len(gts), flags, gts)
    probs = []
    for pred, target in zip(pred_maps, targets):
        pred = pred.permute(0, 2, 3, 1).reshape(pred.size(0), -1, head.num_attrib)
        probs.append(pred[..., 4][target[..., 4] > 0].sigmoid())
    return torch.cat(probs)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmdet.apis import init_detector
    from mmdet.structures.bbox import get_box_tensor
    cfg = load_config(args.config)
    if cfg.model.get('type') != 'YOLOV3':
        raise SystemExit(f'{args.config} is not a YOLOv3 detector config (model.type is '
                         f'{cfg.model.get("type")!r})')
    model = init_detector(cfg, args.checkpoint, device='cpu')
    dataset = cfg.val_dataloader.dataset.copy()
    if args.split == 'train':
        train = cfg.train_dataloader.dataset
        dataset.update(ann_file=train.ann_file, data_prefix=train.data_prefix)
    if args.num_images:
        dataset.indices = args.num_images
    loader = Runner.build_dataloader(
        dict(
            dataset=dataset,
            batch_size=4,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate')))
    probs = []
    for data in loader:
        data = model.data_preprocessor(data, False)
        for sample in data['data_samples']:
            # the test pipeline loads the boxes after resizing, in the original image's frame
            w, h = sample.metainfo['scale_factor']
            boxes = get_box_tensor(sample.gt_instances.bboxes)
            sample.gt_instances.bboxes = boxes * boxes.new_tensor([w, h, w, h])
        probs.append(assigned_objectness(model, data['inputs'], data['data_samples']))
    probs = torch.cat(probs)
    if not len(probs):
        raise SystemExit('no GT box in the images read')
    q = torch.quantile(probs, torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9]))
    result = dict(
        split=args.split,
        positives=len(probs),
        fired=float((probs > args.thr).float().mean()),
        thr=args.thr,
        quantiles={
            p: float(v)
            for p, v in zip(('10%', '25%', '50%', '75%', '90%'), q)
        })
    print(f'{args.checkpoint} on {args.split}: objectness > {args.thr} at '
          f'{100 * result["fired"]:.1f}% of the {result["positives"]} assigned anchors '
          f'(GT boxes); quantiles ' + ', '.join(f'{k} {v:.2f}'
                                                for k, v in result['quantiles'].items()))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
