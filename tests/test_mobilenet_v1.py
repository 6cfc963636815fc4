"""MobileNetV1: the outputs Paddle's YOLOv3 takes, freezing, norm_eval, registry, the
parameter count of the architecture table, and Paddle's parameter names."""
import re

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

import detkd  # noqa: F401
from detkd.models import MobileNetV1

# Howard et al. 2017, Table 1 (without the classifier): the stem, then
# (input channels, output channels) of the 13 depthwise-separable blocks.
STEM = (3, 32)
BLOCKS = [(32, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512)] + \
    [(512, 512)] * 5 + [(512, 1024), (1024, 1024)]
PADDLE_NAMES = [
    'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv4_1', 'conv4_2', 'conv5_1', 'conv5_2',
    'conv5_3', 'conv5_4', 'conv5_5', 'conv5_6', 'conv6'
]


def table_param_count(width=1.0):
    """Conv weights (no bias) and BN weight+bias, from the table alone."""
    c = lambda n: int(n * width)  # noqa: E731  (Paddle's channel rule)
    total = 3 * 3 * STEM[0] * c(STEM[1]) + 2 * c(STEM[1])
    for cin, cout in BLOCKS:
        total += 3 * 3 * c(cin) + 2 * c(cin)  # depthwise 3x3 + BN
        total += c(cin) * c(cout) + 2 * c(cout)  # pointwise 1x1 + BN
    return total


def test_parameter_count_is_mobilenet_v1s():
    expected = table_param_count()
    # the known figure: 4.2M with the 1024x1000 classifier, about 3.2M without it
    assert 3.15e6 < expected < 3.25e6
    assert sum(p.numel() for p in MobileNetV1().parameters()) == expected
    assert sum(p.numel() for p in MobileNetV1(widen_factor=0.25).parameters()) == \
        table_param_count(0.25)


@pytest.mark.parametrize('widen_factor, channels', [(1.0, (256, 512, 1024)),
                                                    (0.25, (64, 128, 256))])
def test_yolov3_outputs_at_strides_8_16_32(widen_factor, channels):
    model = MobileNetV1(widen_factor=widen_factor).eval()
    outs = model(torch.zeros(2, 3, 256, 320))
    assert tuple(o.shape[1] for o in outs) == channels == tuple(model.out_channels)
    assert [tuple(o.shape[2:]) for o in outs] == [(256 // s, 320 // s) for s in (8, 16, 32)]
    assert all(o.shape[0] == 2 for o in outs)


def test_out_indices_choose_blocks():
    model = MobileNetV1(out_indices=(0, 1, 4, 11)).eval()
    outs = model(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 1024]
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 2]


def test_features_depend_on_the_input():
    model = MobileNetV1(widen_factor=0.25).eval()
    model.init_weights()
    a, b = model(torch.randn(1, 3, 64, 64)), model(torch.randn(1, 3, 64, 64))
    assert all(not torch.allclose(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize('frozen_stages', [0, 2, 13])
def test_frozen_stages_freeze_the_stem_and_first_blocks(frozen_stages):
    model = MobileNetV1(widen_factor=0.25, frozen_stages=frozen_stages)
    model.train()
    frozen = ['conv1'] + PADDLE_NAMES[:frozen_stages]
    for name, param in model.named_parameters():
        assert param.requires_grad == (name.split('.')[0] not in frozen), name
    for name, module in model.named_modules():
        if name:
            assert module.training == (name.split('.')[0] not in frozen), name
    # frozen BN statistics do not move in a training step, the others do
    before = {k: v.clone() for k, v in model.state_dict().items() if 'running_mean' in k}
    model(torch.randn(2, 3, 64, 64))
    for key, value in model.state_dict().items():
        if 'running_mean' in key:
            moved = not torch.equal(value, before[key])
            assert moved == (key.split('.')[0] not in frozen), key


def test_no_freezing_by_default():
    model = MobileNetV1(widen_factor=0.25)
    model.train()
    assert all(p.requires_grad for p in model.parameters())
    assert all(m.training for m in model.modules())


def test_norm_eval_keeps_bn_in_eval_mode_but_trainable():
    model = MobileNetV1(widen_factor=0.25, norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert len(bns) == 1 + 2 * 13
    assert not any(m.training for m in bns)
    assert all(p.requires_grad for p in model.parameters())
    assert model.conv2_1.depthwise_conv.conv.training
    model.eval()
    model.train()
    assert not any(m.training for m in bns)


def test_builds_from_config_through_mmdet_registry():
    from mmdet.registry import MODELS
    model = MODELS.build(
        dict(
            type='MobileNetV1',
            widen_factor=0.5,
            out_indices=(5, 12),
            frozen_stages=1,
            norm_eval=True))
    assert isinstance(model, MobileNetV1)
    assert model.out_channels == [256, 512]
    assert model.frozen_stages == 1 and model.norm_eval


def test_default_init_is_kaiming_fan_in_as_paddle():
    """Paddle's KaimingNormal: std sqrt(2 / fan_in), fan_in 9 for a depthwise 3x3."""
    torch.manual_seed(0)
    model = MobileNetV1()
    model.init_weights()
    dw = model.conv6.depthwise_conv.conv.weight  # 1024 x 1 x 3 x 3
    pw = model.conv6.pointwise_conv.conv.weight  # 1024 x 1024 x 1 x 1
    assert abs(dw.std().item() / (2 / 9)**0.5 - 1) < 0.05
    assert abs(pw.std().item() / (2 / 1024)**0.5 - 1) < 0.05
    assert torch.equal(model.conv6.depthwise_conv.bn.weight, torch.ones(1024))


def paddle_state_keys():
    """The state-dict keys of PaddleDetection 2.6's ``MobileNet`` (scale 1, no extra
    blocks): ConvBNLayer holds ``_conv`` and ``_batch_norm`` (Paddle's BatchNorm2D keeps
    ``weight``, ``bias``, ``_mean``, ``_variance``); blocks hold ``_depthwise_conv`` and
    ``_pointwise_conv``."""
    layers = ['conv1'] + [
        f'{n}.{part}' for n in PADDLE_NAMES for part in ('_depthwise_conv', '_pointwise_conv')
    ]
    return [
        f'{layer}.{key}' for layer in layers
        for key in ('_conv.weight', '_batch_norm.weight', '_batch_norm.bias', '_batch_norm._mean',
                    '_batch_norm._variance')
    ]


def paddle_to_ours(key):
    """The rename the docstring documents."""
    key = re.sub(r'\._batch_norm\.', '.bn.', key)
    key = re.sub(r'\.bn\._mean$', '.bn.running_mean', key)
    key = re.sub(r'\.bn\._variance$', '.bn.running_var', key)
    return re.sub(r'(^|\.)_', r'\1', key)


def test_paddle_names_map_by_renaming_alone():
    ours = {k for k in MobileNetV1().state_dict() if not k.endswith('num_batches_tracked')}
    assert {paddle_to_ours(k) for k in paddle_state_keys()} == ours
    assert paddle_to_ours('conv2_1._depthwise_conv._conv.weight') == \
        'conv2_1.depthwise_conv.conv.weight'


@pytest.mark.parametrize('bad', [
    dict(out_indices=(13, )),
    dict(out_indices=()),
    dict(frozen_stages=14),
    dict(frozen_stages=-2),
    dict(widen_factor=0.01)
])
def test_bad_arguments(bad):
    with pytest.raises(ValueError, match='MobileNetV1'):
        MobileNetV1(**bad)
