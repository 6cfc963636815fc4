"""What ``DetDistill`` checks before the first iteration, so that a wrong config fails in
seconds with a message that says what to change, not after hours of training:

- ``check_recorder_sources``: every module recorder names a module the model has;
- ``load_teacher_strictly``: the teacher checkpoint exists, is not a distillation checkpoint,
  and matches the teacher exactly (missing, unexpected and mis-shaped tensors, by module);
- ``check_class_agreement``: a method that compares class predictions (a loss with
  ``compares_classes = True``, or the teacher's assignment) needs a teacher that predicts the
  student's classes;
- ``guard_nonfinite`` (every step): a non-finite distillation loss stops the run or is skipped;
- ``check_loss_inputs``: a dry run of both models feeds every loss mapping and asks each loss
  whether its inputs fit (the loss's own ``check_inputs`` method, see below).

The loss protocol: a distillation loss that wants its inputs checked at build time defines
``check_inputs(self, **inputs)`` with the argument names of its ``forward``, and raises
``ValueError`` with a message naming the setting to change. The dry run calls it with the
records a mapping gets before training (the student's inputs to its ``loss()``, e.g. the GT,
are recorded only in training and are left out). A loss without the method gets the generic
check: ``preds_S`` and ``preds_T`` of the same shape.
"""
import difflib
import glob
import inspect
import os.path as osp
import re
from typing import Optional, Union
from urllib.error import URLError

import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import _load_checkpoint

from ..utils.config import package_configs

_MODULE_RECORDERS = ('ModuleOutputs', 'ModuleInputs', 'ModuleOutputsRecorder',
                     'ModuleInputsRecorder', 'CrossHead', 'CrossHeadRecorder')


def check_recorder_sources(recorders: Optional[dict], model, role: str) -> None:
    """Fail with the valid names when a module recorder names a module the model does not
    have (MMRazor only asserts, later and without the names)."""
    names = [n for n, _ in model.named_modules() if n]
    for rec_name, rec in (recorders or {}).items():
        if rec.get('type') not in _MODULE_RECORDERS or rec['source'] in names:
            continue
        close = difflib.get_close_matches(rec['source'], names, n=5, cutoff=0.5)
        top = sorted({n.split('.')[0] for n in names})
        raise KeyError(
            f'{role} recorder {rec_name!r}: the {role} ({type(model).__name__}) has no module '
            f'{rec["source"]!r}. ' + (f'Closest names: {", ".join(close)}. ' if close else '') +
            f'Top-level modules: {", ".join(top)}; list them all with '
            'dict(model.named_modules()).keys().')


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


def num_classes(model) -> Optional[int]:
    """The classes a detector's head predicts (``bbox_head`` or ``roi_head.bbox_head``)."""
    for head in (getattr(model, 'bbox_head',
                         None), getattr(getattr(model, 'roi_head', None), 'bbox_head', None)):
        if head is not None and isinstance(getattr(head, 'num_classes', None), int):
            return head.num_classes
    return None


def check_class_agreement(student, teacher, distiller, head_step: Optional[str] = None) -> None:
    """Refuse a pair whose heads predict a different number of classes when a loss compares
    class predictions (``compares_classes = True``) or a teacher head step hands the student
    the teacher's labels (``teacher_head_step``, PP-YOLOE+'s assignment). Feature-level
    methods do not need it."""
    k_s, k_t = num_classes(student), num_classes(teacher)
    if k_s is None or k_t is None or k_s == k_t:
        return
    users = [
        name for name, loss in distiller.distill_losses.items()
        if getattr(loss, 'compares_classes', False)
    ]
    if head_step:
        users.append(f"the teacher's head step handed to the student (teacher_head_step="
                     f"{head_step!r})")
    if users:
        raise ValueError(
            f'{", ".join(users)} compare the teacher\'s class predictions with the student\'s, '
            f'but the teacher predicts {k_t} classes and the student {k_s}. Distil from a '
            "teacher trained on the student's classes, in the same order (its config's "
            "bbox_head.num_classes and dataset), or use a feature-level method (FGD, CWD on "
            'the neck), which does not need the same classes.')


