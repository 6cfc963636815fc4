"""detkd.testing.paddle_weights: deterministic synthetic Paddle weights (order
independent, dtype and shape kept, the rule by key), the .pdparams pickle format,
and the committed Paddle fixtures' spec and inputs regenerate as stored."""
import json
import math
import os.path as osp
import pickle

import numpy as np
import pytest

from detkd.testing.paddle_weights import (DEFAULT_OVERRIDES, NAME_TABLE_KEY, load_pdparams,
                                          load_spec, rule_for, save_pdparams, save_spec,
                                          state_spec, synth_array, synth_images, synth_state)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = osp.join(ROOT, 'tests', 'data', 'paddle')

SPEC = [
    ('backbone.stem.conv1.conv.weight', (16, 3, 3, 3), 'float32'),
    ('backbone.stem.conv1.bn.weight', (16, ), 'float32'),
    ('backbone.stem.conv1.bn.bias', (16, ), 'float32'),
    ('backbone.stem.conv1.bn._mean', (16, ), 'float32'),
    ('backbone.stem.conv1.bn._variance', (16, ), 'float32'),
    ('backbone.stages.0.blocks.0.conv2.alpha', (1, ), 'float32'),
    ('head.fc.weight', (64, 256), 'float64'),
    ('head.counter', (3, ), 'int64'),
    ('yolo_head.proj_conv.weight', (1, 17, 1, 1), 'float32'),
    ('yolo_head.pred_reg.0.bias', (68, ), 'float32'),
]


def test_order_and_other_keys_do_not_matter():
    a = synth_state(SPEC, seed=3)
    b = synth_state(SPEC[::-1], seed=3)
    c = synth_state(SPEC[4:6], seed=3)
    assert list(a) == [k for k, _, _ in SPEC]
    for k in a:
        assert np.array_equal(a[k], b[k])
    for k in c:
        assert np.array_equal(a[k], c[k])
    other = synth_state(SPEC, seed=4)
    assert not np.array_equal(a[SPEC[0][0]], other[SPEC[0][0]])


def test_dtype_and_shape_kept():
    state = synth_state(SPEC)
    for key, shape, dtype in SPEC:
        assert state[key].shape == tuple(shape)
        assert state[key].dtype == np.dtype(dtype)
        assert state[key].flags['C_CONTIGUOUS']
    assert state_spec(state) == [(k, list(s), d) for k, s, d in SPEC]


def test_rules_by_key():
    s = synth_state([('a.conv.weight', (256, 128, 3, 3), 'float32')])['a.conv.weight']
    assert abs(s.std() - math.sqrt(2 / (128 * 9))) < 0.02 * math.sqrt(2 / (128 * 9))
    state = synth_state(SPEC)
    for key in ('backbone.stem.conv1.bn.weight', 'backbone.stem.conv1.bn._variance',
                'backbone.stages.0.blocks.0.conv2.alpha'):
        assert state[key].min() >= 0.5 and state[key].max() <= 1.5
    assert abs(state['backbone.stem.conv1.bn.bias']).max() < 1
    assert not state['head.counter'].any()
    assert np.array_equal(state['yolo_head.proj_conv.weight'].ravel(), np.arange(17))
    dfl_bias = state['yolo_head.pred_reg.0.bias'].reshape(4, 17)
    assert (np.diff(dfl_bias.mean(0)) < 0).all()  # favours the low DFL bins
    assert rule_for('x.bn.weight', (8, ), 'float32') == ('uniform', (0.5, 1.5))
    assert rule_for('x.weight', (8, 8), 'float32', overrides=()) == ('he', (2.0, ))
    assert rule_for(
        'x.conv.weight', (8, 8), 'float32',
        overrides=(('x.*', 'const', (1, )), )) == ('const', (1, ))


