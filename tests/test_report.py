"""``detkd.report`` without training: which runs a report plans and where (students and teachers
shared), its tables, the teacher's margin and its warning, the compute-matched student, the
results JSON; and the command's resumption helpers."""
import json
import os.path as osp
import threading
import time

import pytest
from mmengine.config import Config

import detkd  # noqa: F401
from detkd.report import Report, load_presets, parse_args, preset_from_pair
from detkd.report.report import scaled_schedule
from detkd.report.runs import last_checkpoint, max_epochs
from detkd.report.stats import margin_threshold, teacher_margin
from detkd.report.tables import choose_table, margin_lines

PRESETS = load_presets()


def _metrics(ap):
    return {
        m: ap
        for m in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m',
                  'bbox_mAP_l')
    }


def _fake(log, lock=None, delay=0.):
    """A trainer and an evaluator that record what they were asked to run."""
    lock = lock or threading.Lock()

    def trainer(config, work_dir, label, extra=(), no_train=False):
        with lock:
            log.append(('train', config, work_dir, list(extra)))
        time.sleep(delay(work_dir) if callable(delay) else delay)
        return _metrics(len(work_dir) / 1000)

    def evaluator(config, ckpt, work_dir, label, extra=(), no_train=False):
        with lock:
            log.append(('evaluate', config, work_dir, ckpt))
        return _metrics(0.5)

    return dict(trainer=trainer, evaluator=evaluator)


def test_a_student_shared_by_two_builtin_methods_trains_once_a_seed(monkeypatch):
    """FGD and CWD RetinaNet have the same student config: both use its runs in FGD's
    directory, each method's distillation runs go in its own."""
    monkeypatch.setattr('detkd.report.report.last_checkpoint', lambda d: osp.join(d, 'e.pth'))
    log = []
    args = parse_args(
        ['--methods', 'fgd', 'cwd-retina', '--seeds', '0', '1', '--work-root', 'root'], PRESETS)
    Report(args, PRESETS, **_fake(log)).run()
    dirs = [d for _, _, d, _ in log]
    students = [d for d in dirs if d.endswith('retinanet_r18_mini')]
    assert students == ['root/demo/retinanet_r18_mini', 'root/demo/seed1/retinanet_r18_mini']
    assert 'root/demo_cwd-retina/seed1/cwd_retina_r34_r18_mini' in dirs
    report = Report(args, PRESETS)
    assert report.student_owner('ld') == 'ld' and report.student_owner('crosskd-gfl') == 'ld'
    assert report.student_owner('bckd') == 'ld' and report.student_owner('pkd') == 'fgd'


def test_jobs_run_two_at_a_time_teacher_before_its_distillations(monkeypatch):
    """``--jobs 2``: two runs at a time; the teacher starts first and every distillation
    starts after it ends (the students do not wait for it)."""
    monkeypatch.setattr('detkd.report.report.last_checkpoint', lambda d: osp.join(d, 'e.pth'))
    lock, log, active = threading.Lock(), [], [0, 0]
    fake = _fake([], lock)

    def trainer(config, work_dir, *a, **k):
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
            log.append(('start', work_dir))
        time.sleep(0.3 if 'retinanet_r34_mini' in work_dir else 0.1)
        with lock:
            active[0] -= 1
            log.append(('end', work_dir))
        return _metrics(len(work_dir) / 1000)

    args = parse_args([
        '--methods', 'fgd', 'cwd-retina', '--seeds', '0', '1', '--work-root', 'root', '--jobs', '2'
    ], PRESETS)
    results = Report(args, PRESETS, trainer=trainer, evaluator=fake['evaluator']).run()
    starts = [d for e, d in log if e == 'start']
    assert active[1] == 2 and len(starts) == len(set(starts))
    teacher = 'root/retinanet_r34_mini'
    assert starts[0] == teacher
    teacher_end = log.index(('end', teacher))
    distills = [d for d in starts if 'fgd_' in d or 'cwd_' in d]
    assert len(distills) == 2 * 2 + 2  # fgd's two configs and cwd's one, two seeds
    assert all(log.index(('start', d)) > teacher_end for d in distills)
    assert log.index(('start', 'root/demo/retinanet_r18_mini')) < teacher_end
    assert results[1]['seeds'][1]['student'][0] == 'root/demo/seed1/retinanet_r18_mini'
    assert results[1]['teacher_ckpt'] == 'root/retinanet_r34_mini/e.pth'


