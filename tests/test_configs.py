"""The configs, checked by construction: the COCO ones cannot be trained here (no COCO, no
downloads), so their settings and the models they build are asserted instead; every config
resolves as it did before the configs were laid out by role; a new pair is a few lines."""
import copy
import glob
import gzip
import json
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.testing import NO_PRETRAINED, RANDOM_TEACHER
from detkd.utils import load_config

# trainable students and teachers by family, and the methods' folders (COCO and mini pairs)
FAMILIES = ('retinanet', 'gfl', 'yolov3', 'fcos', 'solo', 'faster_rcnn', 'rtmdet')
METHODS = ('fgd', 'cwd', 'ld', 'yolov3_kd', 'ppyoloe_kd', 'pkd', 'mgd', 'fbkd', 'crosskd', 'bckd',
           'rtmdet_kd')
TRAINABLE = sorted(
    glob.glob('configs/[!_]*.py') +
    [p for f in FAMILIES + METHODS for p in glob.glob(f'configs/{f}/*.py')])


@pytest.fixture(scope='module')
def fgd_coco():
    return load_config('configs/fgd_retina_r101_r50.py')


def test_fgd_coco_recipe_is_the_seed_setting(fgd_coco):
    cfg = fgd_coco
    assert cfg.train_cfg.max_epochs == 24
    steps = [s for s in cfg.param_scheduler if s['type'] == 'MultiStepLR'][0]
    assert steps['milestones'] == [16, 22]
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)
    assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
    resize = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'RandomResize']
    assert resize and resize[0]['scale'] == [(1333, 640), (1333, 800)]
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    m = cfg.model
    assert m.type == 'DetDistill' and m.inherit_teacher == ('neck', 'bbox_head')
    # the teacher file is expanded: the run's config shows the whole teacher
    assert m.teacher.type == 'RetinaNet' and m.teacher.backbone.depth == 101
    assert m.teacher_ckpt.startswith('https://download.openmmlab.com/mmdetection/')
    assert m.architecture.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    losses = m.distiller.distill_losses
    assert len(losses) == 5
    for loss in losses.values():
        assert (loss.temp, loss.alpha_fgd, loss.beta_fgd, loss.gamma_fgd,
                loss.lambda_fgd) == (0.5, 0.001, 0.0005, 0.0005, 0.000005)


@pytest.mark.integration
def test_fgd_coco_model_builds_with_r101_teacher_and_r50_student(fgd_coco):
    model_cfg = fgd_coco.model.copy()
    model_cfg.pop('_scope_')
    model_cfg.update(teacher_ckpt=None, allow_random_teacher=True)  # no download here
    algo = MODELS.build(model_cfg)
    assert algo.teacher.backbone.depth == 101 and algo.student.backbone.depth == 50
    assert all(not p.requires_grad for p in algo.teacher.parameters())
    feats = algo.student.extract_feat(torch.zeros(1, 3, 128, 128))
    assert len(feats) == 5 and all(f.shape[1] == 256 for f in feats)


@pytest.mark.parametrize('path', TRAINABLE)
def test_every_trainable_config_is_complete(path):
    """What tools/train.py needs is there: a model, the three loops with their data, an
    optimizer, and the package import that registers our types; and nothing else at the top
    level than mmdet's own keys (no leftover wiring variables)."""
    cfg = load_config(path)
    for key in ('model', 'train_dataloader', 'train_cfg', 'val_dataloader', 'val_evaluator',
                'test_dataloader', 'optim_wrapper', 'param_scheduler', 'default_hooks'):
        assert key in cfg, f'{path} lacks {key}'
    assert 'detkd' in cfg.custom_imports.imports
    assert 'distill' not in cfg, f'{path}: the distill wiring stayed a top-level key'
    if 'teacher' in cfg.model:
        assert isinstance(cfg.model.teacher, dict) and isinstance(cfg.model.architecture, dict)


