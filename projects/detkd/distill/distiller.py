"""``DetDistiller``: MMRazor's ``ConfigurableDistiller`` with what detection distillation adds.

``DetDistill`` builds every ``ConfigurableDistiller`` of a config as this subclass (the configs
keep MMRazor's name, so they resolve as MMRazor's own). It adds:

- float32 losses under mixed precision: when autocast is on, ``compute_distill_losses`` casts
  every record to float32 before its connector and runs the connectors and losses with autocast
  off. Their softmaxes, variances, logs and sums over whole maps are not safe in half precision
  (float16 overflows in exp, bfloat16 keeps 8 bits of mantissa: CWD on head logits was 20% off
  in bfloat16), and the losses are a small part of the step's time;
- the teacher handed to the recorders that run part of it (``bind_teacher``: CrossKD's
  ``CrossHead`` recorders, ``cross_head.py``) and the student to the losses that read settings
  from its head (``configure_from_student``: a loss's class or anchor count, box coder, ...).
"""
from mmrazor.models import ConfigurableDistiller
from mmrazor.registry import MODELS

from .ops import autocast_off, to_float32


def autocast_on(device_type: str) -> bool:
    import torch
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled() if device_type == 'cpu' else \
            torch.is_autocast_enabled()


@MODELS.register_module()
class DetDistiller(ConfigurableDistiller):
    """``ConfigurableDistiller`` plus float32 losses under autocast, and the teacher and the
    student handed to the recorders and losses that ask for them (see the module docstring).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._float32_records = False

    def bind_teacher(self, teacher) -> None:
        """Hand the teacher (and the teacher's recorders, the connectors) to every student
        recorder that runs part of it (a ``bind`` method)."""
        for recorder in self.student_recorders.recorders.values():
            if hasattr(recorder, 'bind'):
                recorder.bind(teacher, self.teacher_recorders, self.connectors)

    def configure_from_student(self, student) -> None:
        """Let every loss with a ``configure_from_student`` method read what it needs from the
        student (its head's class count, priors, box coder) where its config left it unset."""
        for loss in self.distill_losses.values():
            if hasattr(loss, 'configure_from_student'):
                loss.configure_from_student(student)

    def get_record(self,
                   recorder,
                   from_student,
                   record_idx=0,
                   data_idx=None,
                   connector=None,
                   connector_idx=None):
        """MMRazor's ``get_record``, the record cast to float32 before the connector when the
        losses run in float32 (autocast was on)."""
        managers = self.student_recorders if from_student else self.teacher_recorders
        data = managers.get_recorder(recorder).get_record_data(record_idx, data_idx)
        if self._float32_records:
            data = to_float32(data)
        if connector:
            data = self.connectors[connector](data)
        return data if connector_idx is None else data[connector_idx]

    def compute_distill_losses(self):
        """MMRazor's losses; under autocast in float32 (records cast, autocast off)."""
        if not any(autocast_on(device) for device in ('cpu', 'cuda')):
            return super().compute_distill_losses()
        self._float32_records = True
        try:
            with autocast_off():
                return super().compute_distill_losses()
        finally:
            self._float32_records = False