def _pair(tmp_path, name, base, **model):
    text = f"_base_ = '{osp.abspath(base)}'\n"
    if model:
        text += f'model = dict({", ".join(f"{k}={v!r}" for k, v in model.items())})\n'
    path = tmp_path / f'{name}.py'
    path.write_text(text)
    return str(path)


def test_user_pairs_with_the_same_student_share_its_runs_and_their_teacher(tmp_path):
    """Two pair configs of other names with the same resolved student (PKD and CWD on the
    RetinaNet R18 student) train the student alone once a seed, in ``students/``; their
    teacher checkpoint is evaluated once; the distillations go in ``<pair>/seed<s>`` (no
    ``demo_``), with the teacher checkpoint given."""
    ckpt = tmp_path / 'teacher.pth'
    ckpt.write_bytes(b'')
    a = _pair(
        tmp_path, 'mine_pkd', 'configs/pkd/pkd_retina_r34_r18_mini.py', teacher_ckpt=str(ckpt))
    b = _pair(
        tmp_path, 'mine_cwd', 'configs/cwd/cwd_retina_r34_r18_mini.py', teacher_ckpt=str(ckpt))
    c = _pair(
        tmp_path, 'mine_other', 'configs/cwd/cwd_retina_r34_r18_mini.py', teacher_ckpt=str(ckpt))
    root = str(tmp_path / 'root')
    log = []
    args = parse_args([a, b, c, '--seeds', '0', '1', '2', '--work-root', root], PRESETS)
    report = Report(args, PRESETS, **_fake(log))
    assert report.methods == ['mine_pkd', 'mine_cwd', 'mine_other']
    students = {report.presets[m]['student'] for m in report.methods}
    assert len(students) == 1 and osp.dirname(students.pop()) == osp.join(root, 'students')
    report.run()
    trained = [d for kind, _, d, _ in log if kind == 'train']
    student_runs = [d for d in trained if '/students/' in d]
    assert sorted(student_runs) == [
        osp.join(root, 'students', f'RetinaNet-{k}', f'seed{s}')
        for k in [osp.basename(report.presets['mine_pkd']['student'])[len('RetinaNet-'):-3]]
        for s in (0, 1, 2)
    ]
    evaluations = [e for e in log if e[0] == 'evaluate']
    assert len(evaluations) == 1 and evaluations[0][3] == str(ckpt)
    assert '/teachers/' in evaluations[0][2]
    for m in report.methods:
        assert [d for d in trained if d.startswith(osp.join(root, m, 'seed'))
                ] == [osp.join(root, m, f'seed{s}') for s in (0, 1, 2)]
    assert not [d for d in trained if 'demo' in d]
    distill_opts = [opts for kind, cfg, d, opts in log if kind == 'train' and '/mine_' in d]
    assert all(f'model.teacher_ckpt={ckpt}' in o for o in distill_opts)


def test_a_pair_student_is_the_pair_config_with_its_architecture(tmp_path):
    """For every built-in pair the derived student resolves to exactly the student config its
    preset names (so a user's pair gets the same fair baseline); the teacher as an absolute
    path; a config without a student or teacher is refused with what it lacks."""
    for name, preset in PRESETS.items():
        student = Config.fromfile(preset['student']).to_dict()
        for pair in preset['distill']:
            derived = preset_from_pair(pair, str(tmp_path))
            assert Config.fromfile(derived['student']).to_dict() == student, (name, pair)
            assert osp.realpath(derived['teacher']) == osp.realpath(preset['teacher'])
            assert derived['distill'] == [osp.abspath(pair)]
    with pytest.raises(SystemExit, match='not a distillation config.*model.architecture'):
        preset_from_pair('configs/retinanet/retinanet_r18_mini.py', str(tmp_path))
    bad = _pair(
        tmp_path,
        'bad',
        'configs/cwd/cwd_retina_r34_r18_mini.py',
        teacher='configs/retinanet/retinanet_r343_mini.py')
    with pytest.raises(SystemExit, match="model.teacher = 'configs/retinanet/retinanet_r343"):
        preset_from_pair(bad, str(tmp_path))


