"""What every Paddle converter shares: reading ``.pdparams``, renaming keys.

:func:`load_pdparams` reads a file without Paddle; :func:`check_against_model`
compares a converted state dict with the model it is for. The rest are the
helpers the per-architecture maps are written with: BN renames (``_mean`` ->
``running_mean`` ...), :func:`_map_state` (a key map applied to a state dict,
with the keys it could not place), :func:`split_classifier` (an ImageNet
file's classifier keys), and the ``detkd::`` configs' models.
"""
import pickle
import re
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch


class ConversionError(ValueError):
    """A Paddle file that does not fit the named architecture."""


def load_pdparams(path: str) -> Dict[str, np.ndarray]:
    """The state dict of a ``.pdparams`` file, as numpy arrays."""
    try:
        with open(path, 'rb') as f:
            state = pickle.load(f, encoding='latin1')
    except FileNotFoundError:
        raise
    except Exception as e:  # truncated or not a pickle
        raise ConversionError(
            f'{path} is not a readable .pdparams file (a pickled dict of numpy arrays written '
            f'by paddle.save): {type(e).__name__}: {e}. Download it again; a truncated '
            f'download fails this way.') from e
    if not isinstance(state, dict):
        raise ConversionError(f'{path}: expected a pickled dict of arrays, got '
                              f'{type(state).__name__}')
    state.pop('StructuredToParameterName@@', None)
    bad = [k for k, v in state.items() if not isinstance(v, np.ndarray)]
    if bad:
        raise ConversionError(f'{path}: entries that are not arrays: {bad[:5]}')
    return state


def _bn_rename(key: str) -> str:
    return re.sub(r'\._mean$', '.running_mean', re.sub(r'\._variance$', '.running_var', key))


def check_against_model(converted: Dict[str, torch.Tensor], model_state: Dict[str, torch.Tensor],
                        source: str) -> None:
    """Raise :class:`ConversionError` unless ``converted`` fills every entry
    of ``model_state`` with the same shape, and nothing is left over."""
    missing = sorted(set(model_state) - set(converted))
    extra = sorted(set(converted) - set(model_state))
    shapes = [(k, tuple(converted[k].shape), tuple(model_state[k].shape))
              for k in sorted(set(converted) & set(model_state))
              if converted[k].shape != model_state[k].shape]
    if missing or extra or shapes:
        lines = [f'{source} does not fit the model:']
        if missing:
            lines.append(f'  {len(missing)} model entries it does not fill: {missing[:8]}')
        if extra:
            lines.append(f'  {len(extra)} converted entries the model lacks: {extra[:8]}')
        for k, a, b in shapes[:8]:
            lines.append(f'  {k}: file {a}, model {b}')
        raise ConversionError('\n'.join(lines))


def _put(out: Dict[str, torch.Tensor], key: str, value: np.ndarray) -> None:
    """``out[key] = value`` (BN statistics renamed), plus the zero
    ``num_batches_tracked`` mmdet's BN layers hold next to ``running_var``."""
    key = _bn_rename(key)
    out[key] = torch.from_numpy(np.ascontiguousarray(value))
    if key.endswith('.running_var'):
        out[key[:-len('running_var')] + 'num_batches_tracked'] = torch.tensor(0)


def _map_state(
        state: Dict[str, np.ndarray],
        rename: Callable[[str], Optional[str]]) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    out: Dict[str, torch.Tensor] = {}
    unplaced: List[str] = []
    for key, value in state.items():
        new = rename(key)
        if new is None:
            unplaced.append(key)
        else:
            _put(out, new, value)
    return out, unplaced


def _strip(key: str, prefix: str) -> Optional[str]:
    return key[len(prefix):] if key.startswith(prefix) else None


def detector_key(backbone_key: Callable[[str], Optional[str]],
                 head_key: Callable[[str], Optional[str]]) -> Callable[[str], Optional[str]]:
    """The rename of a whole detector: ``backbone.*`` keys by ``backbone_key`` (on the key
    without the prefix, which is kept), every other key by ``head_key``."""

    def rename(key: str) -> Optional[str]:
        sub = _strip(key, 'backbone.')
        if sub is None:
            return head_key(key)
        new = backbone_key(sub)
        return None if new is None else 'backbone.' + new

    return rename


def _bn_suffix(norm: str, leaf: str) -> Optional[str]:
    """``.weight/.bias/._mean/._variance`` of a Paddle norm, mmdet-named."""
    if leaf not in ('weight', 'bias', '_mean', '_variance'):
        return None
    return f'{norm}.{leaf}'


# Keys of ImageNet classifiers: dropped (named in the report) from backbone files
CLASSIFIER = re.compile(r'^(fc|out|fc_\d+|last_conv|head|classifier)[._]')


def split_classifier(state: Dict[str, np.ndarray]) -> Tuple[Dict[str, np.ndarray], List[str]]:
    kept = {k: v for k, v in state.items() if not CLASSIFIER.match(k)}
    return kept, [k for k in state if k not in kept]


def _backbone_state(state: Dict[str, np.ndarray], src: str) -> Dict[str, np.ndarray]:
    """The ``backbone.`` part of a detector file, unprefixed."""
    sub = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not sub:
        raise ConversionError(f'{src}: no backbone.* keys (not a detector checkpoint?). '
                              f'Its first keys: {list(state)[:5]}')
    return sub


def _config_model(path: str) -> Dict:
    """The model of one of the package's configs (``detkd::<dir>/<file>.py``: found wherever
    detkd is installed, whatever the working directory)."""
    from mmengine.config import Config

    from ..utils.config import config_path
    return Config.fromfile(config_path(path)).model.to_dict()
