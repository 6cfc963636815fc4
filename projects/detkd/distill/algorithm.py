"""``DetDistill``: one MMRazor algorithm for every detection distillation method here."""
from typing import List, Sequence, Union

import torch
from mmengine.logging import MessageHub, MMLogger
from mmrazor.models import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from ..utils.config import model_cfg
from .checks import (check_class_agreement, check_inheritance, check_loss_inputs,
                     check_recorder_sources, check_teacher_ckpt, load_teacher_strictly,
                     raw_forward, under_prefixes)
from .ops import autocast_off, to_float32

TEACHER_FORWARDS = {
    # what the teacher runs, and how the error messages say it
    'neck':
    'backbone and neck (extract_feat)',
    'head':
    "backbone, neck and head forward (the detector's _forward: raw head outputs, "
    'no loss, no post-processing)',
    'assign':
    "backbone, neck and head forward, then the head's assign_for_student (PP-YOLOE: its "
    'task-aligned assignment after the static epochs, for the student; no loss)',
}


def _autocast_on(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled() if device_type == 'cpu' else \
            torch.is_autocast_enabled()


def _drop_teacher_entries(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if k.startswith(f'{prefix}teacher.')]:
        del state_dict[key]


@MODELS.register_module()
@MODELS.register_module(name='DetFpnTeacherDistill')  # its name before 0.2, for old configs
class DetDistill(SingleTeacherDistill):
    """Detection distillation with one teacher that runs only what the losses need, under
    no_grad, its norm layers in eval mode, and that cannot silently stay random.

    The student trains as the plain mmdet detector it is (its own losses, prefixed
    ``student.``); MMRazor's ``ConfigurableDistiller`` records what the losses need from both
    models and adds the distillation losses (prefixed ``distill.``). Before the first
    iteration, ``checks.py`` verifies the recorders, the teacher checkpoint and, in a dry run,
    every loss's inputs.

    Args:
        architecture (str | dict): the student: an mmdet config file (its ``model`` is used)
            or a model dict.
        teacher (str | dict): the teacher, likewise. ``tools/train.py`` expands a file into
            its model dict, so that the work dir's config shows the teacher and
            ``--cfg-options model.teacher.*`` reaches it.
        distiller (dict): the ``ConfigurableDistiller`` (recorders, losses, mappings).
        teacher_ckpt (str | None): the teacher's mmdet checkpoint. It must exist and match the
            teacher exactly (strict loading: every missing or unexpected key is reported
            before training starts).
        teacher_forward (str): what the teacher runs: ``'neck'`` (default), backbone and neck,
            for losses on features; ``'head'``, the head's forward too, for losses on the
            teacher's logits (e.g. GFL's ``bbox_head.gfl_cls``).
        allow_random_teacher (bool): the only way to run with ``teacher_ckpt=None`` (a
            randomly initialised teacher), e.g. for smoke tests. Defaults to False.
        inherit_teacher (Sequence[str]): modules of the teacher copied into the student
            after weight initialisation: the "inheriting strategy" of FGD (Yang et al. 2022),
            e.g. ``('neck', 'bbox_head')``. Only for modules of the same architecture in both
            (every tensor under the prefix the same name and shape): anything else is refused
            at build, with the tensors that differ, rather than copied in part. Empty
            (default) disables it.
        save_teacher (bool): keep the teacher's weights in this model's ``state_dict`` (and
            so in the checkpoints). Defaults to False: the teacher comes from its own file,
            checkpoints stay the student's size (plus the losses' own parameters), and
            loading one fills the teacher's entries from the teacher already loaded.
        loss_scale (float): every loss (the student's own and the distillation's) times this
            factor. Defaults to 1. PaddleDetection's PP-YOLOE distillation uses 0.125: with
            SGD that divides the loss gradients by 8 against an unchanged weight decay (as an
            8x smaller learning rate with an 8x larger decay would).
        on_nonfinite (str): what a NaN or infinite distillation loss does: ``'raise'``
            (default) stops training with the loss's name and the iteration; ``'skip'`` logs
            a warning and drops the distillation losses from that step (the student's own
            losses still train it).
        **kwargs: the other arguments of MMRazor's ``SingleTeacherDistill``:
            ``teacher_trainable``; ``teacher_norm_eval`` (False runs the teacher's norm layers
            in train mode, on batch statistics, as PaddleDetection's PP-YOLOE distillation
            does); ``calculate_student_loss`` (False: the student's own losses are left out
            and it trains on the distillation losses alone, the clean test of whether a loss
            transfers anything; it still runs its loss computation, whose inputs and
            assignment some recorders read); ``student_trainable`` (False: the student runs
            under no_grad, so only the distiller's own modules, e.g. connectors, train);
            ``data_preprocessor``, ...
    """

    def __init__(self,
                 architecture: Union[str, dict],
                 teacher: Union[str, dict],
                 distiller: dict,
                 teacher_ckpt: Union[str, None] = None,
                 teacher_forward: str = 'neck',
                 allow_random_teacher: bool = False,
                 inherit_teacher: Sequence[str] = (),
                 save_teacher: bool = False,
                 on_nonfinite: str = 'raise',
                 loss_scale: float = 1.0,
                 **kwargs):
        if teacher_forward not in TEACHER_FORWARDS:
            raise ValueError(f'teacher_forward must be one of {sorted(TEACHER_FORWARDS)}, '
                             f'got {teacher_forward!r}')
        if on_nonfinite not in ('raise', 'skip'):
            raise ValueError(f"on_nonfinite must be 'raise' or 'skip', got {on_nonfinite!r}")
        check_teacher_ckpt(teacher_ckpt, allow_random_teacher, teacher)
        student = MODELS.build(model_cfg(architecture, 'student'))
        teacher = MODELS.build(model_cfg(teacher, 'teacher'))
        if teacher_forward == 'assign' and not hasattr(
                getattr(teacher, 'bbox_head', None), 'assign_for_student'):
            head = type(getattr(teacher, 'bbox_head', None)).__name__
            raise ValueError(
                "teacher_forward='assign' needs a teacher head with assign_for_student "
                f"(PPYOLOEHead); the teacher's is {head}. Use teacher_forward='head' for "
                'another detector.')
        check_recorder_sources(distiller.get('student_recorders'), student, 'student')
        check_recorder_sources(distiller.get('teacher_recorders'), teacher, 'teacher')
        super().__init__(
            architecture=student,
            teacher=teacher,
            distiller=distiller,
            teacher_ckpt=None,
            **kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_forward = teacher_forward
        self.inherit_teacher = tuple(inherit_teacher)
        check_inheritance(self.teacher, self.student, self.inherit_teacher)
        self.on_nonfinite = on_nonfinite
        self.loss_scale = loss_scale
        if teacher_ckpt is not None:
            load_teacher_strictly(self.teacher, teacher_ckpt)
        check_class_agreement(self.student, self.teacher, self.distiller, teacher_forward)
        check_loss_inputs(self.student, self.teacher, self._run_teacher, self._teacher_runs(),
                          self.distiller)
        if not save_teacher:
            self._register_state_dict_hook(_drop_teacher_entries)
            self._register_load_state_dict_pre_hook(self._fill_teacher_entries)

    @property
    def detector(self):
        """The student, under the name mmdet's hooks look for in a model that wraps a
        detector (``YOLOXModeSwitchHook`` switches ``model.detector.bbox_head.use_l1``)."""
        return self.student

    def _teacher_runs(self) -> str:
        hint = ("; a module outside that needs teacher_forward='head'"
                if self.teacher_forward == 'neck' else
                '; a module called as module.forward(x), as the detector calls its head, '
                "fires no hook: record it with MethodOutputs on its class's method")
        return (f'{TEACHER_FORWARDS[self.teacher_forward]} (teacher_forward='
                f'{self.teacher_forward!r}{hint})')

    def _run_teacher(self, batch_inputs: torch.Tensor, data_samples=None):
        """The teacher's part of a step: ``extract_feat``, ``_forward`` (head too), or with
        ``'assign'`` the head's ``assign_for_student`` on its outputs (skipped without
        data samples, as in the dry run)."""
        if self.teacher_forward == 'head':
            return raw_forward(self.teacher, batch_inputs, data_samples)
        if self.teacher_forward == 'assign':
            outs = raw_forward(self.teacher, batch_inputs, data_samples)
            if data_samples is not None:
                self.teacher.bbox_head.assign_for_student(*outs, data_samples)
            return outs
        return self.teacher.extract_feat(batch_inputs)

    def _fill_teacher_entries(self, state_dict, prefix, *args) -> None:
        for key, value in self.teacher.state_dict().items():
            state_dict.setdefault(f'{prefix}teacher.{key}', value)

    def loss(self, batch_inputs, data_samples=None):
        """The teacher's step (``teacher_forward``) under no_grad, the student's own losses
        (unless ``calculate_student_loss=False``: a distillation-only run), the distillation
        losses, and a stop (or skip) on a non-finite distillation loss."""
        distiller = self.distiller
        # deliveries record the teacher's data first, then override the student's
        distiller.set_deliveries_override(False)
        with distiller.teacher_recorders, distiller.deliveries:
            if self.teacher_trainable:
                self._run_teacher(batch_inputs, data_samples)
            else:
                with torch.no_grad():
                    self._run_teacher(batch_inputs, data_samples)
        distiller.set_deliveries_override(True)
        # The student runs in 'loss' mode even when its losses are not wanted: the recorders of
        # several methods read what only its loss computation produces (the GT it is given,
        # its label assignment). MMRazor runs it in 'tensor' mode there, which records neither.
        with distiller.student_recorders, distiller.deliveries:
            if self.student_trainable:
                student_losses = self.student(batch_inputs, data_samples, mode='loss')
            else:
                with torch.no_grad():
                    student_losses = self.student(batch_inputs, data_samples, mode='loss')
        losses = add_prefix(student_losses, 'student') if self.calculate_student_loss else {}
        if not self.distillation_stopped:
            losses.update(add_prefix(self._compute_distill_losses(batch_inputs), 'distill'))

        bad = {
            k: v
            for k, v in losses.items() if k.startswith('distill.') and not torch.isfinite(v).all()
        }
        if bad:
            it = MessageHub.get_current_instance().get_info('iter')
            what = ', '.join(f'{k}={v.detach().float().mean().item()}' for k, v in bad.items())
            if self.on_nonfinite == 'raise':
                raise FloatingPointError(
                    f'non-finite distillation loss at iteration {it}: {what}. Check the '
                    'teacher checkpoint and the loss weights, or set '
                    "model.on_nonfinite='skip' to skip such steps.")
            MMLogger.get_current_instance().warning(
                f'skipping the distillation losses of iteration {it}: {what}')
            losses = {k: v for k, v in losses.items() if not k.startswith('distill.')}
        if self.loss_scale != 1:
            losses = {k: v * self.loss_scale if 'loss' in k else v for k, v in losses.items()}
        return losses

    def _compute_distill_losses(self, batch_inputs: torch.Tensor) -> dict:
        """The distiller's losses; under mixed precision (autocast) in float32: the records
        are cast to float32 before the connectors, and autocast is off in the connectors and
        the losses. Their softmaxes, variances, logs and sums over whole maps are not safe in
        half precision (float16 overflows in exp, bfloat16 keeps 8 bits of mantissa: CWD
        on head logits was 20% off in bfloat16), and the losses are a small part of the
        step's time."""
        distiller = self.distiller
        device_type = batch_inputs.device.type
        if not _autocast_on(device_type):
            return distiller.compute_distill_losses()

        def get_record(recorder: str,
                       from_student: bool,
                       record_idx: int = 0,
                       data_idx=None,
                       connector=None,
                       connector_idx=None):
            # ConfigurableDistiller.get_record, the record cast before the connector
            managers = distiller.student_recorders if from_student else \
                distiller.teacher_recorders
            record = managers.get_recorder(recorder).get_record_data(record_idx, data_idx)
            data = to_float32(record)
            if connector:
                data = distiller.connectors[connector](data)
            return data if connector_idx is None else data[connector_idx]

        distiller.get_record = get_record
        try:
            with autocast_off():
                return distiller.compute_distill_losses()
        finally:
            del distiller.get_record

    def init_weights(self) -> None:
        super().init_weights()
        if self.inherit_teacher:
            self._inherit_from_teacher()

    @torch.no_grad()
    def _inherit_from_teacher(self) -> List[str]:
        """Copy every teacher tensor under the ``inherit_teacher`` prefixes into the student
        (``check_inheritance`` made sure at build that they match one to one)."""
        student_state = self.student.state_dict()
        copied = []
        for name, value in self.teacher.state_dict().items():
            if under_prefixes(name, self.inherit_teacher):
                student_state[name].copy_(value)
                copied.append(name)
        MMLogger.get_current_instance().info(f'inherited {len(copied)} tensors from the teacher '
                                             f'({", ".join(self.inherit_teacher)})')
        return copied