def test_a_missing_pair_teacher_is_trained_under_the_work_root(tmp_path):
    pair = _pair(
        tmp_path,
        'without',
        'configs/cwd/cwd_retina_r34_r18_mini.py',
        teacher_ckpt=str(tmp_path / 'no.pth'))
    root = str(tmp_path / 'root')
    log = []
    import detkd.report.report as rep
    original = rep.last_checkpoint
    rep.last_checkpoint = lambda d: osp.join(d, 'epoch_8.pth')
    try:
        Report(parse_args([pair, '--work-root', root], PRESETS), PRESETS, **_fake(log)).run()
    finally:
        rep.last_checkpoint = original
    teacher_dir = osp.join(root, 'retinanet_r34_mini')
    assert log[0][0] == 'train' and log[0][2] == teacher_dir
    assert f'model.teacher_ckpt={teacher_dir}/epoch_8.pth' in log[-1][3]


def test_teacher_margin_and_its_threshold():
    """T - mean(S) against 2 s sqrt(1 + 1/n): ahead, not ahead, and one seed (not judged
    unless the teacher is not above the student)."""
    s = [17.0, 19.0, 18.0]  # sd 1
    assert margin_threshold(s) == pytest.approx(2 * 1.0 * (4 / 3)**0.5)
    assert teacher_margin(31.5, s)['ahead'] is True
    m = teacher_margin(19.5, s)
    assert m['margin'] == pytest.approx(1.5) and m['ahead'] is False
    assert teacher_margin(20.0, [18.0])['ahead'] is None
    assert teacher_margin(17.0, [18.0])['ahead'] is False


def _stat(method, name, teacher, students, distilled, prediction_level, **extra):
    gains = [d - s for s, d in zip(students, distilled)]
    return dict(
        method=method,
        name=name,
        config=name,
        teacher=teacher,
        margin=teacher_margin(teacher, students),
        prediction_level=prediction_level,
        inherits=extra.pop('inherits', []),
        student=students,
        distilled=distilled,
        walls=[],
        balance=[dict(distill=0.4, clipped=0., cos=0.5, groups={}, terms={'distill.loss_x': 0.4})]
        * len(students),
        per_seed={},
        gains={m: gains
               for m in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_s', 'bbox_mAP_l')},
        **extra)


def test_margin_warning_for_a_prediction_level_method_without_a_teacher_ahead():
    students = [11.0, 11.5, 11.1]
    stats = [
        _stat('my_ld', 'my_ld', 11.3, students, [11.2, 11.9, 11.0], True),
        _stat('my_pkd', 'my_pkd', 11.3, students, [13.0, 13.5, 13.1], False),
        _stat('ok_ld', 'ok_ld', 30.0, students, [13.0, 13.5, 13.1], True)
    ]
    text = margin_lines(stats)
    assert 'my_ld, my_pkd: teacher 11.3, student alone 11.2 ± 0.3 (3 seeds): margin +0.1' in text
    warnings = [line for line in text.splitlines() if 'WARNING' in line]
    assert len(warnings) == 1 and 'my_ld imitates the teacher' in warnings[0]
    assert 'ok_ld: teacher 30.0' in text and '(ahead: threshold' in text


def test_choose_table_with_costs_and_the_compute_matched_student():
    students = [15.0, 16.0]
    stats = [
        _stat(
            'pkd',
            'pkd_retina_r34_r18_mini',
            30.,
            students, [17., 19.],
            False,
            cost=dict(ratio=1.01, distill_peak_mb=1160., student_peak_mb=900.)),
        _stat(
            'mgd',
            'mgd_retina_r34_r18_mini',
            30.,
            students, [14., 16.],
            False,
            inherits=['neck', 'bbox_head']),
        _stat(
            'pkd',
            'retinanet_r18_mini_7e',
            30.,
            students, [16., 17.],
            False,
            matched=dict(epochs=7, base_epochs=4, factor=1.72)),
    ]
    pkd, mgd, matched = choose_table(stats).splitlines()[2:]
    assert pkd == (
        '| pkd | `pkd_retina_r34_r18_mini` | - | 15.5 | 18.0 | +2.5 ± 0.7 | +5.0 | 40% | '
        '1.01 | 1160 / 900 | 2 |')
    assert mgd == ('| mgd | `mgd_retina_r34_r18_mini` | neck, bbox_head | 15.5 | 15.0 | '
                   '-0.5 ± 0.7 | -1.0 | 40% |  |  | 2 |')
    assert '| `retinanet_r18_mini_7e` |' in matched and '7 epochs for 4 (x1.72)' in matched


def test_compute_matched_schedule_scales_the_epochs_and_steps():
    cfg = Config.fromfile('configs/retinanet/retinanet_r18_mini.py')
    scaled = scaled_schedule(cfg, 1.72, 7)
    assert scaled.train_cfg.max_epochs == 7 and scaled.train_cfg.val_interval == 7
    warmup, steps = scaled.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 100)  # iterations: unchanged
    assert steps.end == 7 and steps.milestones == [5]  # 3 of 4 -> 5 of 7
    rt = scaled_schedule(Config.fromfile('configs/rtmdet/rtmdet_tiny_mini.py'), 1.5, 18)
    assert rt.custom_hooks[1].switch_epoch == 16  # the last 2 epochs stay the second stage


