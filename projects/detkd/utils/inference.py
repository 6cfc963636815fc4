"""Detections of a plain or distilled detector with mmdet's ``DetInferencer``."""
import os.path as osp
import tempfile
from typing import Optional, Tuple

import torch
from mmengine.config import Config

from .config import load_config


def is_distill_config(cfg: Config) -> bool:
    return isinstance(cfg.model, dict) and 'architecture' in cfg.model


def student_state(checkpoint: dict) -> Optional[dict]:
    """The student's weights of a distillation checkpoint (``architecture.*`` without the
    prefix, meta kept), or None for a plain checkpoint."""
    state = checkpoint.get('state_dict', checkpoint)
    prefix = 'architecture.'
    student = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not student:
        return None
    return dict(state_dict=student, meta=dict(checkpoint.get('meta', {})))


def detector_and_weights(config: str,
                         checkpoint: str,
                         tmp_dir: Optional[str] = None) -> Tuple[Config, str]:
    """The detector's config and a checkpoint of it alone: for a distillation config, its
    student (``model.architecture``) and, from a distillation checkpoint, the student's
    weights written to ``tmp_dir``; a plain config and checkpoint pass through."""
    cfg = load_config(config)
    if is_distill_config(cfg):
        cfg.model = cfg.model.architecture
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    student = student_state(ckpt)
    if student is None:
        return cfg, checkpoint
    tmp_dir = tmp_dir or tempfile.mkdtemp(prefix='detkd_infer_')
    path = osp.join(tmp_dir, 'student_' + osp.basename(checkpoint))
    torch.save(student, path)
    return cfg, path


def build_inferencer(config: str,
                     checkpoint: str,
                     device: str = 'cpu',
                     tmp_dir: Optional[str] = None):
    """mmdet's ``DetInferencer`` on :func:`detector_and_weights`."""
    from mmdet.apis import DetInferencer
    cfg, weights = detector_and_weights(config, checkpoint, tmp_dir)
    return DetInferencer(model=cfg, weights=weights, device=device, show_progress=False)
