"""Distributed training on machines without CUDA.

MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its DDP wrapper passes
GPU ``device_ids``; both fail on a CPU-only build of torch. Here, when CUDA is absent, the
process group is initialised with gloo *before* the Runner is built (the Runner then skips its
own ``init_dist``), and the model wrapper is told ``device_ids=None`` (plain CPU DDP).
With CUDA present nothing changes: MMEngine's own path (nccl) is used.
"""
import os

import torch
import torch.distributed as torch_dist


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Prepare a CPU (gloo) process group and DDP wrapper for ``cfg``.

    Args:
        cfg (mmengine.Config): the run's config; ``model_wrapper_cfg`` is set in place.
        launcher (str): ``'none'``, ``'pytorch'`` (torchrun), ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: True when a gloo process group was set up here.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(f'launcher={launcher!r} needs CUDA; on a CPU-only machine use '
                           "'pytorch' (bash tools/dist_train.sh CONFIG NUM_PROCESSES).")
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if key not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch expects torchrun\'s {key} environment variable; '
                'start the run with tools/dist_train.sh (torchrun) instead.')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    return True
