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
import time

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.testing import NO_PRETRAINED, RANDOM_TEACHER
from detkd.utils import load_config

# trainable students and teachers by family, and the methods' folders (COCO and mini pairs)
FAMILIES = ('retinanet', 'gfl', 'yolov3', 'fcos', 'solo', 'faster_rcnn')
METHODS = ('fgd', 'cwd', 'ld', 'yolov3_kd', 'ppyoloe_kd', 'pkd', 'mgd', 'fbkd')
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
    demo = _tool_module('demo', 'tools/demo.py')
    assert set(demo.PRESETS) == {
        'fgd', 'cwd-retina', 'cwd-gfl', 'yolov3', 'ld', 'ppyoloe', 'pkd', 'mgd', 'fbkd',
        'fgd-mixed', 'fgd-fcos', 'fgd-faster-rcnn', 'pkd-faster-rcnn', 'pkd-fcos',
        'cwd-faster-rcnn', 'fbkd-faster-rcnn'
    }
    for name, preset in demo.PRESETS.items():
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


def _report_module():
    return _tool_module('report', 'tools/analysis/distill_report.py')


def test_distill_report_trains_a_student_shared_by_two_methods_once(monkeypatch):
    """FGD and CWD RetinaNet have the same student config: both methods look for its run in
    FGD's directory (the second finds it finished and reuses it), and each method's
    distillation run goes in its own."""
    report = _report_module()
    dirs = []
    monkeypatch.setattr(report, 'train', lambda config, work_dir, *a, **k: dirs.append(work_dir))
    args = report.parse_args(
        ['--methods', 'fgd', 'cwd-retina', '--seeds', '0', '1', '--work-root', 'root'])
    for method in args.methods:
        report.run_method(method, args)
    students = [d for d in dirs if d.endswith('retinanet_r18_mini')]
    assert students == ['root/demo/retinanet_r18_mini', 'root/demo/seed1/retinanet_r18_mini'] * 2
    assert 'root/demo_cwd-retina/seed1/cwd_retina_r34_r18_mini' in dirs
    assert report.student_owner('ld') == 'ld' and report.student_owner('cwd-gfl') == 'cwd-gfl'


def test_distill_report_jobs_run_two_at_a_time_teacher_before_its_distillations(monkeypatch):
    """``--jobs 2``: two runs at a time; the teacher starts first and every distillation
    starts after it ends (the students do not wait for it); a student shared by two methods
    trains once; the results are the metrics the runs returned."""
    import threading
    report = _report_module()
    lock, log, active = threading.Lock(), [], [0, 0]

    def train(config, work_dir, label, extra=(), no_train=False):
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
            log.append(('start', work_dir))
        time.sleep(0.3 if 'retinanet_r34_mini' in work_dir else 0.1)
        with lock:
            active[0] -= 1
            log.append(('end', work_dir))
        return {'bbox_mAP': len(work_dir) / 1000}

    monkeypatch.setattr(report, 'train', train)
    monkeypatch.setattr(report, 'last_checkpoint', lambda d: osp.join(d, 'epoch_8.pth'))
    args = report.parse_args([
        '--methods', 'fgd', 'cwd-retina', '--seeds', '0', '1', '--work-root', 'root', '--jobs', '2'
    ])
    runs = report.Runs(args.jobs)
    results = [report.resolve(report.run_method(m, args, runs)) for m in args.methods]
    runs.close()
    starts = [d for e, d in log if e == 'start']
    assert active[1] == 2 and len(starts) == len(set(starts))
    teacher = 'root/retinanet_r34_mini'
    assert starts[0] == teacher
    teacher_end = log.index(('end', teacher))
    distills = [d for d in starts if 'fgd_' in d or 'cwd_' in d]
    assert len(distills) == 2 * 2 + 2  # fgd's two configs and cwd's one, two seeds
    assert all(log.index(('start', d)) > teacher_end for d in distills)
    assert sum(d.endswith('retinanet_r18_mini') for d in starts) == 2  # shared, once a seed
    assert log.index(('start', 'root/demo/retinanet_r18_mini')) < teacher_end
    cwd = results[1]['seeds'][1]
    assert cwd['student'] == ('root/demo/seed1/retinanet_r18_mini', {
        'bbox_mAP': len('root/demo/seed1/retinanet_r18_mini') / 1000
    })
    assert results[1]['teacher_ckpt'] == 'root/retinanet_r34_mini/epoch_8.pth'


def test_distill_report_reads_configs_from_several_jobs_at_once():
    """``--jobs``: the first config reads of a fresh process, from several threads at once
    (``detkd::`` bases make mmengine look the package up through pkg_resources, which is not
    thread-safe while it initialises: without the report's lock about one process in two
    failed with "'NoneType' object has no attribute 'find'"). Two fresh processes."""
    import subprocess
    import sys
    script = '''
import importlib.util, threading
spec = importlib.util.spec_from_file_location('report', 'tools/analysis/distill_report.py')
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)
out, errors = [], []
def read(c):
    try:
        out.append(report.max_epochs(c))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=read, args=(f'detkd::{m}/{m}_retina_r34_r18_mini.py', ))
           for m in ('fgd', 'cwd', 'pkd', 'mgd', 'fbkd')]
[t.start() for t in threads]
[t.join() for t in threads]
print(out, errors)
'''
    for _ in range(2):
        proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True)
        assert proc.stdout.strip().splitlines()[-1] == '[4, 4, 4, 4, 4] []', proc.stderr[-2000:]


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


