"""tools/train.py, tools/test.py and tools/dist_train.sh on the mini dataset, end to end.

The runs are shortened (a subset of the images, one epoch) but go through the same runner,
dataset, hooks, checkpointing and COCO evaluation as a full run.
"""
import glob
import math
import os.path as osp
import re
import sys

import pytest
from conftest import free_port, run_tool

from detkd.utils import read_logged_metrics

pytestmark = pytest.mark.integration  # real runs of the tools: `make test-fast` skips them

STUDENT = 'configs/retinanet/retinanet_r18_mini.py'


def eval_options(detector='model'):
    """Evaluation on 8 val images; score_thr 0 so that a model trained for a few iterations
    still outputs boxes (mmdet's CocoMetric logs nothing for an empty result). A
    distillation config's detector is ``model.architecture``, hence ``detector``."""
    return [
        'val_dataloader.dataset.indices=8', 'test_dataloader.dataset.indices=8',
        f'{detector}.test_cfg.score_thr=0.0', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]


def short_options(detector='model'):
    """16 train images in batches of 4: 4 iterations, then the evaluation."""
    return [
        'train_dataloader.dataset.indices=16', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        *eval_options(detector)
    ]


EVAL, SHORT = eval_options(), short_options()


def _losses_from_log(work_dir):
    log = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert log, f'no log in {work_dir}'
    text = open(sorted(log)[-1]).read()
    return text, [float(v) for v in re.findall(r'Epoch\(train\).*?\sloss: ([-\w.+]+)', text)]


@pytest.fixture(scope='module')
def trained(tmp_path_factory, python):
    work_dir = str(tmp_path_factory.mktemp('train'))
    run_tool([python, 'tools/train.py', STUDENT, '--work-dir', work_dir, '--cfg-options', *SHORT])
    return work_dir


def test_train_runs_checkpoints_and_evaluates(trained):
    text, losses = _losses_from_log(trained)
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses), losses
    assert osp.exists(osp.join(trained, 'epoch_1.pth'))
    metrics = read_logged_metrics(trained)
    assert {'bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_s', 'bbox_mAP_l'} <= set(metrics)


def test_test_tool_reproduces_the_in_run_evaluation(trained, python, tmp_path):
    in_run = read_logged_metrics(trained)
    run_tool([
        python, 'tools/test.py', STUDENT,
        osp.join(trained, 'epoch_1.pth'), '--work-dir',
        str(tmp_path), '--show-dir', 'vis', '--cfg-options', *EVAL
    ])
    assert read_logged_metrics(str(tmp_path)) == in_run
    # --show-dir paints the predictions of every evaluated image
    assert len(glob.glob(osp.join(str(tmp_path), '*', 'vis', '*.jpg'))) == 8


def test_resume_continues_from_the_last_checkpoint(trained, python):
    run_tool([
        python, 'tools/train.py', STUDENT, '--work-dir', trained, '--resume', '--cfg-options',
        *SHORT, 'train_cfg.max_epochs=2'
    ])
    text, _ = _losses_from_log(trained)
    assert 'resumed epoch: 1' in text
    assert 'Epoch(train) [2][4/4]' in text
    assert osp.exists(osp.join(trained, 'epoch_2.pth'))


@pytest.mark.xdist_group('gloo')  # the gloo runs one at a time (Makefile: --dist loadgroup)
def test_dist_train_two_cpu_processes(tmp_path):
    """`bash tools/dist_train.sh CONFIG 2` trains with two gloo processes and evaluates."""
    work_dir = str(tmp_path)
    run_tool([
        'bash', 'tools/dist_train.sh', STUDENT, '2', '--work-dir', work_dir, '--cfg-options',
        *SHORT
    ],
             env=dict(PORT=str(free_port())))
    text, losses = _losses_from_log(work_dir)
    assert 'Distributed training: True' in text
    assert re.search(r'world_size: 2|GPU number: 2',
                     text) or "'world_size': 2" in text, text[:3000]
    # 16 images over 2 processes x 4 per batch: 2 iterations, each averaged over both ranks
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth'))
    in_run = read_logged_metrics(work_dir)
    assert 'bbox_mAP' in in_run
    # the checkpoint of the 2-process run evaluates the same in one process
    run_tool([
        sys.executable, 'tools/test.py', STUDENT,
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        osp.join(work_dir, 'test'), '--cfg-options', *EVAL
    ])
    assert read_logged_metrics(osp.join(work_dir, 'test')) == in_run


