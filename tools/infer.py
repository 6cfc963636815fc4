"""Draw and save the detections of a detector on images, mmdet's DetInferencer way.

    python tools/infer.py CONFIG CHECKPOINT --inputs IMG|DIR --out-dir DIR [--score-thr 0.3]

CONFIG and CHECKPOINT are a plain detector's, or a distillation run's as they are: the
student (``model.architecture``) is extracted from the distillation config and checkpoint
(the same weights tools/model_converters/export_student.py writes). Writes the painted images
to ``DIR/vis/`` and the predictions as JSON to ``DIR/preds/``.
"""
import argparse
import os.path as osp

from detkd.utils.inference import build_inferencer


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--inputs', required=True, help='an image file or a directory of images')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--score-thr', type=float, default=0.3, help='draw boxes scoring above')
    p.add_argument('--device', default='cpu')
    p.add_argument('--batch-size', type=int, default=1)
    args = p.parse_args()
    if not osp.exists(args.inputs):
        raise SystemExit(f'--inputs {args.inputs}: no such file or directory')
    inferencer = build_inferencer(args.config, args.checkpoint, args.device)
    inferencer(
        args.inputs,
        out_dir=args.out_dir,
        pred_score_thr=args.score_thr,
        batch_size=args.batch_size,
        no_save_pred=False)
    print(f'saved to {args.out_dir}/vis and {args.out_dir}/preds')


if __name__ == '__main__':
    main()
