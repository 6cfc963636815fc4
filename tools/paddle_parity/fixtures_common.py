"""What the fixture builders share: the registry, the synthetic weights, the meta.

``ARCHS`` maps an architecture's name to its builder (``@register('name')``, returning
``(arrays, spec, meta)``); each ``fixtures_<arch>.py`` registers its own, and
``make_fixtures.py`` imports them all. ``pw`` is ``detkd.testing.paddle_weights``
(loaded by path, without torch). The helpers build a Paddle model from a yml, load the
synthetic weights into it and check that ``save_pdparams`` writes what ``paddle.save``
writes; the last group is what the YOLOv3, ResNet-vd, GFL and RetinaNet fixtures have in
common (ResNet's weight overrides, the input record, the meta).
"""
import importlib.util
import os.path as osp
import tempfile

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_paddle_weights():
    """detkd.testing.paddle_weights by path: detkd.testing's __init__ imports torch."""
    path = osp.join(ROOT, 'projects', 'detkd', 'testing', 'paddle_weights.py')
    spec = importlib.util.spec_from_file_location('detkd_paddle_weights', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pw = load_paddle_weights()
ARCHS = {}


def register(name):

    def wrap(fn):
        ARCHS[name] = fn
        return fn

    return wrap


def to_np(x):
    import paddle
    if isinstance(x, paddle.Tensor):
        return x.numpy()
    return np.asarray(x)


def build_from_yml(text, name):
    """ppdet's own config system: load_config on a yml, then create(architecture)."""
    from ppdet.core.workspace import create, load_config
    with tempfile.TemporaryDirectory() as d:
        path = osp.join(d, name + '.yml')
        with open(path, 'w') as f:
            f.write(text)
        cfg = load_config(path)
        return create(cfg.architecture), cfg


def model_spec(model):
    return [(k, [int(s) for s in v.shape], np.dtype(to_np(v).dtype).name)
            for k, v in model.state_dict().items()]


def load_synth(model, spec, seed):
    """set_state_dict the synthetic weights; check every key took its value."""
    import paddle
    state = pw.synth_state(spec, seed=seed)
    missing, unexpected = model.set_state_dict({k: paddle.to_tensor(v) for k, v in state.items()})
    assert not missing and not unexpected, (missing, unexpected)
    loaded = model.state_dict()
    assert list(loaded) == list(state)
    for k, v in state.items():
        assert np.array_equal(to_np(loaded[k]), v), k
    return state


def check_pdparams_format(model, state):
    """save_pdparams must write the bytes paddle.save(model.state_dict()) writes."""
    import paddle
    names = {k: v.name for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as d:
        a, b = osp.join(d, 'paddle.pdparams'), osp.join(d, 'ours.pdparams')
        paddle.save(model.state_dict(), a)
        pw.save_pdparams(state, b, name_table=names)
        with open(a, 'rb') as fa, open(b, 'rb') as fb:
            same = fa.read() == fb.read()
        ours = paddle.load(b)
        assert all(np.array_equal(to_np(ours[k]), v) for k, v in state.items())
        back = pw.load_pdparams(a)
        assert list(back) == list(state)
        assert all(np.array_equal(back[k], v) for k, v in state.items())
    assert same, 'save_pdparams does not write the bytes paddle.save writes'
    return next(iter(names.values()))


def weights_checksum(state):
    """float64 sums that a test recomputes from synth_state(spec) to check that the
    weights regenerate bit for bit."""
    flat = [np.asarray(v, np.float64).ravel() for v in state.values()]
    return dict(
        sum=float(sum(f.sum() for f in flat)),
        abs_sum=float(sum(np.abs(f).sum() for f in flat)),
        weighted=float(sum((f * (i + 1)).sum() for i, f in enumerate(flat))))


# Trunks keep the default rule (He gain 2); residual nets add their branch to the
# shortcut, so the last norm of each branch gets small weights (the outputs then stay at
# std ~1 through 33 blocks instead of doubling their variance at each).
RESNET_OVERRIDES = (
    ('*branch2b.norm.weight', 'uniform', (0.1, 0.3)),  # BasicBlock's last norm
    ('*branch2c.norm.weight', 'uniform', (0.1, 0.3)),  # BottleNeck's last norm
)


def record_input(a, prefix, image):
    a[f'{prefix}.image_corner'] = image[:, :, :4, :4]
    a[f'{prefix}.image_sum'] = np.float64(image.astype(np.float64).sum())


def stats(arrays):
    return {
        k: [float(np.abs(v).mean()), float(np.abs(v).max())]
        for k, v in arrays.items() if np.asarray(v).dtype.kind == 'f' and np.ndim(v) > 1
    }


def synth_model(yml, name, seed, overrides):
    import paddle
    paddle.set_device('cpu')
    model, _ = build_from_yml(yml, name)
    model.eval()
    spec = model_spec(model)
    state = pw.synth_state(spec, seed=seed, overrides=overrides)
    missing, unexpected = model.set_state_dict({k: paddle.to_tensor(v) for k, v in state.items()})
    assert not missing and not unexpected, (missing, unexpected)
    loaded = model.state_dict()
    for k, v in state.items():
        assert np.array_equal(to_np(loaded[k]), v), k
    first_name = check_pdparams_format(model, state)
    return model, spec, state, first_name


def common_meta(arch, yml, config, args, spec, state, overrides, first_name, **extra):
    import paddle
    import ppdet
    return dict(
        arch=arch,
        paddle=paddle.__version__,
        ppdet=ppdet.__version__,
        numpy=np.__version__,
        config=config,
        config_yml=yml,
        weight_seed=args.seed,
        weight_overrides=[list(o) for o in overrides],
        input_seed=args.input_seed,
        images='paddle_weights.synth_images(2, (H, W), seed=input_seed)',
        pdparams_bytes_identical=True,
        pdparams_first_name=first_name,
        num_params=len(spec),
        weights_checksum=weights_checksum(state),
        **extra)


def record_backbone_neck(a, model, x):
    """Run a Paddle detector's backbone and FPN on the batch ``x``, record their maps for
    image 0 as ``c.backbone.i`` / ``c.neck.i`` and return the FPN maps."""
    body = model.backbone({'image': x})
    fpn = model.neck(body)
    for i, t in enumerate(body):
        a[f'c.backbone.{i}'] = to_np(t)[:1]
    for i, t in enumerate(fpn):
        a[f'c.neck.{i}'] = to_np(t)[:1]
    return fpn
