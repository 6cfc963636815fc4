"""Parity with PaddleDetection 2.6's own YOLOv3 (MobileNetV1, ResNet34), ResNet-vd, GFL
(R101vd, R50) and RetinaNet R50, without Paddle, through
tools/model_converters/paddle_to_mmdet.py's converters.

tools/paddle_parity/make_fixtures.py built each Paddle model (in its own venv) with the
synthetic weights that ``synth_state`` regenerates from the committed spec and the overrides
named in the fixture's meta, and stored its outputs on fixed images (tests/data/paddle/
{yolov3_mv1,yolov3_r34,resnet_vd,gfl_r101vd,gfl_r50,retinanet_r50}.npz). Here the same weights
are written as real ``.pdparams`` files, converted by ARCH, loaded (strictly, or for the
ImageNet backbones through mmengine's ``Pretrained`` init as the configs do) and the outputs
compared to 1e-4.
"""
import glob
import json
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope

import detkd  # noqa: F401
from detkd.converters.paddle import ARCHS, ConversionError, convert_file, convert_ppyoloe_file
from detkd.testing.paddle_weights import load_spec, save_pdparams, synth_images, synth_state

DATA = 'tests/data/paddle'
TOL = dict(rtol=1e-4, atol=1e-4)


def fixture(name):
    z = np.load(osp.join(DATA, f'{name}.npz'))
    arrays = {k: z[k] for k in z.files}
    return arrays, json.loads(str(arrays.pop('meta')))


def weights(name, meta, prefix=None):
    """The fixture's synthetic Paddle weights, regenerated; with ``prefix``, only the keys
    under it, stripped of it (e.g. a detector's ``backbone.``: an ImageNet-style file)."""
    overrides = tuple((p, k, tuple(a)) for p, k, a in meta['weight_overrides'])
    spec = load_spec(osp.join(DATA, f'{name}_spec.json'))
    if prefix is not None:
        spec = [t for t in spec if t[0].startswith(prefix)]
    state = synth_state(spec, seed=meta['weight_seed'], overrides=overrides)
    return state if prefix is None else {k[len(prefix):]: v for k, v in state.items()}


def resnet_vd_weights(meta, depth):
    """resnet_vd.npz's spec holds the three depths under ``r{depth}.``; make_fixtures.py drew
    each depth's weights with its own, unprefixed keys (a backbone file's keys)."""
    overrides = tuple((p, k, tuple(a)) for p, k, a in meta['weight_overrides'])
    prefix = f'r{depth}.'
    spec = [(k[len(prefix):], s, d)
            for k, s, d in load_spec(osp.join(DATA, 'resnet_vd_spec.json'))
            if k.startswith(prefix)]
    return synth_state(spec, seed=meta['weight_seed'], overrides=overrides)


def images(arrays, meta):
    case = meta['cases']['c']
    x = synth_images(2, (case['H'], case['W']), seed=meta['input_seed'])
    assert np.array_equal(x[:, :, :4, :4], arrays['c.image_corner'])
    return torch.from_numpy(x)


def close(ours, paddle, what):
    ours = ours.detach().numpy() if torch.is_tensor(ours) else np.asarray(ours)
    assert ours.shape == paddle.shape, (what, ours.shape, paddle.shape)
    err = np.abs(ours - paddle).max()
    assert np.allclose(ours, paddle, **TOL), f'{what}: max abs difference {err:.3g}'


def close_boxes(ours, paddle, what):
    """Boxes agree to 1e-4 of their size: x1 = cx - w / 2 of a box thousands of pixels wide
    (exp of a random logit) loses absolute digits in float32 on either side."""
    ours = ours.detach().numpy()
    assert ours.shape == paddle.shape, (what, ours.shape, paddle.shape)
    side = np.maximum(paddle[..., 2] - paddle[..., 0], paddle[..., 3] - paddle[..., 1])
    err = np.abs(ours - paddle) / (1 + side[..., None])
    assert err.max() <= 1e-4, f'{what}: largest difference {err.max():.3g} x (1 + box side)'


