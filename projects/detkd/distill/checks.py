"""What ``DetDistill`` checks before the first iteration, so that a wrong config fails in
seconds with a message that says what to change, not after hours of training:

- ``check_recorder_sources``: every module recorder names a module the model has;
- ``check_class_agreement``: a method that compares class predictions (a loss with
  ``compares_classes = True``, or the teacher's assignment) needs a teacher that predicts the
  student's classes;
- ``check_loss_inputs``: a dry run of both models feeds every loss mapping and asks each loss
  whether its inputs fit (the loss's own ``check_inputs`` method, see below).

The teacher's checkpoint is checked and loaded in ``checkpoint.py``, the inheriting in
``teacher.py``.

The loss protocol: a distillation loss that wants its inputs checked at build time defines
``check_inputs(self, **inputs)`` with the argument names of its ``forward``, and raises
``ValueError`` with a message naming the setting to change. The dry run calls it with the
records a mapping gets before training (the student's inputs to its ``loss()``, e.g. the GT,
are recorded only in training and are left out). A loss without the method gets the generic
check: ``preds_S`` and ``preds_T`` of the same shape.
"""
import difflib
import inspect
from typing import Optional

import torch

from .forward import raw_forward

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
