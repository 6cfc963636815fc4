"""RTMDet's distillation on mmdet 3.3: the pair configs against mmyolo's published ones (the
differences listed), the teacher checkpoint layout of mmdet's model zoo loading strictly (and
mmyolo's refused), the two-stage recipe (no teacher forward and no distillation term after
the stop epoch, across a resume), and the mini pair."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.testing import build_pair
from detkd.utils import load_config

SIZES = {
    'tiny': (0.167, 0.375, 96),
    's': (0.33, 0.5, 128),
    'm': (0.67, 0.75, 192),
    'l': (1.0, 1.0, 256),
    'x': (1.33, 1.25, 320)
}
PAIRS = [('tiny', 's'), ('s', 'm'), ('m', 'l'), ('l', 'x')]


def mmyolo_distiller(cs: int, ct: int) -> dict:
    """mmyolo's resolved distiller of configs/rtmdet/distillation/kd_<s>_rtmdet_<t>_neck_300e_
    coco.py (v0.6.0; mmyolo does not import on mmcv 2.1, so its config is transcribed here, as
    data): recorders on neck.out_layers.i.conv, ConvModuleConnector / NormConnector with an
    affine-free BN without running statistics, ChannelWiseDivergence (weight 1) per level."""
    norm = dict(type='BN', affine=False, track_running_stats=False)
    rec = {
        f'fpn{i}': dict(type='ModuleOutputs', source=f'neck.out_layers.{i}.conv')
        for i in range(3)
    }
    conn = {}
    for i in range(3):
        conn[f'fpn{i}_s'] = dict(
            type='ConvModuleConnector',
            in_channel=cs,
            out_channel=ct,
            bias=False,
            norm_cfg=norm,
            act_cfg=None)
        conn[f'fpn{i}_t'] = dict(type='NormConnector', in_channels=ct, norm_cfg=norm)
    return dict(
        type='ConfigurableDistiller',
        student_recorders=rec,
        teacher_recorders=copy.deepcopy(rec),
        connectors=conn,
        distill_losses={
            f'loss_fpn{i}': dict(type='ChannelWiseDivergence', loss_weight=1)
            for i in range(3)
        },
        loss_forward_mappings={
            f'loss_fpn{i}':
            dict(
                preds_S=dict(from_student=True, recorder=f'fpn{i}', connector=f'fpn{i}_s'),
                preds_T=dict(from_student=False, recorder=f'fpn{i}', connector=f'fpn{i}_t'))
            for i in range(3)
        })


def _plain(x):
    return copy.deepcopy(x.to_dict() if hasattr(x, 'to_dict') else x)


@pytest.mark.parametrize('student, teacher', PAIRS)
def test_the_distiller_is_mmyolos_on_mmdets_module_names(student, teacher):
    """The one difference in the distiller: mmdet's CSPNeXtPAFPN calls the output convs
    out_convs where mmyolo's calls them out_layers (the same ConvModule, the same raw conv)."""
    cfg = load_config(f'configs/rtmdet_kd/kd_{student}_rtmdet_{teacher}_neck_300e_coco.py')
    ours = _plain(cfg.model.distiller)
    theirs = mmyolo_distiller(SIZES[student][2], SIZES[teacher][2])
    for side in ('student_recorders', 'teacher_recorders'):
        for rec in theirs[side].values():
            rec['source'] = rec['source'].replace('out_layers', 'out_convs')
    assert ours == theirs


@pytest.mark.parametrize('student, teacher', PAIRS)
def test_pairs_are_mmdets_rtmdets_with_the_published_schedule(student, teacher):
    """Student and teacher are mmdet's own RTMDet configs at mmyolo's sizes; the student's
    300-epoch recipe, its EMA and pipeline switch at 280, and the distillation stopping at 280
    (mmyolo's hooks); the teacher checkpoint is mmdet's model zoo's."""
    cfg = load_config(f'configs/rtmdet_kd/kd_{student}_rtmdet_{teacher}_neck_300e_coco.py')
    m = cfg.model
    for role, size in (('architecture', student), ('teacher', teacher)):
        deepen, widen, width = SIZES[size]
        assert (m[role].type, m[role].backbone.deepen_factor, m[role].backbone.widen_factor,
                m[role].neck.out_channels) == ('RTMDet', deepen, widen, width), role
    assert m.type == 'DetDistill' and m.get('teacher_forward', 'neck') == 'neck'
    assert m.teacher_ckpt.startswith(
        f'https://download.openmmlab.com/mmdetection/v3.0/rtmdet/rtmdet_{teacher}_8xb32-300e')
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=0.004, weight_decay=0.05)
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['EMAHook']['momentum'] == 0.0002
    assert hooks['PipelineSwitchHook']['switch_epoch'] == 280
    assert hooks['mmrazor.StopDistillHook']['stop_epoch'] == 280
    assert cfg.find_unused_parameters


