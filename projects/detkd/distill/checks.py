"""What ``DetDistill`` checks before the first iteration, so that a wrong config fails in
seconds with a message that says what to change, not after hours of training:

- ``check_recorder_sources``: every module recorder names a module the model has;
- ``load_teacher_strictly``: the teacher checkpoint exists, is not a distillation checkpoint,
  and matches the teacher exactly (missing, unexpected and mis-shaped tensors, by module);
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
import inspect
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint

_MODULE_RECORDERS = ('ModuleOutputs', 'ModuleInputs', 'ModuleOutputsRecorder',
                     'ModuleInputsRecorder')


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
        how = (f'tools/train.py {osp.relpath(teacher)}' if isinstance(teacher, str)
               and '::' not in teacher else 'tools/train.py <teacher config>')
        if teacher_ckpt.endswith('_paddle.pth'):
            raise FileNotFoundError(
                f'teacher checkpoint {teacher_ckpt!r} does not exist. It is PaddleDetection\'s '
                'trained teacher, converted: download its .pdparams and run python '
                f'tools/model_converters/paddle_to_mmdet.py ARCH SRC.pdparams {teacher_ckpt} '
                "(the README's table of the seed's models gives the file, the URL and ARCH; "
                'the pair config\'s header the commands). Or train the teacher (python '
                f'{how}) and set model.teacher_ckpt to its checkpoint.')
        raise FileNotFoundError(
            f'teacher checkpoint {teacher_ckpt!r} does not exist. Train the teacher first '
            f'(python {how}; bash tools/dist_train.sh with the same config for several '
            'GPUs) or download its checkpoint, and set model.teacher_ckpt to the file.')


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
        raise RuntimeError('\n'.join(lines))
    teacher.load_state_dict(state, strict=True)
    # keep the loaded weights through the runner's init_weights()
    teacher._is_init = True
    MMLogger.get_current_instance().info(
        f'teacher: loaded {len(state)} tensors strictly from {path}')


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


def _check_same_shape(name: str, mapping: dict, got: dict, size: int) -> None:
    s, t = got.get('preds_S'), got.get('preds_T')
    if isinstance(s, torch.Tensor) and isinstance(t, torch.Tensor) and s.shape != t.shape:
        hint = ''
        if s.dim() == 4 and s.shape[2:] == t.shape[2:]:
            hint = (" Map the student to the teacher's channels with a connector, e.g. "
                    "connectors=dict(s_align=dict(type='AlignNormConnector', "
                    f'in_channel={s.size(1)}, out_channel={t.size(1)}, '
                    "normalize=False)) and connector='s_align' in preds_S.")
        raise ValueError(
            f'{name}: preds_S ({_where(mapping["preds_S"])}) has shape {tuple(s.shape)} but '
            f'preds_T ({_where(mapping["preds_T"])}) has {tuple(t.shape)} (dry run on a '
            f'{size}x{size} input).' + hint)


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
            student._forward(x)
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
                _check_same_shape(name, mapping, got, size)
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
