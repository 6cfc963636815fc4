"""A user's own pair on their own data: docs/your_data.md's walk, run as written on a small
COCO-format dataset this test writes (mmdet's CocoDataset, not the mini loader); the class
count set once, in the student and teacher configs."""
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest

import detkd  # noqa: F401
from detkd.datasets.shapes import write_shapes_coco
from detkd.testing import build_pair

GUIDE = 'docs/your_data.md'


def guide_blocks() -> dict:
    text = open(GUIDE).read()
    return dict(re.findall(r'<!-- your-data: (\S+) -->\n```\w+\n(.*?)```', text, re.S))


def test_the_guide_has_its_configs_and_command():
    blocks = guide_blocks()
    assert {
        'retinanet_r18_shapes.py', 'retinanet_r34_shapes.py', 'pkd_shapes.py', 'crosskd_shapes.py',
        'command'
    } <= set(blocks)


@pytest.mark.integration
def test_the_guide_runs_on_a_coco_dataset_and_the_shared_student_trains_once_a_seed(tmp_path):
    """Two pairs sharing a student, two seeds, one-epoch runs on 4 images: the teacher trains
    once, the student alone once per seed (one student folder, two runs), each pair once per
    seed in its own folder (no demo_); the report gives the teacher's margin first, and warns
    for CrossKD (it imitates the teacher's predictions; a one-epoch teacher is not ahead) and
    not for PKD."""
    blocks = guide_blocks()
    for name, text in blocks.items():
        if name.endswith('.py'):
            (tmp_path / name).write_text(text)
    write_shapes_coco(str(tmp_path / 'data' / 'shapes'), num_train=4, num_val=2)
    cmd = shlex.split(blocks['command'].replace('\\\n', ' '))
    assert cmd[:2] == ['python', 'tools/analysis/distill_report.py']
    cmd = [sys.executable, osp.abspath(cmd[1])] + [a for a in cmd[2:]]
    seeds = cmd.index('--seeds')
    cmd[seeds + 1:seeds + 4] = ['0', '1']
    cmd += [
        '--grid-images', '0', '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1'
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    starts = [
        re.match(r'\[start\] (.*?): ', line).group(1) for line in out.splitlines()
        if line.startswith('[start]')
    ]
    assert len([s for s in starts if s.endswith(' teacher')]) == 1, starts
    assert len([s for s in starts if s.endswith(' student')]) == 2, starts
    assert len(starts) == 1 + 2 + 2 * 2, starts
    root = tmp_path / 'work_dirs' / 'shapes'
    (student, ) = [d for d in os.listdir(root / 'students') if osp.isdir(root / 'students' / d)]
    assert sorted(os.listdir(root / 'students' / student)) == ['seed0', 'seed1']
    for pair in ('pkd_shapes', 'crosskd_shapes'):
        assert sorted(os.listdir(root / pair)) == ['seed0', 'seed1']
    assert not [d for d in os.listdir(root) if d.startswith('demo')]
    report = (root / 'report' / 'report.md').read_text()
    assert report.index('margin') < report.index('| method |')
    assert '(4 val images)' not in report and '(2 val images)' in report
    warnings = [line for line in report.splitlines() if 'WARNING' in line]
    assert len(warnings) == 1 and 'crosskd_shapes imitates' in warnings[0]
    assert (root / 'report' / 'results.json').is_file()


def test_yolov3_kd_takes_the_class_count_from_the_student_head():
    """Set once, in the student and teacher configs: a one-class YOLOv3 pair builds and its
    loss reads K = 1 and 3 anchors from the student's head; a teacher of other classes is
    still refused."""
    one = {'model.architecture.bbox_head.num_classes': 1, 'model.teacher.bbox_head.num_classes': 1}
    _, algo = build_pair('configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py', one)
    loss = algo.distiller.distill_losses['loss_yolov3_kd0']
    assert (loss.num_classes, loss.num_anchors) == (1, 3)
    with pytest.raises(ValueError, match='teacher predicts 7 classes and the student 1'):
        build_pair('configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py',
                   {'model.architecture.bbox_head.num_classes': 1})
