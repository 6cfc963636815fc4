"""Deterministic synthetic weights for Paddle models, regenerated instead of stored.

The Paddle parity fixtures (``tests/data/paddle/*.npz``, made by
``tools/paddle_parity/make_fixtures.py`` in the Paddle venv) were computed with the
weights that :func:`synth_state` makes from the model's parameter spec
(``tests/data/paddle/<arch>_spec.json``: a list of ``[key, shape, dtype]``), so a test
rebuilds the very same weights from the spec and seed, converts them and compares.

numpy only: this module is imported by the Paddle venv (no torch) and by the
project's venv (no paddle). Import it by file path from the Paddle venv, so that
``detkd.testing``'s ``__init__`` (which imports torch) is not run.

The rule, by key (Paddle's naming), first match wins:

- ``DEFAULT_OVERRIDES``, PP-YOLOE's head (``yolo_head.*``): ``proj_conv.weight``
  ``arange(17)`` (the DFL projection, a constant in Paddle); ``pred_cls.{i}.weight``
  He with gain 200 and ``pred_reg.{i}.weight`` gain 800 (logits of std ~2-3: the
  trunk's gain-2 features have std ~0.1-0.2); ``pred_cls.{i}.bias``
  ``-13 + 2.5 * normal`` (so that ~100-180 of the 80 x L scores per image pass
  the 0.01 NMS threshold, not all of them); ``pred_reg.{i}.bias``
  ``-0.5 * (index % 17) + 0.1 * normal`` (favours the low DFL bins: boxes of
  ~5-7 strides a side, so they overlap the GT);
- ``.weight`` with ``ndim >= 2`` (conv, linear): ``normal * sqrt(2 / fan_in)``,
  ``fan_in = prod(shape[1:])``;
- ``.weight`` with ``ndim < 2`` (norms): ``uniform(0.5, 1.5)``;
- ``.bias``: ``normal * 0.1``;
- ``._mean`` / ``.running_mean``: ``normal * 0.1``;
- ``._variance`` / ``.running_var``: ``uniform(0.5, 1.5)``;
- ``alpha`` / ``scale`` (RepVGG's alpha, scale parameters): ``uniform(0.5, 1.5)``;
- any other float: ``normal * 0.1``; integer and bool buffers: zeros.

Each array has its own generator, ``np.random.default_rng([seed, crc32(key)])``, so
it does not depend on the order of the spec nor on the other keys. Values are drawn
in float64 and cast to the key's dtype.
"""
import fnmatch
import json
import math
import pickle
import zlib

import numpy as np

# Paddle's paddle.save(layer.state_dict(), f) pickles (protocol 4) a dict of numpy
# arrays followed by this entry: {structured key: Paddle's internal tensor name}.
NAME_TABLE_KEY = 'StructuredToParameterName@@'

# (fnmatch pattern on the key, kind, params), tried before the suffix rules. They name
# PP-YOLOE's head (yolo_head.*), so they leave other architectures' keys alone.
DEFAULT_OVERRIDES = (
    # the DFL projection, linspace(0, reg_max, reg_max + 1) in Paddle: a constant
    ('yolo_head.proj_conv.weight', 'arange', ()),
    # gain 2 leaves the trunk's features at std ~0.1-0.2 (2.3 already explodes):
    # larger prediction convs give logits of std ~2-3 and peaked DFL distributions
    ('yolo_head.pred_cls.*.weight', 'he', (200.0, )),
    ('yolo_head.pred_reg.*.weight', 'he', (800.0, )),
    # a spread class prior: ~100-180 candidates per image pass the 0.01 threshold
    ('yolo_head.pred_cls.*.bias', 'normal', (-13.0, 2.5)),
    # -0.5 per DFL bin: boxes of ~5-7 strides (not 16) a side, IoUs with the GT
    ('yolo_head.pred_reg.*.bias', 'ramp', (0.0, -0.5, 17, 0.1)),
)


def _rng(seed, key):
    return np.random.default_rng([int(seed), zlib.crc32(key.encode('utf-8'))])


def _draw(kind, params, rng, shape):
    if kind == 'normal':
        mean, std = params
        return mean + std * rng.standard_normal(shape)
    if kind == 'uniform':
        low, high = params
        return rng.uniform(low, high, shape)
    if kind == 'he':
        (gain, ) = params if params else (2.0, )
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return rng.standard_normal(shape) * math.sqrt(gain / max(fan_in, 1))
    if kind == 'ramp':
        # start + step * (flat index % period) + std * normal: e.g. a DFL bias that
        # favours the low bins of each side's reg_max + 1
        start, step, period, std = params
        ramp = start + step * (np.arange(int(np.prod(shape))) % int(period))
        return ramp.reshape(shape) + std * rng.standard_normal(shape)
    if kind == 'arange':
        return np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if kind == 'const':
        return np.full(shape, params[0], dtype=np.float64)
    raise ValueError(f'unknown kind {kind!r}')


