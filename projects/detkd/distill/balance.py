"""The balance of a distillation run, visible: ``DistillBalanceHook``.

A distillation recipe is a balance between the student's own loss and the distillation
terms, tuned by the method's authors on their dataset, class count, batch size and image
size. Moved elsewhere, a term can silently take over the student or vanish. The hook shows
the balance while training runs, and says when it is off.

Every ``interval`` iterations (a *probe*), on that step's loss dict and before its backward,
each loss term T (the per-level losses of one loss merged: ``distill.loss_fgd_fpn0..4`` ->
``distill.loss_fgd_fpn``) gets:

- its share of the total loss value, ``L_T / sum L``;
- its share of the gradient on the student's parameters, ``|g_T| / sum_U |g_U|`` with
  ``g_T = dL_T / dtheta`` (the L2 norm over the student's trainable parameters), in all and
  per top-level module of the student (backbone, neck, bbox_head, ...);

and the run gets the distillation terms' summed share (``distill``), and the cosine between
the distillation gradient and the student's own (below 0: they pull against each other).
Every iteration it reads the gradient norm that the optimizer wrapper's clipping measured
(``train/grad_norm``) and counts the steps clipped and by how much (norm / max_norm).

One line per probe goes to the log, and the figures to the visualizer's scalars
(``balance/...`` in ``vis_data/scalars.json``, which ``tools/analysis/distill_report.py``
reads). A warning is given once per term and kind, naming the term and the setting to
change, when over ``window`` probes in a row a distillation term gives more than
``dominate`` of the gradient, or less than ``negligible`` of it (a term at exactly 0, such as
an ablation's switched-off term, is left alone), and when clipping cut most steps of a
window by more than 2x.

The cost is one backward pass per term at each probe (the forward is the step's own); with
the default interval of 100 iterations it is a few per cent of the training time at most
(``tools/benchmark/benchmark.py`` measures it). The probe does not change the step: it only
reads gradients, with ``torch.autograd.grad``, and keeps the graph for the step's backward.

Distillation configs get the hook by default: ``configs/_base_/distill/det_distill.py`` sets
``distill_balance_hook``, which ``detkd.utils.load_config`` (``tools/train.py``) adds to
``custom_hooks``; ``distill_balance_hook = None`` turns it off.
"""
import re
from collections import defaultdict, deque
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor

DISTILL_PREFIX = 'distill.'


def term_name(key: str) -> str:
    """The term a loss key belongs to: trailing level digits dropped
    (``distill.loss_fgd_fpn3`` -> ``distill.loss_fgd_fpn``)."""
    return re.sub(r'\d+$', '', key)


def loss_terms(losses: Dict[str, object]) -> Dict[str, Tensor]:
    """The loss dict of a step as terms: the keys with ``loss`` (as mmengine's
    ``parse_losses`` counts them), lists summed, per-level keys merged by ``term_name``."""
    terms: Dict[str, Tensor] = {}
    for key, value in losses.items():
        if 'loss' not in key:
            continue
        if isinstance(value, Tensor):
            value = value.mean()
        else:
            value = sum(v.mean() for v in value)
        name = term_name(key)
        terms[name] = terms[name] + value if name in terms else value
    return terms


def param_groups(model: torch.nn.Module) -> Dict[str, List[torch.nn.Parameter]]:
    """The trainable parameters of a model by top-level module (``backbone``, ``neck``,
    ``bbox_head``, ...)."""
    groups: Dict[str, List[torch.nn.Parameter]] = defaultdict(list)
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups[name.split('.', 1)[0]].append(p)
    return dict(groups)


def _sq_norm(grads: Sequence[Optional[Tensor]]) -> float:
    total = 0.
    for g in grads:
        if g is not None:
            total += float(g.detach().float().pow(2).sum())
    return total


def term_gradients(terms: Dict[str, Tensor],
                   groups: Dict[str, List[torch.nn.Parameter]]) -> Tuple[dict, float]:
    """The gradient norm of each term on each parameter group (and ``'all'``), and the cosine
    between the summed gradient of the ``distill.`` terms and that of the others.

    Returns:
        tuple: ``{term: {group: norm, 'all': norm}}``, and the cosine (nan when either sum
        has no gradient).
    """
    names = list(groups)
    params = [p for n in names for p in groups[n]]
    bounds, start = {}, 0
    for n in names:
        bounds[n] = (start, start + len(groups[n]))
        start += len(groups[n])
    sums = {True: None, False: None}  # summed gradients of distill / student terms
    norms = {}
    for term, value in terms.items():
        if not (isinstance(value, Tensor) and value.requires_grad):
            norms[term] = {n: 0. for n in names + ['all']}
            continue
        grads = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
        per = {n: _sq_norm(grads[a:b]) for n, (a, b) in bounds.items()}
        norms[term] = {n: v**0.5 for n, v in per.items()}
        norms[term]['all'] = sum(per.values())**0.5
        key = term.startswith(DISTILL_PREFIX)
        if sums[key] is None:
            sums[key] = [None if g is None else g.detach().float().clone() for g in grads]
        else:
            for i, g in enumerate(grads):
                if g is not None:
                    acc = sums[key][i]
                    sums[key][i] = g.detach().float().clone() if acc is None else acc.add_(g)
    cos = float('nan')
    if sums[True] is not None and sums[False] is not None:
        dot = sum(
            float((a * b).sum()) for a, b in zip(sums[True], sums[False])
            if a is not None and b is not None)
        denom = (_sq_norm(sums[True]) * _sq_norm(sums[False]))**0.5
        if denom > 0:
            cos = dot / denom
    return norms, cos