def test_results_json_holds_every_figure_and_where_it_was_measured(tmp_path):
    args = parse_args(['--methods', 'pkd', '--out-dir', str(tmp_path)], PRESETS)
    report = Report(args, PRESETS)
    stats = [_stat('pkd', 'pkd_retina_r34_r18_mini', 30., [15.0, 16.0], [17., 19.], False)]
    stats[0]['per_seed'] = {
        0: dict(student=_metrics(.15), distilled=_metrics(.17)),
        1: dict(student=_metrics(.16), distilled=_metrics(.19))
    }
    out = report.results_json(stats)
    (rec, ) = out['results']
    assert rec['gain'] == pytest.approx(2.5) and rec['gain_sd'] == pytest.approx(0.7071, abs=1e-4)
    assert rec['seeds']['1'] == dict(
        student_map=pytest.approx(16.), distilled_map=pytest.approx(19.))
    assert rec['distill_share'] == pytest.approx(0.4)
    assert {'date', 'machine', 'command', 'datasets', 'seeds'} <= set(out)
    json.dumps(out)


def test_last_checkpoint_skips_one_cut_short_and_the_last_epochs_option_counts(tmp_path):
    import torch
    torch.save({'meta': {}}, str(tmp_path / 'epoch_1.pth'))
    data = open(tmp_path / 'epoch_1.pth', 'rb').read()
    (tmp_path / 'epoch_2.pth').write_bytes(data[:len(data) // 2])
    assert last_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    opts = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'train_cfg.max_epochs=3']
    assert max_epochs('configs/retinanet/retinanet_r18_mini.py', opts) == 3


def test_methods_come_from_the_metafiles_and_a_method_has_one_pair(tmp_path):
    assert list(PRESETS)[:4] == ['fgd', 'fgd-fcos', 'fgd-mixed', 'fgd-faster-rcnn']
    assert PRESETS['rtmdet']['distill'] == ['configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_mini.py']
    (tmp_path / 'model-index.yml').write_text('Import:\n- m/metafile.yml\n')
    (tmp_path / 'm').mkdir()
    entry = ('- Name: {n}\n  Config: configs/m/{n}.py\n  Metadata:\n    Report: mine\n'
             '    Student: {{Config: s.py}}\n    Teacher: {{Config: {t}}}\n')
    (tmp_path / 'm' / 'metafile.yml').write_text('Models:\n' + entry.format(n='a', t='t.py') +
                                                 entry.format(n='b', t='t2.py'))
    with pytest.raises(ValueError, match=r'b is in method mine but names another teacher'):
        load_presets(str(tmp_path))


def test_the_commands_are_thin():
    for path in ('tools/analysis/distill_report.py', 'tools/demo.py'):
        assert len(open(path).read().splitlines()) <= 150, path


def test_configs_are_read_from_several_jobs_at_once():
    """``--jobs``: the first config reads of a fresh process, from several threads at once
    (``detkd::`` bases make mmengine look the package up through pkg_resources, which is not
    thread-safe while it initialises; the report reads configs under a lock). Two fresh
    processes."""
    import subprocess
    import sys
    script = '''
import threading
from detkd.report.runs import max_epochs
out, errors = [], []
def read(c):
    try:
        out.append(max_epochs(c))
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