def test_pdparams_round_trip(tmp_path):
    state = synth_state(SPEC)
    path = str(tmp_path / 'model.pdparams')
    save_pdparams(state, path)
    with open(path, 'rb') as f:
        raw = f.read()
    assert raw[:2] == b'\x80\x04'  # pickle protocol 4, as paddle.save
    back = load_pdparams(path)
    assert list(back) == list(state)
    for k in state:
        assert back[k].dtype == state[k].dtype and np.array_equal(back[k], state[k])
    # Paddle's layout: the arrays, then the structured-name -> tensor-name table
    full = pickle.loads(raw)
    assert list(full)[-1] == NAME_TABLE_KEY
    assert list(full[NAME_TABLE_KEY]) == list(state)
    with_table = load_pdparams(path, keep_name_table=True)
    assert with_table[NAME_TABLE_KEY][SPEC[0][0]] == 'synth_0'
    names = {k: f'param_{i}.w_0' for i, k in enumerate(state)}
    save_pdparams(state, path, name_table=names)
    assert load_pdparams(path, keep_name_table=True)[NAME_TABLE_KEY] == names


def test_spec_json_round_trip(tmp_path):
    path = str(tmp_path / 'spec.json')
    save_spec(SPEC, path)
    assert load_spec(path) == [(k, tuple(s), d) for k, s, d in SPEC]


def test_synth_array_matches_state():
    key, shape, dtype = SPEC[0]
    assert np.array_equal(synth_array(key, shape, dtype, seed=5), synth_state(SPEC, seed=5)[key])


@pytest.mark.skipif(
    not osp.exists(osp.join(DATA, 'ppyoloe_plus_s.npz')), reason='no Paddle fixtures')
def test_ppyoloe_fixture_spec_and_inputs_regenerate():
    spec = load_spec(osp.join(DATA, 'ppyoloe_plus_s_spec.json'))
    assert len(spec) == 429 and all(d == 'float32' for _, _, d in spec)
    state = synth_state(spec, seed=0)
    assert sum(v.size for v in state.values()) == 8105523
    fx = np.load(osp.join(DATA, 'ppyoloe_plus_s.npz'))
    meta = json.loads(str(fx['meta']))
    assert meta['weight_seed'] == 0
    # the fixtures were made with today's rule, and the weights regenerate bit for bit
    assert meta['weight_overrides'] == json.loads(json.dumps([list(o) for o in DEFAULT_OVERRIDES]))
    flat = [v.astype(np.float64).ravel() for v in state.values()]
    check = meta['weights_checksum']
    assert math.isclose(sum(f.sum() for f in flat), check['sum'], rel_tol=1e-12)
    assert math.isclose(sum(np.abs(f).sum() for f in flat), check['abs_sum'], rel_tol=1e-12)
    weighted = sum((f * (i + 1)).sum() for i, f in enumerate(flat))
    assert math.isclose(weighted, check['weighted'], rel_tol=1e-12)
    for prefix, case in meta['cases'].items():
        image = synth_images(2, (case['H'], case['W']), seed=meta['input_seed'])
        assert np.array_equal(image[:, :, :4, :4], fx[f'{prefix}.image_corner'])
        assert np.isclose(
            image.astype(np.float64).sum(), fx[f'{prefix}.image_sum'], rtol=0, atol=1e-6)


@pytest.mark.skipif(
    not osp.exists(osp.join(DATA, 'ppyoloe_plus_s.npz')), reason='no Paddle fixtures')
def test_ppyoloe_fixture_matches_numpy_reference():
    """tools/paddle_parity/numpy_reference.py (PP-YOLOE+'s decode, ATSS, TAL, losses
    and NMS in numpy) reproduces what Paddle recorded: the written semantics hold."""
    import importlib.util
    path = osp.join(ROOT, 'tools', 'paddle_parity', 'numpy_reference.py')
    spec = importlib.util.spec_from_file_location('numpy_reference', path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    results = ref.check(osp.join(DATA, 'ppyoloe_plus_s.npz'))
    assert set(results) == {'sq', 'ns'}
    for out in results.values():
        assert out['decode'] < 1e-4 and out['decode_eval'] < 1e-4  # pixels
        assert out['atss_scores_rel'] < 1e-5 and out['tal_scores_rel'] < 1e-5
        assert out['loss_static_rel'] < 1e-5 and out['loss_tal_rel'] < 1e-5
        assert out['nms_score'] < 1e-6