def convert(arch, state, path):
    save_pdparams(state, str(path))
    return convert_file(arch, str(path))


def build_loaded(state, info):
    with DefaultScope.overwrite_default_scope('mmdet'):  # leaves the global scope alone
        model = MODELS.build(info['model_cfg'])
    model.load_state_dict(state, strict=True)
    return model.eval()


def build_pretrained(cfg, state, info, path):
    """A backbone initialised as a config does: init_cfg Pretrained on the saved file."""
    torch.save(dict(state_dict=state, meta=dict(arch=info['desc'])), str(path))
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    got = model.state_dict()
    for k, v in state.items():  # every entry took the file's value
        assert torch.equal(got[k], v), k
    model.eval()  # mmdet's ResNet.train returns None
    return model


# ------------------------------------------------------------------------------ YOLOv3


@pytest.fixture(scope='module', params=['yolov3_mv1', 'yolov3_r34'])
def yolov3(request, tmp_path_factory):
    name = request.param
    arrays, meta = fixture(name)
    state, info = convert(name, weights(name, meta), tmp_path_factory.mktemp(name) / 'm.pdparams')
    model = build_loaded(state, info)
    x = images(arrays, meta)
    with torch.no_grad():
        feats = model.backbone(x)
        (maps, ) = model.bbox_head(model.neck(feats))
    return dict(
        name=name, arrays=arrays, meta=meta, info=info, model=model, feats=feats, maps=maps)


def test_yolov3_converts_to_the_config(yolov3):
    info = yolov3['info']
    assert info['num_classes'] == 80
    assert info['config'].startswith('detkd::yolov3/')


def test_yolov3_backbone_maps(yolov3):
    for i, f in enumerate(yolov3['feats']):
        close(f[:1], yolov3['arrays'][f'c.backbone.{i}'], f'{yolov3["name"]} backbone {i}')


def test_yolov3_raw_head_maps(yolov3):
    """The (N, 3 x 85, H, W) maps at strides 32, 16, 8: the distillation loss's input."""
    assert len(yolov3['maps']) == 3
    for i, m in enumerate(yolov3['maps']):
        close(m, yolov3['arrays'][f'c.head.{i}'], f'{yolov3["name"]} head map {i}')


def test_yolov3_decoded_boxes_before_nms(yolov3):
    """mmdet's YOLOv3 decode (sigmoid x/y, YOLOBBoxCoder on the anchor grid) gives Paddle's
    yolo_box boxes (unclipped) and objectness x class scores. Paddle orders a level's boxes
    anchor, row, column; mmdet row, column, anchor."""
    head, a = yolov3['model'].bbox_head, yolov3['arrays']
    maps = yolov3['maps']
    sizes = [m.shape[-2:] for m in maps]
    priors = head.prior_generator.grid_priors(sizes, device='cpu')
    boxes, scores = [], []
    for m, p, stride in zip(maps, priors, head.featmap_strides):
        n, _, h, w = m.shape
        pred = m.permute(0, 2, 3, 1).reshape(n, -1, head.num_attrib)
        xywh = torch.cat([pred[..., :2].sigmoid(), pred[..., 2:4]], -1)
        dec = head.bbox_coder.decode(p.expand(n, -1, -1), xywh, stride)
        score = pred[..., 5:].sigmoid() * pred[..., 4:5].sigmoid()
        to_paddle = lambda t: t.reshape(n, h, w, 3, -1).permute(0, 3, 1, 2, 4).reshape(  # noqa
            n, 3 * h * w, -1)
        boxes.append(to_paddle(dec))
        scores.append(to_paddle(score))
    boxes, scores = torch.cat(boxes, 1), torch.cat(scores, 1)
    close_boxes(boxes, a['c.decode.bboxes'], 'boxes')
    best = scores.max(-1)
    close(best.values, a['c.decode.max_score'], 'best score')
    top2 = scores.topk(2, -1).values
    clear = (top2[..., 0] - top2[..., 1]).numpy() > 1e-4
    assert clear.mean() > 0.9
    assert np.array_equal(best.indices.numpy()[clear], a['c.decode.label'][clear])


