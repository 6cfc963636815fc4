"""Read the metrics that MMEngine logged in a work dir."""
import glob
import json
import os.path as osp


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
