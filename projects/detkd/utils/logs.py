"""Read what MMEngine logged in a work dir: the metrics, and the balance hook's probes."""
import glob
import json
import os.path as osp
from typing import Dict, List


def read_logged_metrics(work_dir: str, prefix: str = 'coco/') -> dict:
    """The last metrics with ``prefix`` that a run in ``work_dir`` logged.

    MMEngine writes them to ``<work_dir>/<timestamp>/<timestamp>.json`` for ``runner.test()``
    and to ``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per line) for
    the evaluations during training; the newest run's file wins.

    Returns:
        dict: metric name without ``prefix`` -> value; empty if none was logged.
    """
    files = glob.glob(osp.join(work_dir, '*', '*.json'))
    files += glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    for path in sorted(files, key=osp.getmtime, reverse=True):
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        for record in reversed(records):
            found = {k[len(prefix):]: v for k, v in record.items() if k.startswith(prefix)}
            if found:
                return found
    return {}


def read_balance(work_dir: str) -> Dict[str, List[float]]:
    """The ``balance/...`` scalars that ``DistillBalanceHook`` logged in ``work_dir`` (every
    run of it, resumed ones included), in logging order: key -> values, one per probe."""
    out: Dict[str, List[float]] = {}
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    for path in sorted(files, key=osp.getmtime):
        with open(path) as f:
            for line in f:
                if '"balance/' not in line:
                    continue
                for k, v in json.loads(line).items():
                    if k.startswith('balance/'):
                        out.setdefault(k, []).append(v)
    return out