def test_distill_report_puts_the_gain_next_to_the_benchmarks_cost(tmp_path):
    """``--cost``: the benchmark's JSON rows join the gains by the config's file name; the
    ratio is the benchmark's own (the probe amortised), the peak memories its distillation and
    student measurements; a config it did not measure keeps empty cost cells."""
    report = _report_module()
    bench = _bench_module()
    row = dict(
        base=dict(peak_mb=400.),
        student=dict(config='detkd::pkd/pkd_retina_r34_r18_mini.py', time=0.8, peak_mb=900.),
        teacher=dict(time=0.4, peak_mb=650.),
        distill=dict(
            config='detkd::pkd/pkd_retina_r34_r18_mini.py',
            time=1.2,
            peak_mb=1160.,
            loss_time=0.01,
            probe_time=1.2,
            probe_interval=100))
    rows = [dict(row, summary=bench.summary(row))]
    assert rows[0]['summary']['ratio'] == pytest.approx((1.2 + 0.012) / 1.2)
    (tmp_path / 'bench.json').write_text(json.dumps(rows))

    def metrics(ap):
        return {m: ap for m in report.METRICS}

    def seeds(name, pairs):
        return {
            s:
            dict(
                student=(str(tmp_path / 'none'), metrics(a)),
                **{name: (str(tmp_path / 'none'), metrics(b))})
            for s, (a, b) in enumerate(pairs)
        }

    results = [
        dict(
            method='pkd',
            teacher=metrics(.3),
            seeds=seeds('pkd_retina_r34_r18_mini', [(.15, .17), (.16, .19)])),
        dict(
            method='mgd',
            teacher=metrics(.3),
            seeds=seeds('mgd_retina_r34_r18_mini', [(.15, .14), (.16, .16)])),
    ]
    lines = report.choose_table(results, json.loads((tmp_path / 'bench.json').read_text()))
    pkd, mgd = lines.splitlines()[2:]
    assert pkd == ('| pkd | `pkd_retina_r34_r18_mini` | - | 15.5 | 18.0 | +2.5 ± 0.7 | +5.0 |  | '
                   '1.01 | 1160 / 900 | 2 |')
    assert mgd == ('| mgd | `mgd_retina_r34_r18_mini` | neck, bbox_head | 15.5 | 15.0 | '
                   '-0.5 ± 0.7 | -1.0 |  |  |  | 2 |')