def guard_nonfinite(losses: dict, on_nonfinite: str) -> dict:
    """A NaN or infinite distillation loss (``distill.*``) stops training with its name and
    the iteration (``on_nonfinite='raise'``), or, with ``'skip'``, is logged and the step's
    distillation losses are dropped (the student's own still train it)."""
    bad = {
        k: v
        for k, v in losses.items() if k.startswith('distill.') and not torch.isfinite(v).all()
    }
    if not bad:
        return losses
    it = MessageHub.get_current_instance().get_info('iter')
    what = ', '.join(f'{k}={v.detach().float().mean().item()}' for k, v in bad.items())
    if on_nonfinite == 'raise':
        raise FloatingPointError(
            f'non-finite distillation loss at iteration {it}: {what}. Check the teacher '
            "checkpoint and the loss weights, or set model.on_nonfinite='skip' to skip such "
            'steps.')
    MMLogger.get_current_instance().warning(
        f'skipping the distillation losses of iteration {it}: {what}')
    return {k: v for k, v in losses.items() if not k.startswith('distill.')}


def under_prefixes(name: str, prefixes) -> bool:
    """``name`` is a tensor of one of the modules ``prefixes`` (``neck`` holds
    ``neck.lateral_convs.0.conv.weight``, not ``neck2.x``)."""
    return any(name == p or name.startswith(p + '.') for p in prefixes)


def check_inheritance(teacher, student, prefixes) -> None:
    """Refuse an ``inherit_teacher`` prefix under which the teacher's and the student's
    tensors are not the same names and shapes: copying the matching part would leave the
    student's module a mix of teacher and random weights."""
    t_state, s_state = teacher.state_dict(), student.state_dict()
    lines = []
    for prefix in prefixes:
        t = {k: v for k, v in t_state.items() if under_prefixes(k, [prefix])}
        s = {k: v for k, v in s_state.items() if under_prefixes(k, [prefix])}
        if not t:
            top = sorted({k.split('.')[0] for k in t_state})
            raise ValueError(f'inherit_teacher: the teacher ({type(teacher).__name__}) has no '
                             f'module {prefix!r}; its top-level modules are {", ".join(top)}')
        only_t, only_s = sorted(t.keys() - s.keys()), sorted(s.keys() - t.keys())
        shapes = sorted(k for k in t.keys() & s.keys() if t[k].shape != s[k].shape)
        if not (only_t or only_s or shapes):
            continue
        lines.append(f'  {prefix}: {len(t.keys() & s.keys()) - len(shapes)} of the teacher\'s '
                     f'{len(t)} tensors match the student\'s {len(s)}')
        if only_t:
            lines.append(f'    only in the teacher: {_by_module(only_t)}')
        if only_s:
            lines.append(f'    only in the student: {_by_module(only_s)}')
        if shapes:
            lines.append(
                '    other shapes: ' +
                _show([f'{k} {tuple(t[k].shape)} vs student {tuple(s[k].shape)}' for k in shapes]))
    if lines:
        raise ValueError(
            f'inherit_teacher={tuple(prefixes)}: the teacher ({type(teacher).__name__}) and '
            f'the student ({type(student).__name__}) differ under these modules, so '
            'inheriting would copy them in part and leave the student a mix of teacher and '
            'random weights:\n' + '\n'.join(lines) + '\nInherit only modules of the same '
            "architecture (e.g. inherit_teacher=('neck',) when the necks match), or set "
            'model.inherit_teacher=() for a pair of different detectors.')


def _where(spec: dict) -> str:
    """``fpn[2]``, ``cls[record 3]``, ``fpn[0] via connector 's0'``."""
    where = spec['recorder']
    if spec.get('record_idx'):
        where += f'[record {spec["record_idx"]}]'
    if spec.get('data_idx') is not None:
        where += f'[{spec["data_idx"]}]'
    if spec.get('connector'):
        where += f' via connector {spec["connector"]!r}'
    return where


def _dry_record(distiller, teacher_runs: str, name: str, arg: str, spec: dict):
    """What a mapping argument gets after the dry run; None for a student record that only
    training fills (the inputs of the student's ``loss()``)."""
    from_student = spec['from_student']
    who = 'student' if from_student else 'teacher'
    managers = distiller.student_recorders if from_student else distiller.teacher_recorders
    recorder = managers.get_recorder(spec['recorder'])
    buffer = recorder.data_buffer
    record_idx = spec.get('record_idx', 0)
    if record_idx >= len(buffer):
        if from_student:
            return None
        raise ValueError(
            f'{name}.{arg}: the teacher recorder {spec["recorder"]!r} ({recorder.source}) '
            f'holds {len(buffer)} record(s), record_idx {record_idx} was asked. The teacher '
            f'runs {teacher_runs}, so this module never runs or runs fewer times.')
    data_idx = spec.get('data_idx')
    record = buffer[record_idx]
    if data_idx is not None and (not isinstance(record, (list, tuple)) or data_idx >= len(record)):
        size = len(record) if isinstance(record, (list, tuple)) else 'a single tensor'
        raise ValueError(
            f'{name}.{arg}: data_idx {data_idx} is out of range for the {who} recorder '
            f'{spec["recorder"]!r} ({recorder.source}), whose record holds {size}')
    return distiller.get_record(**spec)