# ---------------------------------------------------------------------- ResNet-vd, MobileNetV1


@pytest.mark.parametrize('depth', [18, 34, 50])
def test_resnet_vd_imagenet_backbone_as_init_cfg(depth, tmp_path):
    """A backbone-only file (with an ImageNet classifier, left out) converts to the
    backbone's own keys and loads through init_cfg Pretrained; the four stages match."""
    arrays, meta = fixture('resnet_vd')
    state = resnet_vd_weights(meta, depth)
    paddle_state = dict(
        state, **{
            'fc.weight': np.zeros((1000, 8), np.float32),
            'fc.bias': np.zeros(1000, np.float32)
        })
    converted, info = convert('resnet_vd', paddle_state, tmp_path / 'r.pdparams')
    assert info['depth'] == depth and info['variant'] == 'd'
    assert sorted(info['dropped']) == ['fc.bias', 'fc.weight']
    assert not any(k.startswith('backbone.') for k in converted)
    model = build_pretrained(
        dict(type='PaddleResNet', depth=depth, variant='d', out_indices=(0, 1, 2, 3)), converted,
        info, tmp_path / 'r.pth')
    with torch.no_grad():
        outs = model(images(arrays, meta))
    for i, o in enumerate(outs):
        close(o, arrays[f'c.r{depth}.{i}'], f'ResNet{depth}-vd stage {i}')


def test_resnet_vd_file_is_not_a_resnet_b(tmp_path):
    _, meta = fixture('resnet_vd')
    with pytest.raises(ConversionError, match='ResNet18-d file.*use ARCH resnet_vd'):
        convert('resnet', resnet_vd_weights(meta, 18), tmp_path / 'r.pdparams')


def test_mobilenet_v1_imagenet_backbone_as_init_cfg(tmp_path):
    """The backbone part of the YOLOv3 MobileNetV1 weights, as an ImageNet file: through
    init_cfg Pretrained, the backbone gives the fixture's maps."""
    arrays, meta = fixture('yolov3_mv1')
    state = weights('yolov3_mv1', meta, prefix='backbone.')
    converted, info = convert('mobilenet_v1', state, tmp_path / 'm.pdparams')
    assert info['widen_factor'] == 1.0 and info['dropped'] == []
    model = build_pretrained(dict(type='MobileNetV1'), converted, info, tmp_path / 'm.pth')
    with torch.no_grad():
        outs = model(images(arrays, meta))
    for i, o in enumerate(outs):
        close(o[:1], arrays[f'c.backbone.{i}'], f'MobileNetV1 {i}')


# --------------------------------------------------------------------------------- GFL

# fixture -> (ARCH, depth, variant, config)
GFLS = {
    'gfl_r101vd': ('gfl_r101vd', 101, 'd', 'detkd::gfl/gfl_r101vd_paddle_coco.py'),
    'gfl_r50': ('gfl_resnet', 50, 'b', 'detkd::gfl/gfl_r50_paddle_coco.py'),
}


@pytest.fixture(scope='module', params=sorted(GFLS))
def gfl(request, tmp_path_factory):
    name = request.param
    arrays, meta = fixture(name)
    paddle_state = weights(name, meta)
    state, info = convert(GFLS[name][0], paddle_state, tmp_path_factory.mktemp('g') / 'g.pdparams')
    model = build_loaded(state, info)
    x = images(arrays, meta)
    with torch.no_grad():
        feats = model.backbone(x)
        neck = model.neck(feats)
        cls, reg = model.bbox_head(neck)
    return dict(
        name=name,
        arrays=arrays,
        meta=meta,
        info=info,
        model=model,
        feats=feats,
        neck=neck,
        cls=cls,
        reg=reg,
        paddle_state=paddle_state)


def test_gfl_converts_to_the_paddle_config(gfl):
    info = gfl['info']
    _, depth, variant, config = GFLS[gfl['name']]
    assert (info['depth'], info['variant'], info['num_classes']) == (depth, variant, 80)
    assert info['config'] == config


