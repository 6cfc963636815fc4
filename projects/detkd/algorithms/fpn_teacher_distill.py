"""MMRazor's FpnTeacherDistill with the safety and conveniences detection KD needs."""
import difflib
import os.path as osp
from typing import List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.utils import get_installed_path
from mmrazor.models import FpnTeacherDistill
from mmrazor.registry import MODELS


def _model_cfg(model: Union[str, dict], role: str) -> dict:
    """A detector config dict, from a dict or from a config file's ``model``: a path, or
    ``package::path`` for a config installed with a package (``mmdet::retinanet/...``)."""
    if isinstance(model, str):
        if '::' in model:
            package, rel_path = model.split('::', 1)
            model = osp.join(get_installed_path(package), '.mim', 'configs', rel_path)
        if not osp.isfile(model):
            raise FileNotFoundError(
                f'the {role} config {model!r} does not exist (paths are relative to the '
                'directory you run the tools from, usually the repository root)')
        model = Config.fromfile(model).model
    model = dict(model)
    # student and teacher are mmdet detectors, whatever the caller's default scope
    model.setdefault('_scope_', 'mmdet')
    return model


_MODULE_RECORDERS = ('ModuleOutputs', 'ModuleInputs', 'ModuleOutputsRecorder',
                     'ModuleInputsRecorder')


def _check_recorder_sources(recorders: Optional[dict], model, role: str) -> None:
    """Fail at build time, with the valid names, when a module recorder names a module the
    model does not have (MMRazor only asserts, later and without the names)."""
    names = [n for n, _ in model.named_modules() if n]
    for rec_name, rec in (recorders or {}).items():
        if rec.get('type') not in _MODULE_RECORDERS or rec['source'] in names:
            continue
        close = difflib.get_close_matches(rec['source'], names, n=5, cutoff=0.5)
        top = sorted({n.split('.')[0] for n in names})
        raise KeyError(
            f'{role} recorder {rec_name!r}: the {role} ({type(model).__name__}) has no module '
            f'{rec["source"]!r}. ' + (f'Closest names: {", ".join(close)}. ' if close else '')
            + f'Top-level modules: {", ".join(top)}; list them all with '
            'dict(model.named_modules()).keys().')


def _drop_teacher_entries(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if k.startswith(f'{prefix}teacher.')]:
        del state_dict[key]


