import os
import os.path as osp
import random
import re
import socket
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
os.chdir(ROOT)  # configs name data/ and configs/ relative to the repository root, as mmdet's do


def _ephemeral_low():
    """The first port of the kernel's ephemeral range."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port():
    """A free TCP port for torchrun's master, outside the kernel's ephemeral range.

    gloo's listeners (and every outgoing connection) take ephemeral ports; a master port drawn
    from that range can be handed to one of them between this call and torchrun's bind, and a
    stranger's connection to a gloo listener aborts the process that owns it (SIGABRT in
    gloo's TCP transport). Below the range no process gets a port it did not ask for."""
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise RuntimeError(f'no free TCP port below the ephemeral range (which starts at {low})')


# the lines of a failed process's stderr that say why it died, whatever comes after them
# (torchrun prints its own traceback last, behind the worker's reason)
_CAUSE = re.compile(r'terminate called|what\(\)|Error|Exception|Aborted|Killed|enforce fail',
                    re.IGNORECASE)


def run_tool(args, env=None, timeout=600, cwd=ROOT):
    """Run a command from the repository root (or ``cwd``); fail the test with its output if
    it fails."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        causes = [line for line in proc.stderr.splitlines() if _CAUSE.search(line)][:40]
        pytest.fail(
            f'{" ".join(map(str, args))} exited {proc.returncode}\n'
            '--- stderr lines that name a cause ---\n' + '\n'.join(causes) + '\n'
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