def test_gfl_backbone_and_fpn_maps(gfl):
    a = gfl['arrays']
    for i in range(3):  # Paddle's return_idx [1, 2, 3]
        close(gfl['feats'][i + 1][:1], a[f'c.backbone.{i}'], f'backbone {i}')
    assert len(gfl['neck']) == 5
    for i, f in enumerate(gfl['neck']):
        close(f[:1], a[f'c.neck.{i}'], f'FPN level {i}')


def test_gfl_raw_head_outputs(gfl):
    """Class logits and scaled distribution logits per level: what CWD and LD distil."""
    for i, (c, r) in enumerate(zip(gfl['cls'], gfl['reg'])):
        close(c, gfl['arrays'][f'c.cls_logits.{i}'], f'cls logits {i}')
        close(r, gfl['arrays'][f'c.reg_logits.{i}'], f'reg logits {i}')


def test_gfl_scores_and_boxes_before_nms(gfl):
    """mmdet's GFL decode (points at the anchor centres, Integral x stride, distance2bbox)
    without its clipping to the image gives Paddle's eval outputs."""
    from mmdet.structures.bbox import distance2bbox
    head, a = gfl['model'].bbox_head, gfl['arrays']
    sizes = [c.shape[-2:] for c in gfl['cls']]
    priors = head.prior_generator.grid_priors(sizes, device='cpu')
    scores, boxes = [], []
    for c, r, p, stride in zip(gfl['cls'], gfl['reg'], priors, head.prior_generator.strides):
        n = c.shape[0]
        scores.append(c.sigmoid().flatten(2).transpose(1, 2))
        dist = head.integral(r.permute(0, 2, 3, 1).reshape(-1, 4 * (head.reg_max + 1)))
        dist = dist.reshape(n, -1, 4) * stride[0]
        centers = head.anchor_center(p)
        boxes.append(torch.stack([distance2bbox(centers, d) for d in dist]))
    close(torch.cat(scores, 1), a['c.eval.scores'], 'scores')
    close_boxes(torch.cat(boxes, 1), a['c.eval.bboxes'], 'boxes')


def test_resnet101_vd_imagenet_backbone_as_init_cfg(gfl, tmp_path):
    """ResNet101-vd alone (res4b1..res4b22 naming): the GFL's backbone weights as an
    ImageNet file give the GFL fixture's backbone maps."""
    if gfl['name'] != 'gfl_r101vd':
        pytest.skip('the ResNet101-vd of the GFL R101vd fixture')
    state = {
        k[len('backbone.'):]: v
        for k, v in gfl['paddle_state'].items() if k.startswith('backbone.')
    }  # the GFL's own backbone weights
    converted, info = convert('resnet_vd', state, tmp_path / 'r.pdparams')
    assert info['depth'] == 101
    model = build_pretrained(
        dict(type='PaddleResNet', depth=101, variant='d', out_indices=(1, 2, 3)), converted, info,
        tmp_path / 'r.pth')
    with torch.no_grad():
        outs = model(images(gfl['arrays'], gfl['meta']))
    for i, o in enumerate(outs):
        close(o[:1], gfl['arrays'][f'c.backbone.{i}'], f'ResNet101-vd stage {i}')


# --------------------------------------------------------------------------- RetinaNet


@pytest.fixture(scope='module')
def retina(tmp_path_factory):
    arrays, meta = fixture('retinanet_r50')
    paddle_state = weights('retinanet_r50', meta)
    state, info = convert('retinanet', paddle_state, tmp_path_factory.mktemp('r') / 'r.pdparams')
    model = build_loaded(state, info)
    x = images(arrays, meta)
    with torch.no_grad():
        feats = model.backbone(x)
        neck = model.neck(feats)
        cls, reg = model.bbox_head(neck)
    return dict(arrays=arrays, info=info, model=model, feats=feats, neck=neck, cls=cls, reg=reg)


def test_retinanet_converts_to_the_paddle_config(retina):
    info = retina['info']
    assert (info['depth'], info['variant'], info['num_classes']) == (50, 'b', 80)
    assert info['config'] == 'detkd::retinanet/retinanet_r50_paddle_coco.py'


