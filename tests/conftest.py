import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
os.chdir(ROOT)  # configs name data/ and configs/ relative to the repository root, as mmdet's do


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_tool(args, env=None, timeout=600):
    """Run a command from the repository root; fail the test with its output if it fails."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(map(str, args))} exited {proc.returncode}\n'
                    f'--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


@pytest.fixture(scope='session')
def python():
    return sys.executable


def make_data_samples(n=2, size=(64, 64)):
    """mmdet data samples of a padded batch: image i is 8*i rows shorter, and has 2-i boxes."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for i in range(n):
        ds = DetDataSample(metainfo=dict(img_shape=(size[0] - 8 * i, size[1]),
                                         batch_input_shape=size, pad_shape=size,
                                         scale_factor=(1., 1.)))
        boxes = torch.tensor([[4., 6., 40., 50.], [30., 2., 63., 20.]])[:2 - i]
        ds.gt_instances = InstanceData(bboxes=boxes, labels=torch.zeros(len(boxes)).long())
        out.append(ds)
    return out