@MODELS.register_module()
class DetFpnTeacherDistill(FpnTeacherDistill):
    """``FpnTeacherDistill`` (the teacher runs backbone + neck only, under no_grad, norm
    layers in eval mode) that cannot start from a silently random teacher.

    Args:
        architecture (str | dict): the student: an mmdet config file (its ``model`` is used)
            or a model dict.
        teacher (str | dict): the teacher, likewise.
        teacher_ckpt (str | None): the teacher's checkpoint (an mmdet checkpoint of the
            teacher config). It must exist and match the teacher exactly (strict loading:
            every missing or unexpected key is reported before training starts).
        allow_random_teacher (bool): the only way to run with ``teacher_ckpt=None`` (a
            randomly initialised teacher), e.g. for smoke tests. Defaults to False.
        inherit_teacher (Sequence[str]): prefixes of teacher parameters copied into the
            student after weight initialisation, where names and shapes match: the
            "inheriting strategy" of FGD (Yang et al. 2022), e.g. ``('neck', 'bbox_head')``.
            Empty (default) disables it.
        save_teacher (bool): keep the teacher's weights in this model's ``state_dict`` (and
            so in the checkpoints). Defaults to False: the teacher comes from its own file,
            checkpoints stay the student's size (plus the losses' own parameters), and
            loading one fills the teacher's entries from the teacher already loaded.
        on_nonfinite (str): what a NaN or infinite distillation loss does: ``'raise'``
            (default) stops training with the loss's name and the iteration; ``'skip'`` logs
            a warning and drops the distillation losses from that step (the student's own
            losses still train it).
        **kwargs: the other arguments of ``FpnTeacherDistill`` / ``SingleTeacherDistill``.
    """

    def __init__(self,
                 architecture: Union[str, dict],
                 teacher: Union[str, dict],
                 distiller: dict,
                 teacher_ckpt: Optional[str] = None,
                 allow_random_teacher: bool = False,
                 inherit_teacher: Sequence[str] = (),
                 save_teacher: bool = False,
                 on_nonfinite: str = 'raise',
                 **kwargs):
        if on_nonfinite not in ('raise', 'skip'):
            raise ValueError(f"on_nonfinite must be 'raise' or 'skip', got {on_nonfinite!r}")
        if teacher_ckpt is None and not allow_random_teacher:
            raise ValueError(
                'teacher_ckpt is None: the teacher would stay randomly initialised and '
                'distillation would teach noise. Set model.teacher_ckpt to the teacher\'s '
                'trained checkpoint (e.g. --cfg-options model.teacher_ckpt=PATH), or set '
                'model.allow_random_teacher=True if a random teacher is really intended.')
        if (teacher_ckpt is not None and '://' not in teacher_ckpt
                and not osp.isfile(teacher_ckpt)):
            raise FileNotFoundError(
                f'teacher checkpoint {teacher_ckpt!r} does not exist. Train the teacher first '
                '(python tools/train.py <teacher config>) or download its mmdet model-zoo '
                'checkpoint, and set model.teacher_ckpt to the file.')
        student = MODELS.build(_model_cfg(architecture, 'student'))
        teacher = MODELS.build(_model_cfg(teacher, 'teacher'))
        _check_recorder_sources(distiller.get('student_recorders'), student, 'student')
        _check_recorder_sources(distiller.get('teacher_recorders'), teacher, 'teacher')
        super().__init__(architecture=student, teacher=teacher, distiller=distiller,
                         teacher_ckpt=None, **kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.inherit_teacher = tuple(inherit_teacher)
        if teacher_ckpt is not None:
            self._load_teacher_strictly(teacher_ckpt)
        self.on_nonfinite = on_nonfinite
        self._check_loss_channels()
        if not save_teacher:
            self._register_state_dict_hook(_drop_teacher_entries)
            self._register_load_state_dict_pre_hook(self._fill_teacher_entries)

    @torch.no_grad()
    def _check_loss_channels(self, size: int = 64) -> None:
        """Losses that declare ``student_channels`` / ``teacher_channels`` (FGD's align
        conv is built from them) are checked against what their recorders really hold, with
        a dry run of both backbones and necks on a small input, before any training."""
        distiller = self.distiller
        declared = {name: loss for name, loss in distiller.distill_losses.items()
                    if hasattr(loss, 'student_channels') and hasattr(loss, 'teacher_channels')}
        if not declared:
            return
        modes = [(m, m.training) for m in (self.student, self.teacher)]
        try:
            self.student.eval(), self.teacher.eval()  # leave no trace in BN statistics
            x = torch.zeros(1, 3, size, size, device=next(self.student.parameters()).device)
            with distiller.student_recorders:
                self.student.extract_feat(x)
            with distiller.teacher_recorders:
                self.teacher.extract_feat(x)
            for name, loss in declared.items():
                for arg, from_student, expected, key in (
                        ('preds_S', True, loss.student_channels, 'student_channels'),
                        ('preds_T', False, loss.teacher_channels, 'teacher_channels')):
                    spec = distiller.loss_forward_mappings[name][arg]
                    feat = distiller.get_record(spec['recorder'], from_student,
                                                data_idx=spec.get('data_idx'))
                    if feat.dim() > 1 and feat.size(1) != expected:
                        who = 'student' if from_student else 'teacher'
                        idx = spec.get('data_idx')
                        where = spec['recorder'] + ('' if idx is None else f'[{idx}]')
                        raise ValueError(
                            f'{name}: the {who} recorder {where!r} '
                            f'gives {feat.size(1)} channels but the loss declares '
                            f'{key}={expected}; set {key}={feat.size(1)} in its config '
                            '(an align conv maps student to teacher channels when they differ)')
        finally:
            for module, mode in modes:
                module.train(mode)

    def _fill_teacher_entries(self, state_dict, prefix, *args) -> None:
        for key, value in self.teacher.state_dict().items():
            state_dict.setdefault(f'{prefix}teacher.{key}', value)

    def _load_teacher_strictly(self, path: str) -> None:
        ckpt = _load_checkpoint(path, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
        # checkpoints saved from a DDP wrapper
        state = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        if any(k.startswith('architecture.') for k in state):
            raise RuntimeError(
                f'teacher checkpoint {path!r} is a distillation checkpoint (its keys start '
                'with "architecture."); export the student from it first with '
                'tools/model_converters/export_student.py, or give the teacher\'s own '
                'checkpoint.')
        own = self.teacher.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        mismatched = sorted(k for k in set(own) & set(state)
                            if tuple(own[k].shape) != tuple(state[k].shape))
        if missing or unexpected or mismatched:
            def show(keys):
                return ', '.join(keys[:8]) + (f' ... ({len(keys)} in all)' if len(keys) > 8
                                              else '')
            lines = [f'teacher checkpoint {path!r} does not match the teacher model '
                     f'({type(self.teacher).__name__}); was it trained with the teacher '
                     'config of this run?']
            if missing:
                lines.append(f'  missing keys: {show(missing)}')
            if unexpected:
                lines.append(f'  unexpected keys: {show(unexpected)}')
            if mismatched:
                lines.append('  shape mismatches: ' + show(
                    [f'{k} {tuple(state[k].shape)} vs model {tuple(own[k].shape)}'
                     for k in mismatched]))
            raise RuntimeError('\n'.join(lines))
        self.teacher.load_state_dict(state, strict=True)
        # keep the loaded weights through the runner's init_weights()
        self.teacher._is_init = True
        MMLogger.get_current_instance().info(
            f'teacher: loaded {len(state)} tensors strictly from {path}')

    def loss(self, batch_inputs, data_samples=None):
        losses = super().loss(batch_inputs, data_samples)
        bad = {k: v for k, v in losses.items()
               if k.startswith('distill.') and not torch.isfinite(v).all()}
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
        return losses

    def init_weights(self) -> None:
        super().init_weights()
        if self.inherit_teacher:
            self._inherit_from_teacher()

    @torch.no_grad()
    def _inherit_from_teacher(self) -> List[str]:
        teacher_state = self.teacher.state_dict()
        student_state = self.student.state_dict()
        copied, skipped = [], []
        for name, value in teacher_state.items():
            if not name.startswith(self.inherit_teacher):
                continue
            if name in student_state and student_state[name].shape == value.shape:
                student_state[name].copy_(value)
                copied.append(name)
            else:
                skipped.append(name)
        if not copied:
            raise RuntimeError(
                f'inherit_teacher={self.inherit_teacher}: no teacher parameter with these '
                'prefixes matches the student in name and shape')
        MMLogger.get_current_instance().info(
            f'inherited {len(copied)} tensors from the teacher ({self.inherit_teacher}); '
            f'{len(skipped)} skipped for a name or shape mismatch'
            + (f': {", ".join(skipped[:6])}' if skipped else ''))
        return copied
