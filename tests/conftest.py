import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
os.chdir(ROOT)  # configs name data/ and configs/ relative to the repository root, as mmdet's do


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_tool(args, env=None, timeout=600, cwd=ROOT):
    """Run a command from the repository root (or ``cwd``); fail the test with its output if
    it fails."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(
            f'{" ".join(map(str, args))} exited {proc.returncode}\n'
            f'--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


@pytest.fixture(scope='session')
def python():
    return sys.executable


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """A test that calls ``init_default_scope`` leaves MMEngine's global default scope set,
    which changes what the next test's ``MODELS.build`` finds: put it back after each test."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict = saved
