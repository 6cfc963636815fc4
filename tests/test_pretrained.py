"""PretrainedMMClsResNet: MMClassification's ResNet-vd ImageNet weights (the GFL R101vd
teacher's pretraining) into mmdet's ResNetV1d, which names its stem and first shortcut
differently."""
import re

import pytest
import torch
from mmdet.registry import MODELS

import detkd  # noqa: F401


def as_mmcls(state):
    """mmdet ResNetV1d names -> MMClassification's, written out: the stem's three
    ConvModules (conv, bn) and layer1's shortcut without the AvgPool."""
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r'stem\.(\d+)\.(.+)', key)
        if m:
            i = int(m[1])
            key = f'stem.{i // 3}.{"conv" if i % 3 == 0 else "bn"}.{m[2]}'
        m = re.fullmatch(r'layer1\.0\.downsample\.(\d+)\.(.+)', key)
        if m:
            key = f'layer1.0.downsample.{int(m[1]) - 1}.{m[2]}'
        out['backbone.' + key] = value
    return out


@pytest.fixture(scope='module')
def imagenet(tmp_path_factory):
    torch.manual_seed(0)
    src = MODELS.build(dict(type='ResNetV1d', depth=50))
    src.init_weights()
    with torch.no_grad():
        for p in src.parameters():
            p.add_(torch.randn_like(p))  # distinct values everywhere
    state = src.state_dict()
    ckpt = dict(
        state_dict=dict(
            as_mmcls(state), **{
                'head.fc.weight': torch.zeros(10, 2048),
                'head.fc.bias': torch.zeros(10)
            }))
    assert 'backbone.stem.0.conv.weight' in ckpt['state_dict']
    assert 'backbone.layer1.0.downsample.0.weight' in ckpt['state_dict']
    path = str(tmp_path_factory.mktemp('ckpt') / 'resnetv1d50_mmcls.pth')
    torch.save(ckpt, path)
    return path, state


@pytest.mark.integration
def test_mmcls_resnet_v1d_loads_completely_into_mmdet_resnetv1d(imagenet):
    path, state = imagenet
    dst = MODELS.build(
        dict(
            type='ResNetV1d',
            depth=50,
            init_cfg=dict(type='PretrainedMMClsResNet', checkpoint=path)))
    dst.init_weights()
    got = dst.state_dict()
    assert set(got) == set(state)
    for key in state:
        torch.testing.assert_close(got[key], state[key], msg=key)


def test_mmengine_pretrained_would_leave_the_stem_random(imagenet):
    """Why the init exists: mmengine's non-strict Pretrained init skips what it cannot name."""
    path, state = imagenet
    plain = MODELS.build(
        dict(
            type='ResNetV1d',
            depth=50,
            init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.')))
    plain.init_weights()
    assert not torch.equal(plain.state_dict()['stem.0.weight'], state['stem.0.weight'])
    assert torch.equal(plain.state_dict()['layer2.0.conv1.weight'], state['layer2.0.conv1.weight'])


def test_a_checkpoint_of_another_depth_is_an_error(imagenet):
    path, _ = imagenet
    deeper = MODELS.build(
        dict(
            type='ResNetV1d',
            depth=101,
            init_cfg=dict(type='PretrainedMMClsResNet', checkpoint=path)))
    with pytest.raises(
            RuntimeError,
            match=r'(?s)does not fit ResNetV1d.*missing: '
            r'layer3\.10\.bn1\.bias.*\(306 in all\)'):
        deeper.init_weights()