def test_retinanet_backbone_fpn_and_head_maps(retina):
    """Backbone, the 5 FPN levels (extra levels from P5's output, relu before P7) and the
    head's class logits and box deltas per level: what FGD and CWD distil."""
    a = retina['arrays']
    for i in range(3):
        close(retina['feats'][i + 1][:1], a[f'c.backbone.{i}'], f'backbone {i}')
    assert len(retina['neck']) == 5
    for i, (f, c, r) in enumerate(zip(retina['neck'], retina['cls'], retina['reg'])):
        close(f[:1], a[f'c.neck.{i}'], f'FPN level {i}')
        close(c[:1], a[f'c.cls_logits.{i}'], f'class logits {i}')
        close(r, a[f'c.bbox_reg.{i}'], f'box deltas {i}')


def test_retinanet_anchors_and_decoded_boxes(retina):
    """mmdet's anchors in Paddle's order (scale_major=False) are Paddle's, and mmdet's
    delta coder on them gives the boxes Paddle decodes (before its top-1000 and NMS), except
    where a log-size delta is below -log(1000/16): mmdet clamps it there, Paddle does not (a
    box thinner than 1/62 of its anchor); those boxes are mmdet's clamped ones."""
    import math
    head, a = retina['model'].bbox_head, retina['arrays']
    sizes = [c.shape[-2:] for c in retina['cls']]
    priors = head.prior_generator.grid_priors(sizes, device='cpu')
    for i, p in enumerate(priors):
        close(p, a[f'c.anchors.{i}'], f'anchors {i}')
    deltas = torch.cat([r[0].permute(1, 2, 0).reshape(-1, 4) for r in retina['reg']])
    boxes = head.bbox_coder.decode(torch.cat(priors), deltas, max_shape=None)
    clip = math.log(1000 / 16)
    same = (deltas[:, 2:] >= -clip).all(1)
    assert 0 < (~same).sum() < 0.05 * len(same)  # the random weights reach 99 of 3069
    close_boxes(boxes[same][None], a['c.eval.bboxes'][:, same.numpy()], 'boxes')
    clamped = head.bbox_coder.decode(
        torch.cat(priors)[~same], deltas[~same].clamp(min=-clip), max_shape=None)
    torch.testing.assert_close(boxes[~same], clamped)


# ------------------------------------------------------------------------------ refusals


def small_yolo_state():
    _, meta = fixture('yolov3_mv1')
    return weights('yolov3_mv1', meta)


def test_a_file_of_another_architecture_is_refused(tmp_path):
    state = small_yolo_state()
    for arch, match in (('gfl_r101vd', 'not a GFL file'), ('resnet_vd', 'not a Paddle'),
                        ('ppyoloe_plus', 'not a PP-YOLOE'), ('yolov3_r34', 'not ResNet34|'
                                                             'not a PaddleDetection ResNet')):
        with pytest.raises(ConversionError, match=match):
            convert(arch, state, tmp_path / 'x.pdparams')


def test_missing_and_extra_keys_are_listed(tmp_path):
    state = small_yolo_state()
    state.pop('neck.yolo_block.1.tip.conv.weight')
    with pytest.raises(ConversionError, match=r"bbox_head\.convs_bridge\.1\.conv\.weight"):
        convert('yolov3_mv1', state, tmp_path / 'x.pdparams')
    state = small_yolo_state()
    state['neck.yolo_block.0.extra.conv.weight'] = np.zeros((1, ), np.float32)
    with pytest.raises(ConversionError, match=r"1 Paddle entries.*yolo_block\.0\.extra"):
        convert('yolov3_mv1', state, tmp_path / 'x.pdparams')
    state = small_yolo_state()
    state['yolo_head.yolo_output.0.bias'] = state['yolo_head.yolo_output.0.bias'][:-3]
    with pytest.raises(ConversionError, match=r'convs_pred\.0\.bias: file \(252,\)'):
        convert('yolov3_mv1', state, tmp_path / 'x.pdparams')


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / 'm.pdparams'
    with open(path, 'wb') as f:
        pickle.Pickler(f, 4).dump({'conv1._conv.weight': np.zeros((32, 3, 3, 3), np.float32)})
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ConversionError, match='truncated'):
        convert_file('mobilenet_v1', str(path))