def _check_same_shape(name: str, mapping: dict, got: dict, size: int, classes=None) -> None:
    s, t = got.get('preds_S'), got.get('preds_T')
    if isinstance(s, torch.Tensor) and isinstance(t, torch.Tensor) and s.shape != t.shape:
        hint = ''
        if s.dim() == 4 and classes and (s.size(1), t.size(1)) == classes:
            raise ValueError(
                f'{name}: preds_S ({_where(mapping["preds_S"])}) and preds_T '
                f'({_where(mapping["preds_T"])}) are class predictions of {s.size(1)} and '
                f'{t.size(1)} classes (the heads\' num_classes): a teacher trained on other '
                "classes cannot teach these. Distil from a teacher trained on the student's "
                'classes, in the same order, or distil features (the neck) instead.')
        if s.dim() == 4 and s.shape[2:] == t.shape[2:]:
            hint = (" Map the student to the teacher's channels with a connector, e.g. "
                    "connectors=dict(s_align=dict(type='AlignNormConnector', "
                    f'in_channel={s.size(1)}, out_channel={t.size(1)}, '
                    "normalize=False)) and connector='s_align' in preds_S.")
        raise ValueError(
            f'{name}: preds_S ({_where(mapping["preds_S"])}) has shape {tuple(s.shape)} but '
            f'preds_T ({_where(mapping["preds_T"])}) has {tuple(t.shape)} (dry run on a '
            f'{size}x{size} input).' + hint)


def blank_samples(inputs: torch.Tensor) -> list:
    """Data samples without GT for a batch of ``inputs`` (the image and pad shapes of the
    batch), for the detectors whose ``_forward`` needs them (two-stage: their RoI head runs on
    the RPN's proposals)."""
    from mmdet.structures import DetDataSample
    shape = tuple(inputs.shape[-2:])
    meta = dict(
        img_shape=shape,
        pad_shape=shape,
        ori_shape=shape,
        batch_input_shape=shape,
        scale_factor=(1., 1.))
    return [DetDataSample(metainfo=meta) for _ in range(inputs.size(0))]


def raw_forward(detector, inputs: torch.Tensor, data_samples=None):
    """The detector's ``_forward``, its raw head outputs (no loss, no post-processing), given
    data samples where it needs them (blank ones of the batch's shape if there are none)."""
    param = inspect.signature(detector._forward).parameters.get('batch_data_samples')
    if param is None:
        return detector._forward(inputs)
    if data_samples is None and param.default is inspect.Parameter.empty:
        data_samples = blank_samples(inputs)
    return detector._forward(inputs, data_samples)


@torch.no_grad()
def check_loss_inputs(student,
                      teacher,
                      teacher_step,
                      teacher_runs: str,
                      distiller,
                      size: int = 256) -> None:
    """Run both models once (student: backbone, neck and head; teacher: ``teacher_step``) on
    one blank ``size`` x ``size`` image and check what every loss mapping gets: a teacher
    record that stays empty, an index out of range, and, per loss, its ``check_inputs`` (or
    the generic same-shape check). 256 px leaves P7 at 2x2, which a GroupNorm of one channel
    per group needs. Norm layers run in eval mode, so no statistics change."""
    modules = (student, teacher, distiller)
    modes = [(m, m.training) for m in modules]
    try:
        for m in modules:
            m.eval()
        x = torch.zeros(1, 3, size, size, device=next(student.parameters()).device)
        with distiller.student_recorders:
            raw_forward(student, x)
        with distiller.teacher_recorders:
            teacher_step(x)
        for name, mapping in distiller.loss_forward_mappings.items():
            got = {
                arg: _dry_record(distiller, teacher_runs, name, arg, spec)
                for arg, spec in mapping.items()
            }
            loss = distiller.distill_losses[name]
            check = getattr(loss, 'check_inputs', None)
            if check is None:
                _check_same_shape(name, mapping, got, size,
                                  (num_classes(student), num_classes(teacher)))
                continue
            params = inspect.signature(check).parameters
            kwargs = {
                arg: value
                for arg, value in got.items() if value is not None and arg in params
            }
            try:
                check(**kwargs)
            except ValueError as err:
                where = ', '.join(f'{arg}: {_where(mapping[arg])}' for arg in kwargs)
                raise ValueError(f'{name} ({where}; dry run on a {size}x{size} input): '
                                 f'{err}') from err
    finally:
        for module, mode in modes:
            module.train(mode)