def test_fgd_attention_tool_draws_every_level(python, tmp_path):
    out = tmp_path / 'att.png'
    proc = run_tool([
        python, 'tools/analysis/fgd_attention.py', 'configs/fgd/fgd_retina_r34_r18_mini.py',
        '--index', '3', '--out',
        str(out), '--cfg-options', 'model.teacher_ckpt=None', 'model.allow_random_teacher=True'
    ])
    assert '5 levels, 2 GT boxes' in proc.stdout
    from PIL import Image
    with Image.open(out) as im:
        assert im.size[1] > im.size[0]  # 5 rows (levels) of 4 panels: taller than wide


def test_distill_run_exports_a_plain_student_that_mmdet_evaluates_identically(python, tmp_path):
    """A (short) FGD run; its checkpoint holds no teacher; the exported student loads in
    mmdet's init_detector and tools/test.py with the student config gives the in-run mAP."""
    work_dir = str(tmp_path / 'fgd')
    run_tool([
        python, 'tools/train.py', 'configs/fgd/fgd_retina_r34_r18_mini.py', '--work-dir', work_dir,
        '--cfg-options', 'model.teacher_ckpt=None', 'model.allow_random_teacher=True',
        *short_options('model.architecture')
    ])
    in_run = read_logged_metrics(work_dir)
    assert 'bbox_mAP' in in_run
    import torch
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])

    student = str(tmp_path / 'student.pth')
    run_tool([
        python, 'tools/model_converters/export_student.py',
        osp.join(work_dir, 'epoch_1.pth'), student
    ])
    from mmdet.apis import init_detector
    model = init_detector(STUDENT, student, device='cpu')
    exported = torch.load(student, map_location='cpu', weights_only=False)['state_dict']
    assert set(exported) == set(model.state_dict())

    run_tool([
        python, 'tools/test.py', STUDENT, student, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *EVAL
    ])
    assert read_logged_metrics(str(tmp_path / 'test')) == in_run


def test_train_with_amp_runs_a_pair_in_bfloat16_on_the_cpu(python, tmp_path):
    """tools/train.py --amp without a GPU: BFloat16AmpOptimWrapper (MMEngine's AmpOptimWrapper
    refuses to start without one), the whole pair under bfloat16 autocast, the distillation
    losses in float32; the run trains, stays finite and evaluates."""
    work_dir = str(tmp_path / 'amp')
    proc = run_tool([
        python, 'tools/train.py', 'configs/cwd/cwd_retina_r34_r18_mini.py', '--amp', '--work-dir',
        work_dir, '--cfg-options', 'model.teacher_ckpt=None', 'model.allow_random_teacher=True',
        *short_options('model.architecture'), 'train_dataloader.dataset.indices=8'
    ])
    assert 'optim_wrapper.type=BFloat16AmpOptimWrapper' in proc.stdout
    text, losses = _losses_from_log(work_dir)
    # 8 images in batches of 4 (bfloat16 is emulated on most CPUs: slow)
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), losses
    assert re.search(r'distill\.loss_cwd_fpn0: [\d.]+', text)
    assert 'bbox_mAP' in read_logged_metrics(work_dir)