def rule_for(key, shape, dtype, overrides=DEFAULT_OVERRIDES):
    """The (kind, params) that :func:`synth_state` uses for one key."""
    for pattern, kind, params in overrides:
        if fnmatch.fnmatchcase(key, pattern):
            return kind, tuple(params)
    dt = np.dtype(dtype)
    if dt.kind in 'iub':
        return 'const', (0, )
    name = key.rsplit('.', 1)[-1]
    if name == 'weight':
        return ('he', (2.0, )) if len(shape) >= 2 else ('uniform', (0.5, 1.5))
    if name == 'bias':
        return 'normal', (0.0, 0.1)
    if name in ('_mean', 'running_mean'):
        return 'normal', (0.0, 0.1)
    if name in ('_variance', 'running_var'):
        return 'uniform', (0.5, 1.5)
    if name in ('alpha', 'scale') or name.endswith('alpha'):
        return 'uniform', (0.5, 1.5)
    return 'normal', (0.0, 0.1)


def synth_array(key, shape, dtype, seed=0, overrides=DEFAULT_OVERRIDES):
    """One array of :func:`synth_state`."""
    shape = tuple(int(s) for s in shape)
    kind, params = rule_for(key, shape, dtype, overrides)
    values = _draw(kind, params, _rng(seed, key), shape)
    return np.ascontiguousarray(values.astype(np.dtype(dtype)))


def synth_state(spec, seed=0, overrides=DEFAULT_OVERRIDES):
    """``{key: array}`` for a spec ``[(key, shape, dtype_str), ...]``, in the spec's order.

    Deterministic in ``(seed, key, shape, dtype)`` alone (see the module docstring).
    """
    return {key: synth_array(key, shape, dtype, seed, overrides) for key, shape, dtype in spec}


def state_spec(state):
    """The spec ``[(key, shape, dtype_str), ...]`` of a ``{key: array}`` dict."""
    return [(k, list(np.shape(v)), np.asarray(v).dtype.name) for k, v in state.items()
            if k != NAME_TABLE_KEY]


def load_spec(path):
    """A spec JSON (a list of ``[key, shape, dtype]``) as a list of tuples."""
    with open(path) as f:
        return [(k, tuple(shape), dtype) for k, shape, dtype in json.load(f)]


def save_spec(spec, path):
    with open(path, 'w') as f:
        json.dump([[k, list(shape), dtype] for k, shape, dtype in spec], f, indent=0)
        f.write('\n')


def save_pdparams(state, path, name_table=None):
    """Write ``state`` as ``paddle.save(layer.state_dict(), path)`` does.

    That file is a protocol-4 pickle of a dict: each key's C-contiguous numpy array
    in the state dict's order, then ``'StructuredToParameterName@@'``, a dict from
    each key to Paddle's internal name of the tensor (``conv2d_0.w_0``, ...; Paddle
    uses it only to rename the loaded tensors). ``name_table`` gives those names;
    without it they are ``synth_0``, ``synth_1``, ... Given the same names, the bytes
    are the same as ``paddle.save``'s (checked by make_fixtures.py).
    """
    keys = [k for k in state if k != NAME_TABLE_KEY]
    out = {k: np.ascontiguousarray(np.asarray(state[k])) for k in keys}
    if name_table is None:
        name_table = state.get(NAME_TABLE_KEY) or {k: f'synth_{i}' for i, k in enumerate(keys)}
    out[NAME_TABLE_KEY] = {k: name_table[k] for k in keys}
    with open(path, 'wb') as f:
        pickle.Pickler(f, 4).dump(out)


def load_pdparams(path, keep_name_table=False):
    """Read a ``.pdparams`` without Paddle: ``{key: numpy array}`` (plain pickle).

    The name table is dropped unless ``keep_name_table``, as ``paddle.load`` does.
    """
    with open(path, 'rb') as f:
        state = pickle.load(f, encoding='latin1')
    if not keep_name_table:
        state.pop(NAME_TABLE_KEY, None)
    return state


def synth_images(n=2, size=(128, 128), seed=0):
    """``(n, 3, H, W)`` float32 standard-normal images (already "normalised")."""
    rng = np.random.default_rng([int(seed), zlib.crc32(b'images')])
    return rng.standard_normal((n, 3) + tuple(size)).astype(np.float32)