def test_base_holds_fragments_only():
    """configs/_base_/ never inherits from outside _base_/ (mmdet's own configs aside)."""
    for path in glob.glob('configs/_base_/**/*.py', recursive=True):
        for base in Config._get_base_files(path):
            if '::' in base:
                continue
            target = osp.normpath(osp.join(osp.dirname(path), base))
            assert target.startswith(osp.join('configs', '_base_', '')), (path, base)


def _normalised(cfg_dict: dict) -> dict:
    return json.loads(json.dumps(cfg_dict, sort_keys=True, default=list))


SNAPSHOT = 'tests/data/resolved_configs_a90ad0a.json'
# Intentional changes since that commit: (config, key) -> why. The rest must still match.
CHANGED_SINCE = {
    ('configs/cwd_gfl_r101vd_r50.py', 'model'):
    "the seed's own teacher: Paddle's GFL R101vd, "
    'converted (configs/gfl/gfl_r101vd_paddle_coco.py), instead of one trained here',
}


@pytest.mark.parametrize('path', sorted(json.load(open(SNAPSHOT))))
def test_config_resolves_as_before_the_layout_by_role(path):
    """Every config of commit a90ad0a (before configs were laid out by role), resolved then
    with its teacher file expanded, equals the config at its new place: same model (teacher
    included), schedule, data and runtime. Only the algorithm's name changed
    (DetFpnTeacherDistill -> DetDistill, still registered under the old name) and the wiring
    variables that used to stay at the top level are gone."""
    before = json.load(open(SNAPSHOT))[path]
    _yolov3_counts_from_the_head(before)
    after = _normalised(load_config(path).to_dict())
    # changed since: FGD's GT recorder reads the student's forward inputs, the same data
    # samples for every kind of mmdet detector (it read SingleStageDetector.loss's)
    gt = after['model'].get('distiller', {}).get('student_recorders', {}).get('gt')
    if gt and gt['source'] == 'mmdet.models.detectors.base.BaseDetector.forward':
        gt['source'] = 'mmdet.models.detectors.single_stage.SingleStageDetector.loss'
    # added since: every distillation config logs its balance (detkd.distill.balance)
    if 'teacher' in after['model']:
        hooks = after.pop('custom_hooks')
        assert hooks[-1] == dict(type='DistillBalanceHook', interval=100)
        if hooks[:-1]:
            after['custom_hooks'] = hooks[:-1]
    assert sorted(after) == sorted(before)
    for key in before:
        if (path, key) in CHANGED_SINCE:
            # only the teacher and its checkpoint changed
            a, b = dict(after[key]), dict(before[key])
            for k in ('teacher', 'teacher_ckpt'):
                a.pop(k), b.pop(k)
            assert a == b, f'{path}: {key} differs beyond its teacher'
            continue
        assert after[key] == before[key], f'{path}: {key} differs'


SNAPSHOT_ALL = 'tests/data/resolved_configs_b0d4da7.json.gz'
with gzip.open(SNAPSHOT_ALL, 'rt') as _f:
    _BEFORE_BY_METHOD = json.load(_f)


def _new_place(path: str) -> str:
    """Where a config of commit b0d4da7 is now: the same path (the seed's front doors stay),
    else the one file of that name in a folder of configs/ (the pairs moved into their
    method's folder)."""
    if osp.isfile(path):
        return path
    found = glob.glob(osp.join('configs', '*', osp.basename(path)))
    assert len(found) == 1, f'{path}: not exactly one config of that name now: {found}'
    return found[0]


def _yolov3_counts_from_the_head(cfg: dict) -> None:
    """Changed since: YOLOv3 KD reads its class and anchor counts from the student's head
    (the class count is set once, in the student and teacher configs): the losses no longer
    state the head's own num_classes and 3 anchors."""
    model = cfg['model']
    for loss in model.get('distiller', {}).get('distill_losses', {}).values():
        if loss['type'] == 'YOLOv3DistillLoss':
            assert loss.pop('num_classes') == model['architecture']['bbox_head']['num_classes']
            assert loss.pop('num_anchors', 3) == 3