def test_distill_resume_matches_an_uninterrupted_run(python, tmp_path):
    """A distillation run stopped after epoch 1 and resumed with --resume ends exactly where
    an uninterrupted run ends: student, optimizer, LR schedule and the losses' own trainable
    parameters (FGD's context blocks) all come back from the checkpoint."""
    import torch
    fgd = 'configs/fgd/fgd_retina_r34_r18_mini.py'
    # no random flip: MMEngine does not restore the augmentations' RNG state on resume
    # (neither does mmdet), and the comparison is about what the checkpoint restores
    opts = [
        'model.teacher_ckpt=None', 'model.allow_random_teacher=True',
        *short_options('model.architecture'), 'train_cfg.val_interval=10',
        'train_dataloader.dataset.pipeline.3.prob=0.0'
    ]
    full, parts = str(tmp_path / 'full'), str(tmp_path / 'parts')
    run_tool([
        python, 'tools/train.py', fgd, '--work-dir', full, '--cfg-options', *opts,
        'train_cfg.max_epochs=2'
    ])
    run_tool([
        python, 'tools/train.py', fgd, '--work-dir', parts, '--cfg-options', *opts,
        'train_cfg.max_epochs=1'
    ])
    run_tool([
        python, 'tools/train.py', fgd, '--work-dir', parts, '--resume', '--cfg-options', *opts,
        'train_cfg.max_epochs=2'
    ])

    text, resumed_losses = _losses_from_log(parts)
    assert 'resumed epoch: 1' in text
    _, full_losses = _losses_from_log(full)
    assert len(full_losses) == 8 and resumed_losses[-4:] == pytest.approx(
        full_losses[-4:], rel=1e-5)
    a = torch.load(osp.join(full, 'epoch_2.pth'), map_location='cpu', weights_only=False)
    b = torch.load(osp.join(parts, 'epoch_2.pth'), map_location='cpu', weights_only=False)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    assert any(k.startswith('distiller.distill_losses.') for k in a['state_dict'])
    for k in a['state_dict']:
        torch.testing.assert_close(
            a['state_dict'][k], b['state_dict'][k], rtol=1e-5, atol=1e-6, msg=k)


