"""The inputs of LD's terms checked, with messages that name the setting to change: the
layout of the GFL heads' outputs (levels, class and distribution channels, batch and feature
sizes) and of the student's ``GFLHead.get_targets`` (see ``ld._LDTerm``)."""
from typing import List, Optional, Sequence

from torch import Tensor


def _as_list(x) -> Optional[List[Tensor]]:
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def check_ld_inputs(term,
                    cls_scores: Optional[Sequence[Tensor]] = None,
                    bbox_preds: Optional[Sequence[Tensor]] = None,
                    teacher_cls_scores: Optional[Sequence[Tensor]] = None,
                    teacher_bbox_preds: Optional[Sequence[Tensor]] = None,
                    targets: Optional[Sequence] = None,
                    batch_gt_instances: Optional[Sequence] = None) -> None:
    """Raise ``ValueError`` naming the setting to change when the inputs do not fit:
    number of levels, class and distribution channels, batch and feature sizes, the
    layout of ``targets``. ``forward`` calls it; ``DetDistill`` calls it at build time
    with what a dry run records (there ``targets`` and ``batch_gt_instances``, recorded
    only in training, are absent; any argument may be left out)."""
    name = type(term).__name__
    maps = {
        'cls_scores': _as_list(cls_scores),
        'bbox_preds': _as_list(bbox_preds),
        'teacher_cls_scores': _as_list(teacher_cls_scores),
        'teacher_bbox_preds': _as_list(teacher_bbox_preds),
    }
    maps = {k: v for k, v in maps.items() if v is not None}
    levels = {k: len(v) for k, v in maps.items()}
    if 0 in levels.values():
        raise ValueError(f'{name}: empty list of levels ({levels}); record the GFL '
                         'head outputs, one tensor per FPN level')
    if len(set(levels.values())) > 1:
        raise ValueError(
            f'{name}: the head outputs have different numbers of FPN levels ({levels}); '
            "the student's and the teacher's bbox_head.anchor_generator.strides (and "
            'their necks\' num_outs) must match')
    for key, levels_ in maps.items():
        for lvl, x in enumerate(levels_):
            if not isinstance(x, Tensor) or x.dim() != 4:
                shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
                raise ValueError(f'{name}: {key}[{lvl}] must be an (N, C, H, W) tensor, '
                                 f'got {shape}; record the GFL head outputs')
    bins = term.reg_max + 1
    for key in ('cls_scores', 'teacher_cls_scores'):
        for lvl, x in enumerate(maps.get(key, [])):
            if term.num_classes is not None and x.size(1) != term.num_classes:
                raise ValueError(
                    f'{name}: {key}[{lvl}] has {x.size(1)} class channels, '
                    f'num_classes={term.num_classes} was set; set num_classes to the '
                    "student's bbox_head.num_classes in this loss config (the teacher "
                    'must predict the same classes)')
    for key in ('bbox_preds', 'teacher_bbox_preds'):
        for lvl, x in enumerate(maps.get(key, [])):
            if x.size(1) != 4 * bins:
                seen = (f', as reg_max={x.size(1) // 4 - 1} makes'
                        if x.size(1) % 4 == 0 and x.size(1) > 4 else '')
                raise ValueError(
                    f'{name}: {key}[{lvl}] has {x.size(1)} channels{seen}; reg_max='
                    f'{term.reg_max} expects 4 * (reg_max + 1) = {4 * bins}. Set reg_max '
                    "to the student's bbox_head.reg_max in this loss config (the "
                    "teacher's bbox_head.reg_max must be the same)")
    for s_key, t_key in (('cls_scores', 'teacher_cls_scores'),
                         ('bbox_preds', 'teacher_bbox_preds'), ('cls_scores', 'bbox_preds')):
        if s_key not in maps or t_key not in maps:
            continue
        for lvl, (s, t) in enumerate(zip(maps[s_key], maps[t_key])):
            if s.size(0) != t.size(0) or s.shape[-2:] != t.shape[-2:]:
                raise ValueError(
                    f'{name}: {s_key}[{lvl}] {tuple(s.shape)} and {t_key}[{lvl}] '
                    f'{tuple(t.shape)} differ in batch or feature size; both heads must '
                    'see the same batch with the same strides '
                    '(bbox_head.anchor_generator.strides)')
            if s_key != 'cls_scores' or t_key != 'bbox_preds':
                if s.size(1) != t.size(1):
                    raise ValueError(
                        f'{name}: {s_key}[{lvl}] has {s.size(1)} channels, {t_key}[{lvl}] '
                        f'{t.size(1)}: the teacher and the student need the same '
                        'bbox_head.num_classes and bbox_head.reg_max')
    ref = next(iter(maps.values()), None)
    if targets is not None:
        check_ld_targets(term, targets, ref)
    if batch_gt_instances is not None and ref is not None and \
            len(batch_gt_instances) != ref[0].size(0):
        raise ValueError(f'{name}: {len(batch_gt_instances)} GT instances for a batch of '
                         f'{ref[0].size(0)} images')


def check_ld_targets(term, targets: Sequence, ref: Optional[List[Tensor]]) -> None:
    name = type(term).__name__
    what = ('the tuple GFLHead.get_targets returns, (anchor_list, labels_list, '
            'label_weights_list, bbox_targets_list, bbox_weights_list, avg_factor); '
            "record the output of the student's bbox_head.get_targets")
    if not isinstance(targets, (tuple, list)) or len(targets) < 3 or not all(
            isinstance(t, (tuple, list)) for t in targets[:3]):
        raise ValueError(f'{name}: targets must be {what}, got {type(targets).__name__}')
    anchors, labels, label_weights = targets[:3]
    if not len(anchors) == len(labels) == len(label_weights):
        raise ValueError(f'{name}: targets hold {len(anchors)}, {len(labels)}, '
                         f'{len(label_weights)} levels of anchors, labels and label '
                         f'weights; targets must be {what}')
    if ref is not None and len(anchors) != len(ref):
        raise ValueError(
            f'{name}: targets have {len(anchors)} levels, the head outputs {len(ref)}; '
            "record the targets of the student's own bbox_head (same "
            'anchor_generator.strides)')
    for lvl, (a, lab, lw) in enumerate(zip(anchors, labels, label_weights)):
        if a.dim() != 3 or a.size(-1) != 4 or lab.shape != a.shape[:2] or \
                lw.shape != a.shape[:2]:
            raise ValueError(
                f'{name}: level {lvl} of targets has anchors {tuple(a.shape)}, labels '
                f'{tuple(lab.shape)}, label weights {tuple(lw.shape)}; expected (N, A, 4), '
                f'(N, A), (N, A): targets must be {what}')
        if ref is not None:
            N, _, H, W = ref[lvl].shape
            if a.shape[:2] != (N, H * W):
                raise ValueError(
                    f'{name}: level {lvl} of targets has {tuple(a.shape[:2])} (images, '
                    f'anchors) but the head outputs are {N} images of {H}x{W}; GFL needs '
                    'one anchor per location (anchor_generator ratios=[1.0], '
                    'scales_per_octave=1) and the targets of the same batch')
