"""The cross-head forward of CrossKD (Wang et al., CVPR 2024), as a recorder.

A ``CrossHead`` recorder records a feature of the student's head, at the *cross point* (e.g. the
output of the student's third head conv, after its norm and before its activation), once per FPN
level, and gives, instead of that feature, the teacher's *remaining* head layers applied to it:
the "cross-head" predictions, which the losses compare with the teacher's own predictions. What
runs is configured per head family in the method's fragment (``configs/_base_/distill/
crosskd_*.py``), never known to ``DetDistill``::

    cross_cls=dict(
        type='CrossHead',
        source='bbox_head.cls_convs.2.gn',       # the student's cross point
        teacher_source='cls_hold',               # the teacher recorder of the same point
        teacher_layers=('relu', 'bbox_head.cls_convs.3', 'bbox_head.gfl_cls'))

Per level l, with S the student's feature and T the teacher's at the same point::

    S' = connector(S)                                      (optional, different widths)
    S'' = (S' - mean(S')) / (std(S') + 1e-6) * std(T) + mean(T)   (align='teacher_stats')
    out_l = layer_k(...layer_1(S''))                       (the teacher_layers, in order)

with mean and std per channel over the batch and space (the unbiased std, as the authors'
``align_scale``). A layer is a module name of the teacher (``{level}`` is replaced by l, e.g.
``bbox_head.scales.{level}``) or ``'relu'`` / ``'exp'``. The teacher's parameters are frozen
(``DetDistill``), but the layers run with autograd on: the gradient of the losses reaches the
student's head, neck and backbone through them. The teacher's own predictions are the
teacher's head forward, recorded once per step by another recorder; the cross-head runs the
teacher's last layers a second time, on the student's features.

A record is the list of the per-level outputs (``data_idx=l`` picks a level), computed once per
step when a loss first asks for it; it is float32 under mixed precision.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import Tensor, nn

from .ops import to_float32

_OPS = {'relu': F.relu, 'exp': torch.exp}
ALIGNS = (None, 'teacher_stats')


def align_to_teacher(student: Tensor, teacher: Tensor, eps: float = 1e-6) -> Tensor:
    """The student's (N, C, H, W) feature standardised per channel over (N, H, W) and given
    the teacher's per-channel mean and std (unbiased std; ``eps`` on the student's only)."""
    if student.shape[1] != teacher.shape[1]:
        raise ValueError(f'CrossHead: the student feature has {student.shape[1]} channels, the '
                         f"teacher's {teacher.shape[1]}; bridge them with a connector "
                         "(connector='...' in the CrossHead recorder)")
    s = student.transpose(0, 1).flatten(1)
    t = teacher.detach().transpose(0, 1).flatten(1)
    s_mean, s_std = s.mean(1, keepdim=True), s.std(1, keepdim=True)
    t_mean, t_std = t.mean(1, keepdim=True), t.std(1, keepdim=True)
    out = (s - s_mean) / (s_std + eps) * t_std + t_mean
    return out.reshape(student.shape[1], student.shape[0], *student.shape[2:]).transpose(0, 1)


@TASK_UTILS.register_module()
class CrossHeadRecorder(ModuleOutputsRecorder):
    """The teacher's remaining head layers applied to the student's features (see above).

    Args:
        source (str): the student's module whose output is the cross point.
        teacher_layers (Sequence[str]): what runs on it, in order: teacher module names
            (``{level}`` formatted with the level index) or ``'relu'``, ``'exp'``.
        teacher_source (str, optional): the teacher recorder of the same point, one record per
            level; required by ``align='teacher_stats'``.
        align (str, optional): ``'teacher_stats'`` (default, the authors') or None.
        connector (str, optional): a distiller connector applied to the student's feature
            first (student and teacher heads of different widths).
    """

    def __init__(self,
                 source: str,
                 teacher_layers: Sequence[str],
                 teacher_source: Optional[str] = None,
                 align: Optional[str] = 'teacher_stats',
                 connector: Optional[str] = None):
        super().__init__(source)
        if align not in ALIGNS:
            raise ValueError(f'CrossHead {source!r}: align must be one of {ALIGNS}, got '
                             f'{align!r}')
        if align and not teacher_source:
            raise ValueError(f"CrossHead {source!r}: align='teacher_stats' needs teacher_source, "
                             'the teacher recorder of the same point')
        if not teacher_layers:
            raise ValueError(f'CrossHead {source!r}: teacher_layers is empty')
        self.teacher_layers = tuple(teacher_layers)
        self.teacher_source = teacher_source
        self.align = align
        self.connector = connector
        self._teacher = None
        self._teacher_recorders = None
        self._connectors = None
        self._outputs = None

    def bind(self, teacher: nn.Module, teacher_recorders, connectors: nn.ModuleDict) -> None:
        """Give the recorder the teacher, its recorders and the distiller's connectors
        (``DetDistill`` calls it at build); check every name it will use."""
        modules = dict(teacher.named_modules())
        for layer in self.teacher_layers:
            if layer in _OPS:
                continue
            name = layer.format(level=0)
            if name not in modules:
                raise KeyError(
                    f'CrossHead {self.source!r}: the teacher ({type(teacher).__name__}) has no '
                    f'module {name!r} (teacher_layers {self.teacher_layers}); list them with '
                    'dict(teacher.named_modules()).keys()')
        if self.teacher_source and self.teacher_source not in teacher_recorders.recorders:
            raise KeyError(f'CrossHead {self.source!r}: teacher_source {self.teacher_source!r} '
                           'is not a teacher recorder; add it to teacher_recorders '
                           f'(known: {", ".join(teacher_recorders.recorders)})')
        if self.connector and self.connector not in connectors:
            raise KeyError(f'CrossHead {self.source!r}: connector {self.connector!r} is not '
                           f'among the distiller\'s connectors ({", ".join(connectors)})')
        # plain references, not submodules: the teacher stays out of this recorder's state
        self._teacher, self._teacher_recorders, self._connectors = (modules, teacher_recorders,
                                                                    connectors)

    def reset_data_buffer(self) -> None:
        super().reset_data_buffer()
        self._outputs = None

    def cross(self, level: int, feat: Tensor) -> Tensor:
        """One level's cross-head output."""
        x = to_float32(feat)
        if self.connector:
            x = self._connectors[self.connector](x)
        if self.align:
            records = self._teacher_recorders.get_recorder(self.teacher_source).data_buffer
            if level >= len(records):
                raise ValueError(f'CrossHead {self.source!r}: the student recorded level {level}'
                                 f', the teacher recorder {self.teacher_source!r} only '
                                 f'{len(records)} levels; the two heads must see the same '
                                 'levels (strides)')
            x = align_to_teacher(x, to_float32(records[level]))
        for layer in self.teacher_layers:
            x = _OPS[layer](x) if layer in _OPS else self._teacher[layer.format(level=level)](x)
        return x.float()

    def get_record_data(self, record_idx: int = 0, data_idx: Optional[int] = None):
        """The cross-head outputs of this step: record 0 is the list over the levels."""
        if self._teacher is None:
            raise RuntimeError(f'CrossHead {self.source!r} is not bound to a teacher: it works '
                               "inside DetDistill, which binds it at build")
        if record_idx != 0:
            raise ValueError(f'CrossHead {self.source!r} holds one record (the list of the '
                             f'levels), record_idx {record_idx} was asked: use data_idx for '
                             'a level')
        if self._outputs is None:
            self._outputs = [self.cross(lvl, f) for lvl, f in enumerate(self.data_buffer)]
        return self._outputs if data_idx is None else self._outputs[data_idx]