@pytest.mark.xdist_group('gloo')  # the gloo runs one at a time (Makefile: --dist loadgroup)
def test_two_process_distillation_matches_one_process_with_the_same_total_batch(python, tmp_path):
    """Distributed parity: from the same initial weights, 2 gloo processes x 2 images and
    1 process x 4 images make the same 4 SGD updates (student and FGD's own parameters).

    Made comparable: BN frozen to its running statistics (norm_eval) and GN elsewhere, so
    features do not depend on the batch; one fixed input size (padding does not differ); no
    random flip and no aspect-ratio grouping (both see the same images per step). The
    student's own detection losses are weighted 0: mmdet's RetinaNet normalises them by the
    number of positives *per process*, so they differ between the two set-ups by design; the
    distillation losses (sums divided by the batch size) do not. SGD, not AdamW: Adam's
    division by sqrt(v) turns summation-order noise in near-zero gradients into full steps."""
    import torch
    from mmengine.config import Config
    from mmrazor.registry import MODELS
    fgd = 'configs/fgd/fgd_retina_r34_r18_mini.py'
    model_cfg = Config.fromfile(fgd).model
    model_cfg.update(teacher_ckpt=None, allow_random_teacher=True)
    torch.manual_seed(0)
    algo = MODELS.build(model_cfg)
    algo.init_weights()
    init = {k: v.clone() for k, v in algo.state_dict().items()}
    init_path = str(tmp_path / 'init.pth')
    torch.save(dict(state_dict=init, meta=dict()), init_path)

    opts = [
        'model.teacher_ckpt=None', 'model.allow_random_teacher=True', f'load_from={init_path}',
        *short_options('model.architecture'), 'train_cfg.val_interval=10',
        'model.architecture.backbone.norm_eval=True',
        'model.architecture.bbox_head.loss_cls.loss_weight=0.0',
        'model.architecture.bbox_head.loss_bbox.loss_weight=0.0',
        'train_dataloader.dataset.pipeline.2.keep_ratio=False',
        'train_dataloader.dataset.pipeline.3.prob=0.0', 'train_dataloader.batch_sampler=None',
        'param_scheduler.0.start_factor=1.0', 'optim_wrapper.optimizer.type=SGD',
        'optim_wrapper.optimizer.lr=0.1', 'optim_wrapper.optimizer.momentum=0.9',
        'optim_wrapper.optimizer.weight_decay=0.0'
    ]
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    run_tool([python, 'tools/train.py', fgd, '--work-dir', one, '--cfg-options', *opts])
    run_tool([
        'bash', 'tools/dist_train.sh', fgd, '2', '--work-dir', two, '--cfg-options', *opts,
        'train_dataloader.batch_size=2'
    ],
             env=dict(PORT=str(free_port())))
    a = torch.load(osp.join(one, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    b = torch.load(osp.join(two, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    assert a['state_dict'].keys() == b['state_dict'].keys()
    moved = 0
    for k, v in a['state_dict'].items():
        if not v.is_floating_point():
            continue
        step_a, step_b = v - init[k], b['state_dict'][k] - init[k]
        # the two runs' updates agree to 1% of their size (at most 0.26% seen here; the
        # absolute term covers FGD's conv_mask biases, whose true gradient is 0)
        assert (step_a - step_b).norm() <= 1e-2 * step_a.norm() + 1e-7, k
        moved += k.startswith('architecture.neck.') and step_a.norm() > 0
    assert moved  # the distillation gradients did train the student


def test_gfl_cwd_with_ema_trains_evaluates_and_exports_the_evaluated_student(python, tmp_path):
    """The GFL CWD wiring (teacher running its head) with the EMA of the COCO recipe, through
    the runner: the checkpoint holds the EMA weights that were evaluated and no teacher, and
    the exported student gives the same mAP in tools/test.py with the plain student config."""
    import torch
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = tmp_path / 'cwd_gfl_ema.py'
    cfg.write_text(f"_base_ = '{root}/configs/cwd/cwd_gfl_r34vd_r18_mini.py'\n"
                   "custom_hooks = [dict(type='EMAHook', ema_type='ExponentialMovingAverage',\n"
                   "                     momentum=0.0002, update_buffers=True, priority=49)]\n")
    work_dir = str(tmp_path / 'run')
    run_tool([
        python, 'tools/train.py',
        str(cfg), '--work-dir', work_dir, '--cfg-options', 'model.teacher_ckpt=None',
        'model.allow_random_teacher=True', *short_options('model.architecture')
    ])
    text, losses = _losses_from_log(work_dir)
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    assert re.search(r'distill\.loss_cwd_cls0: [\d.]+', text)
    in_run = read_logged_metrics(work_dir)
    assert 'bbox_mAP' in in_run

    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert 'ema_state_dict' in ckpt
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])
    assert not any(k.startswith('module.teacher.') for k in ckpt['ema_state_dict'])

    student = str(tmp_path / 'student.pth')
    run_tool([
        python, 'tools/model_converters/export_student.py',
        osp.join(work_dir, 'epoch_1.pth'), student
    ])
    run_tool([
        python, 'tools/test.py', 'configs/gfl/gfl_r18_mini.py', student, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *EVAL
    ])
    assert read_logged_metrics(str(tmp_path / 'test')) == in_run


def test_ppyoloe_distillation_with_teacher_assignment_trains_and_evaluates(python, tmp_path):
    """A short PP-YOLOE+ KD run past the static epochs (static_assigner_epoch=0 on both
    heads), so the teacher's task-aligned assignment is delivered to the student in every
    step; all losses logged, the student evaluated, no teacher in the checkpoint."""
    work_dir = str(tmp_path / 'ppyoloe_kd')
    run_tool([
        python, 'tools/train.py', 'configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py', '--work-dir',
        work_dir, '--cfg-options', 'model.teacher_ckpt=None', 'model.allow_random_teacher=True',
        'model.teacher.bbox_head.static_assigner_epoch=0',
        'model.architecture.bbox_head.static_assigner_epoch=0',
        *short_options('model.architecture')
    ])
    text, losses = _losses_from_log(work_dir)
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    for name in ('student.loss_cls', 'distill.loss_logits_kd', 'distill.loss_fgd_neck2'):
        assert name in text
    assert 'bbox_mAP' in read_logged_metrics(work_dir)
    import torch
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])


