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
from mmrazor.models.utils import add_prefix
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
    layers in eval mode) that cannot start from a silently random teacher, and whose
    teacher can also run its head when a loss needs the head's outputs.

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
        teacher_forward (str): what the teacher runs: ``'neck'`` (default), backbone and
            neck (``extract_feat``), as ``FpnTeacherDistill``; ``'head'``, the head's
            forward too (the detector's ``_forward``: raw head outputs, no loss, no
            post-processing), for losses on the teacher's logits (e.g. GFL's
            ``bbox_head.gfl_cls``).
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
                 teacher_forward: str = 'neck',
                 **kwargs):
        if teacher_forward not in ('neck', 'head'):
            raise ValueError(
                f"teacher_forward must be 'neck' or 'head', got {teacher_forward!r}")
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
            how = (f'tools/train.py {osp.relpath(teacher)}'
                   if isinstance(teacher, str) and '::' not in teacher
                   else 'tools/train.py <teacher config>')
            raise FileNotFoundError(
                f'teacher checkpoint {teacher_ckpt!r} does not exist. Train the teacher first '
                f'(python {how}; bash tools/dist_train.sh with the same config for several '
                'GPUs) or download its mmdet model-zoo checkpoint, and set '
                'model.teacher_ckpt to the file.')
        student = MODELS.build(_model_cfg(architecture, 'student'))
        teacher = MODELS.build(_model_cfg(teacher, 'teacher'))
        _check_recorder_sources(distiller.get('student_recorders'), student, 'student')
        _check_recorder_sources(distiller.get('teacher_recorders'), teacher, 'teacher')
        super().__init__(architecture=student, teacher=teacher, distiller=distiller,
                         teacher_ckpt=None, **kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_forward = teacher_forward
        self.inherit_teacher = tuple(inherit_teacher)
        if teacher_ckpt is not None:
            self._load_teacher_strictly(teacher_ckpt)
        self.on_nonfinite = on_nonfinite
        self._check_loss_inputs()
        if not save_teacher:
            self._register_state_dict_hook(_drop_teacher_entries)
            self._register_load_state_dict_pre_hook(self._fill_teacher_entries)

    def _run_teacher(self, batch_inputs: torch.Tensor):
        """The teacher's part of a step: ``extract_feat``, or ``_forward`` (head too)."""
        if self.teacher_forward == 'head':
            return self.teacher._forward(batch_inputs)
        return self.teacher.extract_feat(batch_inputs)

    @torch.no_grad()
    def _check_loss_inputs(self, size: int = 256) -> None:
        """Before any training, a dry run of both models (student: backbone, neck and head;
        teacher: what ``teacher_forward`` runs) on one image of ``size`` pixels (P7 is then
        2x2, which a GroupNorm of one channel per group needs) checks what every loss
        mapping will get: a teacher record that stays empty (a module the teacher never
        runs), an index out of range, channels that differ from what a loss declares
        (``student_channels`` / ``teacher_channels``, e.g. FGD's align conv), and
        ``preds_S`` / ``preds_T`` of different shapes for the other losses (CWD needs an
        align connector then). Student records filled only by ``loss()`` (its inputs,
        e.g. the GT) are left to training."""
        distiller = self.distiller
        modules = (self.student, self.teacher, distiller)
        modes = [(m, m.training) for m in modules]
        try:
            for m in modules:  # leave no trace in BN statistics
                m.eval()
            x = torch.zeros(1, 3, size, size, device=next(self.student.parameters()).device)
            with distiller.student_recorders:
                self.student._forward(x)
            with distiller.teacher_recorders:
                self._run_teacher(x)
            for name, mapping in distiller.loss_forward_mappings.items():
                got = {}
                for arg, spec in mapping.items():
                    got[arg] = self._dry_record(name, arg, spec)
                self._check_shapes(name, mapping, got, size)
        finally:
            for module, mode in modes:
                module.train(mode)

    def _dry_record(self, name: str, arg: str, spec: dict):
        distiller = self.distiller
        from_student = spec['from_student']
        who = 'student' if from_student else 'teacher'
        managers = distiller.student_recorders if from_student else distiller.teacher_recorders
        recorder = managers.get_recorder(spec['recorder'])
        buffer = recorder.data_buffer
        record_idx = spec.get('record_idx', 0)
        if record_idx >= len(buffer):
            if from_student:
                return None  # e.g. the inputs of the student's loss(): filled in training
            runs = ('backbone and neck' if self.teacher_forward == 'neck' else
                    'backbone, neck and head forward')
            hint = (" If it is in the head, set model.teacher_forward='head'."
                    if self.teacher_forward == 'neck' else '')
            raise ValueError(
                f'{name}.{arg}: the teacher recorder {spec["recorder"]!r} '
                f'({recorder.source}) holds {len(buffer)} record(s), record_idx {record_idx} '
                f'was asked. The teacher runs {runs} (teacher_forward='
                f'{self.teacher_forward!r}), so this module never runs or runs fewer '
                f'times.{hint}')
        data_idx = spec.get('data_idx')
        record = buffer[record_idx]
        if data_idx is not None and (not isinstance(record, (list, tuple))
                                     or data_idx >= len(record)):
            size = len(record) if isinstance(record, (list, tuple)) else 'a single tensor'
            raise ValueError(
                f'{name}.{arg}: data_idx {data_idx} is out of range for the {who} recorder '
                f'{spec["recorder"]!r} ({recorder.source}), whose record holds {size}')
        return distiller.get_record(**spec)

    @staticmethod
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

    def _check_shapes(self, name: str, mapping: dict, got: dict, size: int) -> None:
        loss = self.distiller.distill_losses[name]
        if hasattr(loss, 'student_channels') and hasattr(loss, 'teacher_channels'):
            for arg, key in (('preds_S', 'student_channels'), ('preds_T', 'teacher_channels')):
                feat, expected = got.get(arg), getattr(loss, key)
                if isinstance(feat, torch.Tensor) and feat.dim() > 1 and \
                        feat.size(1) != expected:
                    who = 'student' if arg == 'preds_S' else 'teacher'
                    raise ValueError(
                        f'{name}: the {who} recorder {self._where(mapping[arg])!r} '
                        f'gives {feat.size(1)} channels but the loss declares '
                        f'{key}={expected}; set {key}={feat.size(1)} in its config '
                        '(an align conv maps student to teacher channels when they differ)')
            return
        s, t = got.get('preds_S'), got.get('preds_T')
        if isinstance(s, torch.Tensor) and isinstance(t, torch.Tensor) and s.shape != t.shape:
            hint = ''
            if s.dim() == 4 and s.shape[2:] == t.shape[2:]:
                hint = (f' Map the student to the teacher\'s channels with a connector, e.g. '
                        f"connectors=dict(s_align=dict(type='AlignNormConnector', "
                        f'in_channel={s.size(1)}, out_channel={t.size(1)}, '
                        "normalize=False)) and connector='s_align' in preds_S.")
            raise ValueError(
                f'{name}: preds_S ({self._where(mapping["preds_S"])}) has shape '
                f'{tuple(s.shape)} but preds_T ({self._where(mapping["preds_T"])}) has '
                f'{tuple(t.shape)} (dry run on a {size}x{size} input).' + hint)

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
            def show(keys, limit=8):
                return ', '.join(keys[:limit]) + (
                    f' ... ({len(keys)} in all)' if len(keys) > limit else '')

            def by_module(keys):
                # a tensor's module name and how many of its tensors: short, and it shows
                # where the two models differ (a whole head, a renamed layer, ...)
                counts = {}
                for k in keys:
                    module = k.rsplit('.', 1)[0]
                    counts[module] = counts.get(module, 0) + 1
                return show([f'{m} ({n})' for m, n in counts.items()], limit=16) + (
                    f' [{len(keys)} tensors]')
            lines = [f'teacher checkpoint {path!r} does not match the teacher model '
                     f'({type(self.teacher).__name__}); was it trained with the teacher '
                     'config of this run?']
            if missing:
                lines.append(f'  missing (module, tensors): {by_module(missing)}')
            if unexpected:
                lines.append(f'  unexpected (module, tensors): {by_module(unexpected)}')
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
        """``FpnTeacherDistill.loss`` with the teacher running ``teacher_forward``, and the
        check of the distillation losses for NaN / inf."""
        distiller = self.distiller
        # deliveries record the teacher's data first, then override the student's
        distiller.set_deliveries_override(False)
        with distiller.teacher_recorders, distiller.deliveries:
            if self.teacher_trainable:
                self._run_teacher(batch_inputs)
            else:
                with torch.no_grad():
                    self._run_teacher(batch_inputs)
        distiller.set_deliveries_override(True)
        with distiller.student_recorders, distiller.deliveries:
            student_losses = self.student(batch_inputs, data_samples, mode='loss')
        losses = add_prefix(student_losses, 'student')
        if not self.distillation_stopped:
            losses.update(add_prefix(distiller.compute_distill_losses(), 'distill'))

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