def test_distill_report_resumes_from_the_last_complete_checkpoint_and_the_last_epochs_option(
        tmp_path):
    """A run killed while saving leaves a checkpoint cut short: the report resumes from the
    one before (or starts over), passing it to tools/train.py explicitly; of several
    ``train_cfg.max_epochs`` options the last one counts, as in tools/train.py."""
    import torch
    report = _report_module()
    torch.save({'meta': {}}, str(tmp_path / 'epoch_1.pth'))
    data = open(tmp_path / 'epoch_1.pth', 'rb').read()
    (tmp_path / 'epoch_2.pth').write_bytes(data[:len(data) // 2])
    assert report.last_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    (tmp_path / 'epoch_1.pth').write_bytes(data[:10])
    assert report.last_checkpoint(str(tmp_path)) is None
    opts = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'train_cfg.max_epochs=3']
    assert report.max_epochs('configs/retinanet/retinanet_r18_mini.py', opts) == 3


def test_distill_report_derives_the_student_alone_from_any_pair_config(tmp_path):
    """Given a pair config, the report's student-alone run is the pair config with ``model``
    set to ``model.architecture``: for every built-in pair it resolves to exactly the
    student config its preset names (so a user's pair gets the same fair baseline)."""
    report = _report_module()
    for name, preset in dict(report.PRESETS).items():
        student = Config.fromfile(preset['student']).to_dict()
        for pair in preset['distill']:
            derived = report.preset_from_pair(pair, str(tmp_path))
            assert Config.fromfile(derived['student']).to_dict() == student, (name, pair)
            # the teacher as an absolute path (``detkd::`` resolved), the same file
            assert osp.isabs(derived['teacher']), derived['teacher']
            assert osp.realpath(derived['teacher']) == osp.realpath(preset['teacher'])
            assert derived['distill'] == [osp.abspath(pair)]
    with pytest.raises(SystemExit, match='not a distillation config.*model.architecture'):
        report.preset_from_pair('configs/retinanet/retinanet_r18_mini.py', str(tmp_path))
    bad = tmp_path / 'bad_teacher.py'
    bad.write_text(f"_base_ = '{osp.abspath('configs/cwd/cwd_retina_r34_r18_mini.py')}'\n"
                   "model = dict(teacher='configs/retinanet/retinanet_r343_mini.py')\n")
    with pytest.raises(SystemExit, match="model.teacher = 'configs/retinanet/retinanet_r343"):
        report.preset_from_pair(str(bad), str(tmp_path))
    # a teacher from mmdet's zoo, as the README's pair example names it
    zoo = tmp_path / 'zoo_teacher.py'
    zoo.write_text(f"_base_ = '{osp.abspath('configs/cwd/cwd_retina_r34_r18_mini.py')}'\n"
                   "model = dict(teacher='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py')\n")
    teacher = report.preset_from_pair(str(zoo), str(tmp_path))['teacher']
    assert teacher.endswith('.mim/configs/retinanet/retinanet_r50_fpn_1x_coco.py')
    assert osp.isfile(teacher)


def test_distill_report_evaluates_a_pairs_trained_teacher_and_trains_a_missing_one(
        tmp_path, monkeypatch):
    """A pair whose teacher_ckpt exists: the teacher is evaluated once (not trained) and that
    checkpoint goes to the distillation run; one whose teacher_ckpt does not exist: the
    teacher config is trained under --work-root and its last checkpoint is used."""
    report = _report_module()
    base = osp.abspath('configs/cwd/cwd_retina_r34_r18_mini.py')
    ckpt = tmp_path / 'teacher.pth'
    ckpt.write_bytes(b'')
    pairs = {}
    for name, teacher_ckpt in (('with_ckpt', str(ckpt)), ('without', str(tmp_path / 'no.pth'))):
        pairs[name] = tmp_path / f'{name}.py'
        pairs[name].write_text(f"_base_ = '{base}'\nmodel = dict(teacher_ckpt='{teacher_ckpt}')\n")
    calls = []
    monkeypatch.setattr(
        report,
        'train',
        lambda config, work_dir, label, extra=(), *a, **k: calls.append(
            ('train', config, work_dir, list(extra))))
    monkeypatch.setattr(report, 'evaluate', lambda config, c, work_dir, *a, **k: calls.append(
        ('evaluate', config, c)))
    monkeypatch.setattr(report, 'last_checkpoint', lambda d: osp.join(d, 'epoch_8.pth'))
    root = str(tmp_path / 'root')
    monkeypatch.setitem(report.PRESETS, 'with_ckpt',
                        report.preset_from_pair(str(pairs['with_ckpt']), root))
    monkeypatch.setitem(report.PRESETS, 'without',
                        report.preset_from_pair(str(pairs['without']), root))
    args = report.parse_args([str(pairs['with_ckpt']), '--seeds', '0', '--work-root', root])
    assert args.pairs and args.methods is None

    report.run_method('with_ckpt', args)
    assert calls[0][0] == 'evaluate' and calls[0][2] == str(ckpt)
    assert osp.realpath(calls[0][1]) == osp.realpath('configs/retinanet/retinanet_r34_mini.py')
    student, distill = calls[1:]
    assert student[1] == osp.join(osp.abspath(root), 'pairs', 'with_ckpt_student.py')
    assert distill[1] == str(pairs['with_ckpt']) and f'model.teacher_ckpt={ckpt}' in distill[3]

    calls.clear()
    report.run_method('without', args)
    teacher_dir = osp.join(root, 'retinanet_r34_mini')
    assert calls[0][0] == 'train' and calls[0][2] == teacher_dir
    assert osp.realpath(calls[0][1]) == osp.realpath('configs/retinanet/retinanet_r34_mini.py')
    assert f'model.teacher_ckpt={teacher_dir}/epoch_8.pth' in calls[2][3]


def test_report_methods_come_from_the_metafiles_and_a_method_has_one_pair(tmp_path):
    """The report's built-in methods are the metafiles' mini entries grouped by
    Metadata.Report, in model-index order; an entry that names another teacher or student
    than its method's first one is refused with both."""
    report = _report_module()
    assert list(report.PRESETS)[:4] == ['fgd', 'fgd-fcos', 'fgd-mixed', 'fgd-faster-rcnn']
    assert report.PRESETS['yolov3']['distill'][0] == (
        'configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py')
    (tmp_path / 'model-index.yml').write_text('Import:\n- m/metafile.yml\n')
    (tmp_path / 'm').mkdir()
    entry = ('- Name: {n}\n  Config: configs/m/{n}.py\n  Metadata:\n    Report: mine\n'
             '    Student: {{Config: s.py}}\n    Teacher: {{Config: {t}}}\n')
    (tmp_path / 'm' / 'metafile.yml').write_text('Models:\n' + entry.format(n='a', t='t.py') +
                                                 entry.format(n='b', t='t2.py'))
    with pytest.raises(ValueError, match=r'b is in method mine but names another teacher'):
        report.load_presets(str(tmp_path))