def test_distill_report_trains_resumes_and_reports_gain_over_seeds(python, tmp_path):
    """A tiny report (FGD, seeds 0 and 1, 4 iterations a run): teacher once, student and
    FGD student per seed, the table with mean and spread, the charts and the grid; a second
    call reuses every run."""
    root, out = str(tmp_path / 'runs'), str(tmp_path / 'report')
    opts = [o for o in SHORT if not o.startswith('model.')] + ['model.test_cfg.score_thr=0.0']
    cmd = [
        python, 'tools/analysis/distill_report.py', '--methods', 'fgd', '--seeds', '0', '1',
        '--work-root', root, '--out-dir', out, '--grid-images', '1', '--skip',
        'fgd_retina_r34_r18_noinherit_mini', '--cfg-options', *opts
    ]
    first = run_tool(cmd, timeout=900).stdout
    assert first.count('[start]') == 5 and 'epoch 1/' in first
    report = open(osp.join(out, 'report.md')).read()
    row = [line for line in report.splitlines() if line.startswith('| fgd |')]
    assert len(row) == 1 and '±' in row[0] and '| 2 |' in row[0]  # the skipped run: no row
    for name in ('gain.png', 'losses_fgd.png', 'grid_fgd.png'):
        assert osp.getsize(osp.join(out, name)) > 1000
    assert osp.isdir(osp.join(root, 'demo', 'seed1', 'fgd_retina_r34_r18_mini'))
    second = run_tool(cmd + ['--no-train']).stdout
    assert '[start]' not in second and second.count('[reuse]') == 5
    assert second.count('[missing] fgd seed') == 2  # the skipped ablation, at both seeds

    # a user's own pair config, outside configs/: its student alone is derived from it, its
    # teacher (checkpoint not there yet) is the teacher config's run under --work-root
    pair = tmp_path / 'my_pair.py'
    pair.write_text(f"_base_ = '{osp.abspath('configs/cwd/cwd_retina_r34_r18_mini.py')}'\n"
                    f"model = dict(teacher_ckpt='{tmp_path}/not_trained_here.pth')\n")
    mine = run_tool([
        python, 'tools/analysis/distill_report.py',
        str(pair), '--work-root', root, '--out-dir', out + '_pair', '--grid-images', '1',
        '--cfg-options', *opts
    ],
                    timeout=900).stdout
    assert '[reuse] my_pair teacher' in mine and mine.count('[start]') == 2
    # its student alone in students/ (shared by any pair with the same student), its runs in
    # <work root>/<pair>/seed<s>
    (student, ) = glob.glob(osp.join(root, 'students', 'RetinaNet-*.py'))
    assert osp.isdir(osp.join(root, 'students', osp.basename(student)[:-3], 'seed0'))
    assert osp.isdir(osp.join(root, 'my_pair', 'seed0'))
    report = open(osp.join(out + '_pair', 'report.md')).read()
    assert len([line for line in report.splitlines() if line.startswith('| my_pair |')]) == 1
    assert osp.getsize(osp.join(out + '_pair', 'grid_my_pair.png')) > 1000


