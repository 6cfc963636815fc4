"""``DetDistill``: one MMRazor algorithm for every detection distillation method here.

It knows no method and no detector: what a method needs from the teacher (what it runs, a
head step, the modules the student inherits) is declared by the method's fragment and done
by ``teacher.py``; what is checked before the first iteration is in ``checks.py`` (the teacher's
checkpoint in ``checkpoint.py``); the distiller it builds is ``distiller.py``'s.
"""
from typing import Optional, Sequence, Union

import torch
from mmengine.logging import MessageHub, MMLogger
from mmrazor.models import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from ..utils.config import model_cfg
from .checkpoint import check_teacher_ckpt, load_teacher_strictly
from .checks import check_class_agreement, check_loss_inputs, check_recorder_sources
from .distiller import DetDistiller
from .teacher import (check_inheritance, check_teacher_forward, describe_teacher_run,
                      drop_teacher_entries, fill_teacher_entries, inherit_from_teacher,
                      run_teacher)


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


def _forget_distillation_logs() -> None:
    """After the distillation has stopped, drop its losses from the logged scalars: MMEngine
    would go on logging their last smoothed values as if they were still computed."""
    scalars = MessageHub.get_current_instance().log_scalars
    for key in [k for k in scalars if k.startswith('train/distill.')]:
        del scalars[key]


@MODELS.register_module()
@MODELS.register_module(name='DetFpnTeacherDistill')  # its name before 0.2, for old configs
class DetDistill(SingleTeacherDistill):
    """Detection distillation with one teacher that runs only what the losses need, under
    no_grad, its norm layers in eval mode, and that cannot silently stay random.

    The student trains as the plain mmdet detector it is (its own losses, prefixed
    ``student.``); MMRazor's ``ConfigurableDistiller`` records what the losses need from both
    models and adds the distillation losses (prefixed ``distill.``). Before the first
    iteration, ``checks.py`` verifies the recorders, the teacher checkpoint and, in a dry run,
    every loss's inputs. The distiller is built as ``DetDistiller`` (``distiller.py``: MMRazor's
    ``ConfigurableDistiller`` with float32 losses under autocast, the teacher handed to the
    recorders that run part of it, the student to the losses that read its head).

    Two-stage training: MMRazor's ``StopDistillHook(stop_epoch=E)`` in the config's
    ``custom_hooks`` sets ``distillation_stopped`` before epoch E (0-based: epochs E, E+1, ...
    are the student's alone) and again after a resume past E; from then on a step runs the
    student only, so it costs what the student alone costs (RTMDet's recipe stops at 280 of 300).

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
        teacher_head_step (str | None): with ``teacher_forward='head'``, a method of the
            teacher's ``bbox_head`` called after its forward with the head's outputs and the
            data samples, whose result the student's loss reads through a delivery (the
            PP-YOLOE+ fragment: ``'assign_for_student'``, the teacher's task-aligned
            assignment). It hands the teacher's labels to the student, so the class check
            applies. Defaults to None.
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
                 teacher_head_step: Optional[str] = None,
                 allow_random_teacher: bool = False,
                 inherit_teacher: Sequence[str] = (),
                 save_teacher: bool = False,
                 on_nonfinite: str = 'raise',
                 loss_scale: float = 1.0,
                 **kwargs):
        if on_nonfinite not in ('raise', 'skip'):
            raise ValueError(f"on_nonfinite must be 'raise' or 'skip', got {on_nonfinite!r}")
        check_teacher_ckpt(teacher_ckpt, allow_random_teacher, teacher)
        student = MODELS.build(model_cfg(architecture, 'student'))
        teacher = MODELS.build(model_cfg(teacher, 'teacher'))
        check_teacher_forward(teacher_forward, teacher_head_step, teacher)
        check_recorder_sources(distiller.get('student_recorders'), student, 'student')
        check_recorder_sources(distiller.get('teacher_recorders'), teacher, 'teacher')
        if distiller.get('type') in ('ConfigurableDistiller', 'mmrazor.ConfigurableDistiller'):
            distiller = dict(distiller, type=DetDistiller.__name__)
        super().__init__(
            architecture=student,
            teacher=teacher,
            distiller=distiller,
            teacher_ckpt=None,
            **kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_forward = teacher_forward
        self.teacher_head_step = teacher_head_step
        self.inherit_teacher = tuple(inherit_teacher)
        check_inheritance(self.teacher, self.student, self.inherit_teacher)
        self.on_nonfinite = on_nonfinite
        self.loss_scale = loss_scale
        if teacher_ckpt is not None:
            load_teacher_strictly(self.teacher, teacher_ckpt)
        if isinstance(self.distiller, DetDistiller):
            self.distiller.bind_teacher(self.teacher)
            self.distiller.configure_from_student(self.student)
        check_class_agreement(self.student, self.teacher, self.distiller, teacher_head_step)
        check_loss_inputs(self.student, self.teacher, self._run_teacher,
                          describe_teacher_run(teacher_forward, teacher_head_step), self.distiller)
        if not save_teacher:
            self._register_state_dict_hook(drop_teacher_entries)
            self._register_load_state_dict_pre_hook(
                lambda state_dict, prefix, *args: fill_teacher_entries(
                    self.teacher, state_dict, prefix))

    @property
    def detector(self):
        """The student, under the name mmdet's hooks look for in a model that wraps a
        detector (``YOLOXModeSwitchHook`` switches ``model.detector.bbox_head.use_l1``)."""
        return self.student

    def _run_teacher(self, batch_inputs: torch.Tensor, data_samples=None):
        """The teacher's part of a step (see ``teacher.run_teacher``)."""
        return run_teacher(self.teacher, self.teacher_forward, self.teacher_head_step,
                           batch_inputs, data_samples)

    def loss(self, batch_inputs, data_samples=None):
        """The teacher's step (``teacher_forward``) under no_grad, the student's own losses
        (unless ``calculate_student_loss=False``: a distillation-only run), the distillation
        losses, and a stop (or skip) on a non-finite distillation loss. After the distillation
        has stopped (``distillation_stopped``, set by MMRazor's ``StopDistillHook``), the step is
        the student's alone: no teacher, no recorders, no distillation loss."""
        distiller = self.distiller
        if self.distillation_stopped:
            _forget_distillation_logs()
            losses = add_prefix(self.student(batch_inputs, data_samples, mode='loss'), 'student')
            return self._scaled(losses)
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
        losses.update(add_prefix(distiller.compute_distill_losses(), 'distill'))
        return self._scaled(guard_nonfinite(losses, self.on_nonfinite))

    def _scaled(self, losses: dict) -> dict:
        if self.loss_scale != 1:
            losses = {k: v * self.loss_scale if 'loss' in k else v for k, v in losses.items()}
        return losses

    def init_weights(self) -> None:
        super().init_weights()
        if self.inherit_teacher:
            inherit_from_teacher(self.teacher, self.student, self.inherit_teacher)