def _zoo_layout_checkpoint(tmp_path, teacher_cfg: str, rename=None):
    """A checkpoint as mmdet's model zoo publishes RTMDet's: {'meta', 'state_dict'} with the
    detector's own keys (mmdet 3.x trained it with this very class), random values;
    ``rename`` maps key prefixes (e.g. mmdet -> mmyolo)."""
    model_cfg = Config.fromfile(teacher_cfg).model
    model_cfg.backbone.init_cfg = None
    model_cfg._scope_ = 'mmdet'
    state = MODELS.build(model_cfg).state_dict()
    for old, new in (rename or {}).items():
        state = {(new + k[len(old):] if k.startswith(old) else k): v for k, v in state.items()}
    path = tmp_path / 'rtmdet_zoo.pth'
    torch.save(dict(meta=dict(mmdet_version='3.0.0rc0'), state_dict=state), path)
    return str(path), state


def test_mmdets_zoo_layout_loads_strictly_and_mmyolos_is_refused(tmp_path):
    """The published teacher of the tiny <- s pair: the keys of mmdet's layout (the module
    families mmyolo's rtmdet_to_mmyolo.py renames: neck.reduce_layers, top_down_blocks,
    downsamples, bottom_up_blocks, out_convs; bbox_head.cls_convs / reg_convs / rtm_cls /
    rtm_reg) load into the teacher the pair builds; mmyolo's layout fails before training
    with the modules that differ."""
    teacher = 'mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py'
    from detkd.utils.config import config_path
    path, state = _zoo_layout_checkpoint(tmp_path, config_path(teacher))
    for family in ('neck.reduce_layers.0.', 'neck.top_down_blocks.1.', 'neck.downsamples.0.',
                   'neck.bottom_up_blocks.0.', 'neck.out_convs.2.', 'bbox_head.cls_convs.0.',
                   'bbox_head.rtm_cls.2.', 'bbox_head.rtm_reg.0.'):
        assert any(k.startswith(family) for k in state), family
    options = {
        'model.teacher_ckpt': path,
        'model.allow_random_teacher': False,
        'model.teacher.backbone.init_cfg': None,
        'model.architecture.backbone.init_cfg': None
    }
    cfg = load_config('configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_300e_coco.py', options)
    model = cfg.model.copy()
    model.pop('_scope_')
    algo = MODELS.build(model)
    loaded = algo.teacher.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    mmyolo, _ = _zoo_layout_checkpoint(tmp_path, config_path(teacher), {
        'neck.out_convs': 'neck.out_layers',
        'bbox_head.': 'bbox_head.head_module.'
    })
    model.teacher_ckpt = mmyolo
    with pytest.raises(RuntimeError, match=r'(?s)missing .*an mmyolo checkpoint'):
        MODELS.build(model)


# -- the two-stage recipe -------------------------------------------------------------------


@pytest.fixture(scope='module')
def mini_pair():
    return build_pair('configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py')


def _samples():
    from test_fgd_pairs import _samples as samples
    return samples()


def test_after_the_stop_no_teacher_forward_and_no_distillation_term(mini_pair, monkeypatch):
    cfg, algo = mini_pair
    calls = []
    original = algo.teacher.extract_feat
    monkeypatch.setattr(algo.teacher, 'extract_feat', lambda x: calls.append(1) or original(x))
    x = torch.randn(2, 3, 256, 256)
    before = algo.loss(x, _samples())
    assert len(calls) == 1 and {f'distill.loss_fpn{i}' for i in range(3)} <= set(before)
    algo.distillation_stopped = True
    try:
        after = algo.loss(x, _samples())
    finally:
        algo.distillation_stopped = False
    assert len(calls) == 1, 'the teacher ran after the stop'
    assert not [k for k in after if k.startswith('distill.')]
    assert {'student.loss_cls', 'student.loss_bbox'} <= set(after)