def shares(norms: dict, group: str = 'all') -> Dict[str, float]:
    """Each term's share of the summed gradient norms of ``group``."""
    total = sum(n[group] for n in norms.values())
    return {t: (n[group] / total if total > 0 else 0.) for t, n in norms.items()}


def balance_probe(losses: Dict[str, object], model: torch.nn.Module) -> dict:
    """What the hook measures on one step's loss dict (see the module docstring).

    Returns:
        dict: ``loss_share`` and ``grad_share`` per term, ``group_share`` (the distillation
        terms' share per parameter group, and ``'all'``), ``cos`` (distillation vs student
        gradient), ``grad_norm`` per term (``'all'``) and ``groups``.
    """
    terms = loss_terms(losses)
    student = getattr(model, 'student', model)
    groups = param_groups(student)
    norms, cos = term_gradients(terms, groups)
    values = {t: float(v.detach()) for t, v in terms.items()}
    total = sum(abs(v) for v in values.values())
    distill = [t for t in terms if t.startswith(DISTILL_PREFIX)]
    group_share = {}
    for g in list(groups) + ['all']:
        s = shares(norms, g)
        group_share[g] = sum(s[t] for t in distill)
    return dict(
        loss_share={
            t: abs(v) / total if total > 0 else 0.
            for t, v in values.items()
        },
        loss_value=values,
        grad_share=shares(norms),
        group_share=group_share,
        grad_norm={
            t: n['all']
            for t, n in norms.items()
        },
        cos=cos,
        groups=list(groups))


def loss_setting(term: str) -> str:
    """The config key of a distillation term's weight."""
    name = term[len(DISTILL_PREFIX):]
    return f'model.distiller.distill_losses.{name}*.loss_weight'