def test_distill_report_survives_a_kill_and_a_kill_during_the_final_evaluation(python, tmp_path):
    """A report killed mid-run (SIGKILL to its process group, right after the teacher's first
    checkpoint, whose evaluation is logged too) resumes that run on the next invocation and
    does not take the mid-way evaluation for a finished run; a run whose final evaluation
    never got logged (killed during it) is evaluated with tools/test.py, not retrained, to the
    same metrics."""
    import json
    import os
    import signal
    import subprocess
    import time
    import zipfile
    root, out = str(tmp_path / 'runs'), str(tmp_path / 'report')
    opts = [o for o in SHORT if not o.startswith('model.')
            ] + ['model.test_cfg.score_thr=0.0', 'train_cfg.max_epochs=3']
    cmd = [
        python, 'tools/analysis/distill_report.py', '--methods', 'fgd', '--work-root', root,
        '--out-dir', out, '--grid-images', '0', '--skip', 'fgd_retina_r34_r18_noinherit_mini',
        '--cfg-options', *opts
    ]
    teacher = osp.join(root, 'retinanet_r34_mini')
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 600
        # a complete checkpoint (a file cut short is the unit tests' case)
        while not zipfile.is_zipfile(osp.join(teacher, 'epoch_1.pth')):
            assert proc.poll() is None and time.time() < deadline, 'the report did not start'
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not osp.exists(osp.join(teacher, 'epoch_3.pth'))

    first = run_tool(cmd, timeout=900).stdout
    assert '[resume] fgd teacher' in first and '[reuse] fgd teacher' not in first
    assert '[done] fgd seed 0 fgd_retina_r34_r18_mini' in first

    # the student's final evaluation is lost, as if killed during it
    student = osp.join(root, 'demo', 'retinanet_r18_mini')
    before = json.load(open(osp.join(student, 'report_final.json')))
    os.remove(osp.join(student, 'report_final.json'))
    (scalars, ) = glob.glob(osp.join(student, '*', 'vis_data', 'scalars.json'))
    lines = [line for line in open(scalars) if not ('coco/' in line and '"step": 3' in line)]
    open(scalars, 'w').writelines(lines)
    second = run_tool(cmd, timeout=900).stdout
    assert '[evaluate] fgd seed 0 student' in second and second.count('[reuse]') == 2
    assert json.load(open(osp.join(student, 'report_final.json'))) == before


def test_benchmark_tool_reports_ratio_losses_and_memory(python, tmp_path):
    out = str(tmp_path / 'bench')
    run_tool([
        python, 'tools/benchmark/benchmark.py', 'configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py',
        '--iters', '1', '--warmup', '0', '--threads', '1', '--out', out
    ])
    table = open(out + '.md').read()
    assert 'ppyoloe_plus_kd_mini.py' in table and 'ratio' in table
    import json
    data = json.load(open(out + '.json'))
    # where, when and how it was measured, with one row per config
    assert data['date'] and data['machine'] and 'benchmark.py' in data['command']
    (row, ) = data['rows']
    assert set(row) == {'base', 'student', 'teacher', 'distill', 'summary'}
    d, s, t = row['distill'], row['student'], row['teacher']
    # the ratio distill_report.py --cost puts next to the gains: the table's own figure
    ratio = (d['time'] + d['probe_time'] / d['probe_interval']) / (s['time'] + t['time'])
    assert row['summary']['ratio'] == pytest.approx(ratio)
    assert f"{ratio:.2f}" in table
    assert 0 < d['loss_time'] < d['time'] and d['peak_mb'] > row['base']['peak_mb']
    # the balance hook's probe, timed and amortised over its interval in the ratio
    assert d['probe_time'] > 0 and d['probe_interval'] == 100
    assert 'balance probe' in table


def test_yolov3_objectness_tool_reads_the_teacher_at_its_assigned_anchors(python, tmp_path):
    """tools/analysis/yolov3_objectness.py on a YOLOv3 (random weights here): the share of the
    GT boxes' assigned anchors whose objectness fires, and its quantiles, as JSON."""
    import json

    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile('configs/yolov3/yolov3_r34_mini.py')
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'yolo.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    out = str(tmp_path / 'obj.json')
    proc = run_tool([
        python, 'tools/analysis/yolov3_objectness.py', 'configs/yolov3/yolov3_r34_mini.py', ckpt,
        '--split', 'val', '--num-images', '8', '--json', out
    ])
    result = json.load(open(out))
    assert result['split'] == 'val' and result['positives'] > 8
    assert 0 <= result['fired'] <= 1 and set(
        result['quantiles']) == {'10%', '25%', '50%', '75%', '90%'}
    assert 'assigned anchors' in proc.stdout
