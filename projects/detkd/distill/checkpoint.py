"""The teacher's checkpoint: present unless a random teacher is asked for, loaded strictly, and
refused with a message that says why and how to fix it (a distillation checkpoint, another
architecture, mmyolo's layout, a download that cannot happen offline)."""
import glob
import os.path as osp
import re
from typing import Optional, Union
from urllib.error import URLError

import torch
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint

from ..utils.config import package_configs


def check_teacher_ckpt(teacher_ckpt: Optional[str], allow_random_teacher: bool,
                       teacher: Union[str, dict]) -> None:
    """A missing checkpoint is an error unless a random teacher is asked for explicitly."""
    if teacher_ckpt is None:
        if not allow_random_teacher:
            raise ValueError(
                'teacher_ckpt is None: the teacher would stay randomly initialised and '
                "distillation would teach noise. Set model.teacher_ckpt to the teacher's "
                'trained checkpoint (e.g. --cfg-options model.teacher_ckpt=PATH), or set '
                'model.allow_random_teacher=True if a random teacher is really intended.')
        return
    if '://' not in teacher_ckpt and not osp.isfile(teacher_ckpt):
        how = f'tools/train.py {teacher_config(teacher, teacher_ckpt)}'
        if teacher_ckpt.endswith('_paddle.pth'):
            raise FileNotFoundError(
                f'teacher checkpoint {teacher_ckpt!r} does not exist. It is PaddleDetection\'s '
                'trained teacher, converted: download its .pdparams and run python '
                f'tools/model_converters/paddle_to_mmdet.py ARCH SRC.pdparams {teacher_ckpt} '
                "(docs/paddle.md's table of the seed's models gives the file, the URL and ARCH; "
                'the pair config\'s header the commands). Or train the teacher (python '
                f'{how}) and set model.teacher_ckpt to its checkpoint.')
        raise FileNotFoundError(
            f'teacher checkpoint {teacher_ckpt!r} does not exist. Train the teacher first '
            f'(python {how}; bash tools/dist_train.sh with the same config for several '
            'GPUs) or download its checkpoint, and set model.teacher_ckpt to the file.')


def teacher_config(teacher: Union[str, dict], teacher_ckpt: str) -> str:
    """The teacher's config file, for the command that trains it: the file itself when the
    teacher is given as one; when ``tools/train.py`` has expanded it into a model dict, the
    config named after the checkpoint's work dir (``work_dirs/<config name>/epoch_N.pth``,
    where ``tools/train.py`` puts it) if detkd's configs have exactly one such file: as
    ``configs/...`` when the command runs from a checkout that has it, else ``detkd::...``."""
    if isinstance(teacher, str):  # tools/train.py takes package references too
        return teacher if '::' in teacher else osp.relpath(teacher)
    match = re.search(r'(?:^|/)work_dirs/([^/]+)/[^/]+\.pth$', teacher_ckpt)
    if match:
        root = package_configs('detkd')
        found = glob.glob(osp.join(root, '**', f'{match.group(1)}.py'), recursive=True)
        if len(found) == 1:
            rel = osp.relpath(found[0], root)
            return osp.join('configs', rel) if osp.isfile(osp.join('configs', rel)) else \
                f'detkd::{rel}'
    return '<the teacher config>'


def _load_url(url: str):
    """A checkpoint URL as MMEngine loads it (from torch.hub's cache, or downloaded there), or
    an error that says which file to fetch and where to put it on a machine without
    network."""
    try:
        return _load_checkpoint(url, map_location='cpu')
    except (URLError, OSError, ConnectionError) as err:
        from torch.hub import get_dir
        name = osp.basename(url.split('?')[0])
        cache = osp.join(get_dir(), 'checkpoints', name)
        raise RuntimeError(
            f'the teacher checkpoint {url} could not be downloaded ({err}). On a machine '
            f'without network, download it elsewhere (wget {url}) and either set '
            f'model.teacher_ckpt to the file (--cfg-options model.teacher_ckpt=checkpoints/'
            f'{name}) or put it where MMEngine looks for downloaded checkpoints: '
            f'{cache}') from err


def _by_module(keys, limit=16) -> str:
    """``module (n tensors), ...``: short, and it shows where two models differ."""
    counts = {}
    for k in keys:
        module = k.rsplit('.', 1)[0]
        counts[module] = counts.get(module, 0) + 1
    return _show([f'{m} ({n})' for m, n in counts.items()], limit) + f' [{len(keys)} tensors]'


def _show(items, limit=8) -> str:
    return ', '.join(items[:limit]) + (f' ... ({len(items)} in all)' if len(items) > limit else '')


def load_teacher_strictly(teacher: torch.nn.Module, path: str) -> None:
    """Load ``path`` into ``teacher``, every tensor present and of the right shape, or raise
    with the missing / unexpected tensors by module and the shape mismatches."""
    if '://' in path:
        ckpt = _load_url(path) if path.startswith(('http://', 'https://')) else \
            _load_checkpoint(path, map_location='cpu')
    else:
        ckpt = _load_checkpoint(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    # checkpoints saved from a DDP wrapper
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    if any(k.startswith('architecture.') for k in state):
        raise RuntimeError(
            f'teacher checkpoint {path!r} is a distillation checkpoint (its keys start with '
            '"architecture."); export the student from it first with '
            "tools/model_converters/export_student.py, or give the teacher's own checkpoint.")
    own = teacher.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(
        k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or mismatched:
        lines = [
            f'teacher checkpoint {path!r} does not match the teacher model '
            f'({type(teacher).__name__}); was it trained with the teacher config of '
            'this run?'
        ]
        if missing:
            lines.append(f'  missing (module, tensors): {_by_module(missing)}')
        if unexpected:
            lines.append(f'  unexpected (module, tensors): {_by_module(unexpected)}')
        if mismatched:
            lines.append('  shape mismatches: ' + _show([
                f'{k} {tuple(state[k].shape)} vs model {tuple(own[k].shape)}' for k in mismatched
            ]))
        if any(k.startswith('bbox_head.head_module.') for k in unexpected):
            lines.append(
                '  its head is stored as bbox_head.head_module.*: an mmyolo checkpoint. The '
                "teacher here is mmdet's own detector: use mmdet's model-zoo checkpoint of it "
                "(e.g. mmdet's configs/rtmdet/metafile.yml), whose keys are mmdet's")
        raise RuntimeError('\n'.join(lines))
    teacher.load_state_dict(state, strict=True)
    # keep the loaded weights through the runner's init_weights()
    teacher._is_init = True
    MMLogger.get_current_instance().info(
        f'teacher: loaded {len(state)} tensors strictly from {path}')