def test_ppyoloe_plus_is_an_arch_of_the_tool(tmp_path):
    path = tmp_path / 'p.pdparams'
    save_pdparams(synth_state(load_spec(osp.join(DATA, 'ppyoloe_plus_s_spec.json'))), str(path))
    ours, info = convert_file('ppyoloe_plus', str(path))
    theirs, arch = convert_ppyoloe_file(str(path))
    assert info['size'] == arch['size'] == 's' and sorted(ours) == sorted(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_cli_writes_a_backbone_checkpoint_and_refuses_a_wrong_arch(tmp_path):
    _, meta = fixture('yolov3_mv1')
    src = tmp_path / 'MobileNetV1_pretrained.pdparams'
    save_pdparams(weights('yolov3_mv1', meta, prefix='backbone.'), str(src))
    tool = 'tools/model_converters/paddle_to_mmdet.py'
    dst = tmp_path / 'ckpt' / 'mobilenet_v1_paddle_imagenet.pth'
    run = subprocess.run([sys.executable, tool, 'mobilenet_v1',
                          str(src), str(dst)],
                         capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    assert 'MobileNetV1 x1.0' in run.stdout
    ckpt = torch.load(str(dst), map_location='cpu', weights_only=True)
    assert ckpt['meta']['backbone_only'] and 'conv1.conv.weight' in ckpt['state_dict']
    bad = subprocess.run(
        [sys.executable, tool, 'resnet_vd',
         str(src), str(tmp_path / 'x.pth')],
        capture_output=True,
        text=True)
    assert bad.returncode != 0 and 'not a PaddleDetection ResNet' in bad.stderr
    assert not (tmp_path / 'x.pth').exists()


def test_help_describes_every_arch_and_the_config_it_loads_into():
    """`paddle_to_mmdet.py --help` describes each architecture it converts (or names it as
    an alias), and the configs it names for the converted files exist."""
    tool = 'tools/model_converters/paddle_to_mmdet.py'
    run = subprocess.run([sys.executable, tool, '--help'], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    text = run.stdout[run.stdout.index('ARCH names'):]  # past the usage's list of choices
    assert set(re.findall(r'^    (\w+) {2,}', text, re.M)) <= set(ARCHS)
    assert all(re.search(rf'\b{arch}\b', text) for arch in ARCHS)  # a line or an alias
    named = re.findall(r'-> (configs/\S+\.py)', run.stdout)
    assert len(named) == 6, named
    for pattern in named:  # r{50,101} -> r50, r101; * as a glob
        options = re.search(r'\{(.*)\}', pattern)
        for one in options.group(1).split(',') if options else ['']:
            path = re.sub(r'\{.*\}', one, pattern)
            assert glob.glob(path), path


def test_gfl_r18vd_student_config_takes_the_resnet18_vd_imagenet_file(tmp_path):
    """The LD student's backbone is the layout the converted ImageNet file fills, and the
    rest of its model is the Paddle-laid-out GFL the R101vd parity test runs."""
    from mmengine.config import Config
    _, meta = fixture('resnet_vd')
    converted, _ = convert('resnet_vd', resnet_vd_weights(meta, 18), tmp_path / 'r.pdparams')
    student = Config.fromfile('configs/gfl/gfl_r18vd_fpn_1x_coco.py').model
    teacher = Config.fromfile('configs/gfl/gfl_r101vd_paddle_coco.py').model
    assert student.backbone.init_cfg.checkpoint == 'checkpoints/resnet18_vd_paddle_imagenet.pth'
    with DefaultScope.overwrite_default_scope('mmdet'):
        backbone = MODELS.build(student.backbone)
    assert sorted(backbone.state_dict()) == sorted(converted)
    for key in ('relu_before_extra_convs', 'add_extra_convs', 'start_level', 'num_outs'):
        assert student.neck[key] == teacher.neck[key]
    assert student.bbox_head.conv_cfg == teacher.bbox_head.conv_cfg == dict(type='ConvWithBias')