@pytest.mark.parametrize('path', sorted(_BEFORE_BY_METHOD))
def test_every_config_resolves_as_before_the_layout_by_method(path):
    """Every config of commit b0d4da7 (all 68, before the pairs moved into one folder per
    method and named their teachers as ``detkd::``), resolved then, equals the config at its
    new place, and a seed front door (``configs/fgd_retina_r101_r50.py``) equals its
    method-folder config."""
    before = copy.deepcopy(_BEFORE_BY_METHOD[path])
    if before['model'].get('teacher_forward') == 'assign':
        # changed since: the algorithm names no head method; PP-YOLOE+'s fragment declares it
        before['model'].update(teacher_forward='head', teacher_head_step='assign_for_student')
    _yolov3_counts_from_the_head(before)
    new = _new_place(path)
    assert _normalised(load_config(new).to_dict()) == before, new
    moved = glob.glob(osp.join('configs', '*', osp.basename(path)))
    if new == path and path.count('/') == 1 and moved:
        assert _normalised(load_config(moved[0]).to_dict()) == before


def test_every_method_folder_has_its_readme_and_a_metafile_entry_per_config():
    """OpenMMLab's layout: each method's folder has a README and a metafile.yml listed in
    model-index.yml, whose entries name every pair config of the folder, each once, with
    files that exist."""
    import yaml
    index = yaml.safe_load(open('model-index.yml'))['Import']
    assert sorted(index) == sorted(f'configs/{m}/metafile.yml' for m in METHODS)
    for method in METHODS:
        assert osp.isfile(f'configs/{method}/README.md'), method
        meta = yaml.safe_load(open(f'configs/{method}/metafile.yml'))
        collections = {c['Name'] for c in meta.get('Collections', [])}
        configs = [m['Config'] for m in meta['Models']]
        assert sorted(configs) == sorted(glob.glob(f'configs/{method}/*.py')), method
        for model in meta['Models']:
            assert model['In Collection'] in collections, model['Name']
            for role in ('Student', 'Teacher'):
                ref = model['Metadata'][role]['Config']
                assert '::' in ref or osp.isfile(ref), (model['Name'], role, ref)


# The README's "Adding a teacher/student pair" example, run as a user would: saved as a config
# next to the others, built, and its dumped config read back.
def _readme_pair(marker='pair-example') -> str:
    text = open('README.md').read()
    match = re.search(rf'<!-- {marker} -->\n *```python\n(.*?)```', text, re.S)
    assert match, f'README lost its pair example (the <!-- {marker} --> block)'
    return '\n'.join(line[2:] if line.startswith('  ') else line
                     for line in match.group(1).splitlines()) + '\n'


@pytest.mark.integration
def test_readme_mixed_detector_pair_builds_without_inheriting():
    """The README's GFL teacher -> RetinaNet student example builds (inherit_teacher=()), and
    with FGD's default inheriting it is refused, naming the GFL head's tensors."""
    path = 'configs/_test_readme_mixed_pair.py'
    with open(path, 'w') as f:
        f.write(_readme_pair('mixed-pair-example'))
    try:
        cfg = load_config(path, {**RANDOM_TEACHER, **NO_PRETRAINED})
    finally:
        os.remove(path)
    model_cfg = cfg.model.copy()
    model_cfg.pop('_scope_')
    algo = MODELS.build(model_cfg)
    assert (type(algo.teacher).__name__, type(algo.student).__name__) == ('GFL', 'RetinaNet')
    model_cfg.inherit_teacher = ('neck', 'bbox_head')
    with pytest.raises(ValueError, match=r'only in the teacher: .*bbox_head\.gfl_cls \(2\)'):
        MODELS.build(model_cfg)


