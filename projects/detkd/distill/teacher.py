"""The teacher's side of ``DetDistill``: what it runs in a step, what it gives the student at
the start (FGD's inheriting), and its weights kept out of the student's checkpoints.

What a method needs from the teacher is declared in the method's fragment
(``configs/_base_/distill/*.py``), not known to the algorithm:

- ``teacher_forward``: ``'neck'`` (backbone and neck) or ``'head'`` (the head's forward too);
- ``teacher_head_step``: a method of the teacher's ``bbox_head`` called after its forward
  with the head's outputs and the batch's data samples, whose result the student reads
  through a delivery (PP-YOLOE+'s fragment: ``'assign_for_student'``, the teacher's
  task-aligned assignment);
- ``inherit_teacher``: the modules copied into the student after its initialisation (FGD's
  fragment: ``('neck', 'bbox_head')``), checked at build to match one to one.
"""
from typing import List, Optional, Sequence

import torch
from mmengine.logging import MMLogger

from .checkpoint import _by_module, _show
from .forward import raw_forward

TEACHER_FORWARDS = {
    # what the teacher runs, and how the error messages say it
    'neck':
    'backbone and neck (extract_feat)',
    'head':
    "backbone, neck and head forward (the detector's _forward: raw head outputs, "
    'no loss, no post-processing)',
}


def check_teacher_forward(teacher_forward: str, head_step: Optional[str], teacher) -> None:
    """A valid ``teacher_forward``, and a ``teacher_head_step`` the teacher's head has."""
    if teacher_forward == 'assign':  # the name of PP-YOLOE+'s setting before 0.3
        raise ValueError("teacher_forward='assign' is now teacher_forward='head' with "
                         "teacher_head_step='assign_for_student' (the head method to call), as "
                         'configs/_base_/distill/ppyoloe_kd.py sets them')
    if teacher_forward not in TEACHER_FORWARDS:
        raise ValueError(f'teacher_forward must be one of {sorted(TEACHER_FORWARDS)}, '
                         f'got {teacher_forward!r}')
    if head_step is None:
        return
    if teacher_forward != 'head':
        raise ValueError(f'teacher_head_step={head_step!r} runs on the head\'s outputs: set '
                         "teacher_forward='head'")
    head = getattr(teacher, 'bbox_head', None)
    if not callable(getattr(head, head_step, None)):
        raise ValueError(
            f'teacher_head_step={head_step!r}: the teacher\'s head ({type(head).__name__}) has '
            'no such method. It names a method of the teacher\'s bbox_head called with the '
            'head\'s outputs and the data samples; remove it for a teacher whose head has none.')


def describe_teacher_run(teacher_forward: str, head_step: Optional[str]) -> str:
    """What the teacher runs, for error messages about records it did not produce."""
    step = f", then bbox_head.{head_step}" if head_step else ''
    hint = ("; a module outside that needs teacher_forward='head'" if teacher_forward == 'neck'
            else '; a module called as module.forward(x), as the detector calls its head, '
            "fires no hook: record it with MethodOutputs on its class's method")
    return (f'{TEACHER_FORWARDS[teacher_forward]}{step} (teacher_forward='
            f'{teacher_forward!r}{hint})')


def run_teacher(teacher,
                teacher_forward: str,
                head_step: Optional[str],
                inputs: torch.Tensor,
                data_samples=None):
    """The teacher's part of a step: ``extract_feat``, or ``_forward`` (the head too) followed
    by the head step (skipped without data samples, as in the build-time dry run)."""
    if teacher_forward == 'neck':
        return teacher.extract_feat(inputs)
    outs = raw_forward(teacher, inputs, data_samples)
    if head_step and data_samples is not None:
        getattr(teacher.bbox_head, head_step)(*outs, data_samples)
    return outs


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


@torch.no_grad()
def inherit_from_teacher(teacher, student, prefixes: Sequence[str]) -> List[str]:
    """Copy every teacher tensor under ``prefixes`` into the student (``check_inheritance``
    made sure at build that they match one to one); the names copied."""
    student_state = student.state_dict()
    copied = []
    for name, value in teacher.state_dict().items():
        if under_prefixes(name, prefixes):
            student_state[name].copy_(value)
            copied.append(name)
    MMLogger.get_current_instance().info(f'inherited {len(copied)} tensors from the teacher '
                                         f'({", ".join(prefixes)})')
    return copied


def drop_teacher_entries(module, state_dict, prefix, local_metadata) -> None:
    """A ``state_dict`` hook: the teacher's tensors left out (it comes from its own file)."""
    for key in [k for k in state_dict if k.startswith(f'{prefix}teacher.')]:
        del state_dict[key]


def fill_teacher_entries(teacher, state_dict, prefix: str) -> None:
    """For a ``load_state_dict`` pre-hook: the teacher's entries filled from the teacher
    already loaded, so that a checkpoint without them loads strictly."""
    for key, value in teacher.state_dict().items():
        state_dict.setdefault(f'{prefix}teacher.{key}', value)