@HOOKS.register_module()
class DistillBalanceHook(Hook):
    """Logs each loss term's share of the loss and of the gradient on the student, the
    clipped steps, and warns when a distillation term dominates or vanishes (see the module
    docstring of ``detkd.distill.balance``).

    Args:
        interval (int): Iterations between probes. Defaults to 100.
        window (int): Probes in a row a condition must hold before a warning. Defaults to 3.
        dominate (float): A distillation term's gradient share above which it dominates.
            Defaults to 0.8.
        negligible (float): A distillation term's gradient share below which it does
            nothing. Defaults to 0.01.
        clip_warn (float): Warn when more than half the steps of a window were clipped by
            more than this factor (norm / max_norm) on average. Defaults to 2.
    """
    priority = 'NORMAL'  # before the LoggerHook (BELOW_NORMAL) writes the iteration's line

    def __init__(self,
                 interval: int = 100,
                 window: int = 3,
                 dominate: float = 0.8,
                 negligible: float = 0.01,
                 clip_warn: float = 2.) -> None:
        if interval < 1 or window < 1:
            raise ValueError(f'DistillBalanceHook: interval and window must be >= 1, got '
                             f'{interval} and {window}')
        self.interval = interval
        self.window = window
        self.dominate = dominate
        self.negligible = negligible
        self.clip_warn = clip_warn
        self.probes: deque = deque(maxlen=window)
        self.last_probe: Optional[dict] = None
        self.warned = set()
        self._due = False
        self._model = None
        self._clip = []  # norm / max_norm of each step since the last probe
        self._clip_seen = 0

    # -- wiring: the probe runs inside the model's parse_losses, between loss and backward
    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._model = model
        original = model.parse_losses

        def parse_losses(losses):
            if self._due:
                self._due = False
                self.last_probe = balance_probe(losses, model)
            return original(losses)

        model.parse_losses = parse_losses

    def after_train(self, runner) -> None:
        if self._model is not None and 'parse_losses' in vars(self._model):
            del self._model.parse_losses

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if getattr(self._model, 'distillation_stopped', False):
            # two-stage recipes (StopDistillHook): the student's own stage has nothing to
            # balance, and its probes would dilute the distillation stage's figures
            self._due = False
            if ('stopped', ) not in self.warned:
                self.warned.add(('stopped', ))
                runner.logger.info(f'distillation stopped at epoch {runner.epoch}: the balance '
                                   "probes end here (the figures above are its stage's)")
            return
        self._due = self.every_n_train_iters(runner, self.interval)

    def _max_norm(self, runner) -> Optional[float]:
        kwargs = getattr(runner.optim_wrapper, 'clip_grad_kwargs', None) or {}
        return kwargs.get('max_norm')

    def _read_clip(self, runner) -> None:
        max_norm = self._max_norm(runner)
        if not max_norm or 'train/grad_norm' not in runner.message_hub.log_scalars:
            return
        buffer = runner.message_hub.get_scalar('train/grad_norm')
        seen = len(buffer.data[0])
        if seen != self._clip_seen:  # a new norm: this step was clipped-or-not
            self._clip_seen = seen
            self._clip.append(buffer.current() / max_norm)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._read_clip(runner)
        if self.last_probe is None:
            return
        probe, self.last_probe = self.last_probe, None
        clipped = [c for c in self._clip if c > 1]
        probe['clip_frac'] = len(clipped) / len(self._clip) if self._clip else float('nan')
        probe['clip_factor'] = sum(clipped) / len(clipped) if clipped else 1.
        probe['clip_steps'] = len(self._clip)
        self._clip = []
        self.probes.append(probe)
        self._log(runner, probe)
        self._warn(runner)

    # -- output
    def _log(self, runner, probe: dict) -> None:
        distill = [t for t in probe['grad_share'] if t.startswith(DISTILL_PREFIX)]
        terms = ', '.join(f'{t} {100 * probe["loss_share"][t]:.0f}% / '
                          f'{100 * probe["grad_share"][t]:.0f}%' for t in probe['grad_share'])
        groups = ', '.join(f'{g} {100 * probe["group_share"][g]:.0f}%' for g in probe['groups'])
        clip = ''
        if probe['clip_steps'] and probe['clip_frac'] == probe['clip_frac']:
            clip = (f'; clipped {100 * probe["clip_frac"]:.0f}% of the last '
                    f'{probe["clip_steps"]} steps' +
                    (f' (by x{probe["clip_factor"]:.1f} on average)'
                     if probe['clip_frac'] > 0 else ''))
        line = (f'balance at iter {runner.iter + 1} (loss share / gradient share): {terms}')
        if distill:
            line += (f'; distillation: {100 * probe["group_share"]["all"]:.0f}% of the '
                     f'gradient ({groups}), cos(distill, student) {probe["cos"]:+.2f}')
        runner.logger.info(line + clip)
        scalars = {f'balance/grad_share/{t}': v for t, v in probe['grad_share'].items()}
        scalars.update({f'balance/loss_share/{t}': v for t, v in probe['loss_share'].items()})
        if distill:
            scalars.update({
                f'balance/distill_share/{g}': v
                for g, v in probe['group_share'].items()
            })
            if probe['cos'] == probe['cos']:
                scalars['balance/cos'] = probe['cos']
        if probe['clip_steps']:
            scalars['balance/clip_frac'] = probe['clip_frac']
            scalars['balance/clip_factor'] = probe['clip_factor']
        runner.visualizer.add_scalars(scalars, step=runner.iter + 1)

    def _warn_once(self, runner, key, message: str) -> None:
        if key not in self.warned:
            self.warned.add(key)
            runner.logger.warning(message)

    def _warn(self, runner) -> None:
        if len(self.probes) < self.window:
            return
        probes = list(self.probes)
        span = f'the last {self.window} probes (every {self.interval} iterations)'
        for term in probes[-1]['grad_share']:
            if not term.startswith(DISTILL_PREFIX):
                continue
            s = [p['grad_share'].get(term, 0.) for p in probes]
            if all(v > self.dominate for v in s):
                self._warn_once(
                    runner, (term, 'dominates'),
                    f'{term} gives {100 * min(s):.0f}-{100 * max(s):.0f}% of the gradient on '
                    f'the student over {span}: the student\'s own loss hardly trains it. '
                    f'Its strength depends on the recipe\'s setting (classes, images per GPU, '
                    f'image size; see the loss\'s docstring); lower {loss_setting(term)} '
                    'or use the loss\'s normalisation option for this dataset.')
            values = [p['loss_value'].get(term, 0.) for p in probes]
            if all(v < self.negligible for v in s) and any(v != 0 for v in values):
                self._warn_once(
                    runner, (term, 'negligible'),
                    f'{term} gives {100 * max(s):.2f}% of the gradient on the student or '
                    f'less over {span}: it cannot change what the student learns. Raise '
                    f'{loss_setting(term)}, or check that its inputs (recorders, teacher '
                    'checkpoint) are what the method needs.')
        cut = [p for p in probes if p['clip_frac'] > 0.5 and p['clip_factor'] > self.clip_warn]
        if len(cut) == len(probes):
            factor = sum(p['clip_factor'] for p in probes) / len(probes)
            self._warn_once(
                runner, ('clip', ),
                f'gradient clipping cut most steps of {span} by x{factor:.1f} on average: '
                'the loss is far larger than the schedule was tuned for, and clipping, not '
                'the loss weights, sets the step. Check the distillation weights above, or '
                'raise optim_wrapper.clip_grad.max_norm.')