@pytest.mark.integration
def test_readme_pair_is_a_few_lines_and_builds(tmp_path):
    code = _readme_pair()
    assert len(code.strip().splitlines()) <= 8
    path = 'configs/_test_readme_pair.py'
    with open(path, 'w') as f:
        f.write(code)
    try:
        cfg = load_config(path, {**RANDOM_TEACHER, **NO_PRETRAINED})
    finally:
        os.remove(path)
    # the teacher file was expanded before the options, so they reach the teacher
    assert cfg.model.teacher.backbone.init_cfg is None
    dumped = tmp_path / 'dumped.py'
    cfg.dump(str(dumped))
    rerun = Config.fromfile(str(dumped))  # what a rerun from the work dir sees
    assert rerun.model.teacher.to_dict() == cfg.model.teacher.to_dict()
    assert rerun.model.teacher.type == 'RetinaNet'
    model_cfg = rerun.model.copy()
    model_cfg.pop('_scope_')
    algo = MODELS.build(model_cfg)
    assert type(algo).__name__ == 'DetDistill'
    assert algo.teacher.backbone.depth == 101 and algo.teacher.backbone.groups == 64
    assert algo.student.backbone.depth == 50
    assert len(algo.distiller.distill_losses) == 5


def test_demo_presets_pair_each_distillation_config_with_its_own_teacher_and_student():
    """tools/demo.py trains the preset's teacher and student and hands the teacher's
    checkpoint to the distillation config: the three must describe the same models."""
    from detkd.report import load_presets
    presets = load_presets()
    assert set(presets) == {
        'fgd', 'cwd-retina', 'cwd-gfl', 'yolov3', 'ld', 'ppyoloe', 'pkd', 'mgd', 'fbkd',
        'fgd-mixed', 'fgd-fcos', 'fgd-faster-rcnn', 'pkd-faster-rcnn', 'pkd-fcos',
        'cwd-faster-rcnn', 'fbkd-faster-rcnn', 'crosskd-gfl', 'crosskd-retina', 'bckd', 'rtmdet',
        'pkd-rtmdet', 'fgd-rtmdet'
    }
    for name, preset in presets.items():
        student = Config.fromfile(preset['student']).model
        teacher_cfg = Config.fromfile(preset['teacher'])
        teacher = teacher_cfg.model
        for path in preset['distill']:
            model = load_config(path).model
            assert model.teacher.to_dict() == dict(teacher.to_dict(), _scope_='mmdet'), name
            assert model.architecture.to_dict() == student.to_dict(), name
            # the pair's default checkpoint is where tools/train.py puts the teacher's
            teacher_name = osp.splitext(osp.basename(preset['teacher']))[0]
            last = teacher_cfg.train_cfg.max_epochs
            assert model.teacher_ckpt == f'work_dirs/{teacher_name}/epoch_{last}.pth', name


def _tool_module(name: str, path: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench_module():
    return _tool_module('bench', 'tools/benchmark/benchmark.py')


def test_benchmark_rounds_take_the_modes_in_turn_and_the_median(monkeypatch):
    """``--rounds 3``: the measurement processes run base, student, teacher, distill, base,
    ... three times; each time is the median over the rounds, each peak the largest."""
    import subprocess
    bench = _bench_module()
    calls = []

    def run(cmd, **kw):
        mode = cmd[cmd.index('--mode') + 1]
        calls.append(mode)
        n = len(calls)
        out = dict(config=cmd[2], mode=mode, peak_mb=100. + n)
        if mode != 'base':
            out['time'] = {1: 1., 2: 9., 3: 2.}[(n - 1) // 4 + 1]  # rounds: 1, 9, 2
        return subprocess.CompletedProcess(cmd, 0, json.dumps(out) + '\n', '')

    monkeypatch.setattr(bench.subprocess, 'run', run)
    (row, ) = bench.run_all(bench.parse_args(['x.py', '--rounds', '3']))
    assert calls == list(bench.MODES) * 3
    assert {
        m: row[m].get('time')
        for m in bench.MODES
    } == dict(
        base=None, student=2., teacher=2., distill=2.)
    assert row['distill']['peak_mb'] == 100. + 12 and row['base']['peak_mb'] == 100. + 9