def test_the_stop_hook_stops_at_the_configured_epoch_and_again_after_a_resume(mini_pair):
    """MMRazor's StopDistillHook sets the flag before the stop epoch's first iteration (not
    before), and sets it again when a run resumes past it (the flag is no state)."""
    from types import SimpleNamespace

    from mmrazor.engine.hooks import StopDistillHook
    cfg, algo = mini_pair
    (stop, ) = [h for h in cfg.custom_hooks if h['type'] == 'mmrazor.StopDistillHook']
    assert stop['stop_epoch'] == 10 == cfg.train_cfg.max_epochs - 2
    hook = StopDistillHook(stop_epoch=stop['stop_epoch'])
    import logging
    for epoch, stopped in ((9, False), (10, True)):
        algo.distillation_stopped = False
        runner = SimpleNamespace(epoch=epoch, model=algo, logger=logging.getLogger('t'))
        hook.before_train_epoch(runner)
        assert algo.distillation_stopped is stopped
    algo.distillation_stopped = False
    # a run resumed at epoch 11: a fresh model, the flag at its default
    hook.before_train_epoch(SimpleNamespace(epoch=11, model=algo, logger=logging.getLogger('t')))
    assert algo.distillation_stopped
    algo.distillation_stopped = False


def test_the_balance_hook_stops_probing_with_the_distillation(mini_pair):
    from types import SimpleNamespace

    from detkd.distill.balance import DistillBalanceHook
    cfg, algo = mini_pair
    hook = DistillBalanceHook(interval=1)
    hook._model = algo
    logs = []
    runner = SimpleNamespace(iter=0, epoch=10, logger=SimpleNamespace(info=logs.append))
    hook.before_train_iter(runner, 0)
    assert hook._due
    algo.distillation_stopped = True
    try:
        hook.before_train_iter(runner, 0)
    finally:
        algo.distillation_stopped = False
    assert not hook._due and 'distillation stopped at epoch 10' in logs[0]


def test_mini_rtmdet_pair_keeps_rtmdets_structure(mini_pair):
    cfg, algo = mini_pair
    for model, width in ((algo.student, 96), (algo.teacher, 128)):
        assert type(model).__name__ == 'RTMDet'
        assert type(model.backbone).__name__ == 'CSPNeXt'
        assert type(model.neck).__name__ == 'CSPNeXtPAFPN' and model.neck.out_channels == width
        assert type(model.bbox_head).__name__ == 'RTMDetSepBNHead'
        assert type(model.bbox_head.assigner).__name__ == 'DynamicSoftLabelAssigner'
    switch = [h for h in cfg.custom_hooks if h['type'] == 'PipelineSwitchHook'][0]
    assert switch['switch_epoch'] == 10
    assert not any(t['type'] in ('CachedMosaic', 'CachedMixUp') for t in switch['switch_pipeline'])


@pytest.mark.integration
def test_a_run_resumed_past_the_stop_epoch_trains_the_student_alone(tmp_path):
    """Two epochs of 4 images, the distillation stopping at epoch 1: trained through, then
    resumed from the first epoch's checkpoint in a fresh process. Both times the second epoch
    logs no distillation term (the resumed run stops again before its first epoch) and the
    first logs them."""
    import json
    import os
    import subprocess
    import sys
    opts = [
        'model.teacher_ckpt=None', 'model.allow_random_teacher=True',
        'train_dataloader.dataset.indices=4', 'val_dataloader.dataset.indices=2',
        'train_cfg.max_epochs=2', 'train_cfg.val_interval=2', 'custom_hooks.1.switch_epoch=1',
        'custom_hooks.2.stop_epoch=1', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=2'
    ]
    work = tmp_path / 'kd'
    cmd = [
        sys.executable, 'tools/train.py', 'configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py',
        '--work-dir',
        str(work), '--cfg-options', *opts
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')

    def epochs_with_distill_terms():
        rows = []
        for path in sorted(work.glob('*/vis_data/scalars.json'))[-1:]:
            rows = [json.loads(line) for line in open(path)]
        return {r['epoch']: any(k.startswith('distill.') for k in r) for r in rows if 'epoch' in r}

    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert epochs_with_distill_terms() == {1: True, 2: False}
    os.remove(work / 'epoch_2.pth')
    proc = subprocess.run(
        cmd + ['--resume', str(work / 'epoch_1.pth')], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Distillation has been stopped!' in proc.stdout + proc.stderr
    assert epochs_with_distill_terms() == {2: False}
