"""Parity with PaddleDetection 2.6's own PP-YOLOE+ s, without Paddle.

tools/paddle_parity/make_fixtures.py built Paddle's model (in its own venv, see
tools/paddle_parity/README.md) with the synthetic weights that
``detkd.testing.paddle_weights.synth_state`` regenerates from the committed parameter spec,
and stored its outputs on fixed images and GT (tests/data/paddle/ppyoloe_plus_s.npz). Here
the same weights are written as a real ``.pdparams``, converted with our converter, loaded
into our PP-YOLOE+ s and every output compared: backbone and neck maps, head logits,
anchors, decoded boxes, ATSS and task-aligned assignments, the loss terms of both phases and
the post-processed detections, at 128x128 and 128x160.

Paddle runs its levels from stride 32 down, we from stride 8 up: level i here is Paddle's
2 - i, and the anchors are permuted accordingly.
"""
import json
import re

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import detkd  # noqa: F401
from detkd.converters.paddle import (ConversionError, convert_ppyoloe_file, load_pdparams,
                                     ppyoloe_arch_from_state, ppyoloe_model_cfg,
                                     ppyoloe_paddle_to_mmdet)
from detkd.testing.paddle_weights import load_spec, save_pdparams, synth_images, synth_state

FIXTURE = 'tests/data/paddle/ppyoloe_plus_s.npz'
SPEC = 'tests/data/paddle/ppyoloe_plus_s_spec.json'
TOL = dict(rtol=1e-4, atol=1e-4)


@pytest.fixture(scope='module')
def fx():
    z = np.load(FIXTURE)
    return {k: z[k] for k in z.files}


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    path = tmp_path_factory.mktemp('paddle') / 'ppyoloe_plus_s.pdparams'
    save_pdparams(synth_state(load_spec(SPEC), seed=0), str(path))
    state, arch = convert_ppyoloe_file(str(path))
    return state, arch, path


@pytest.fixture(scope='module')
def model(converted):
    from mmdet.registry import MODELS
    state, arch, _ = converted
    with DefaultScope.overwrite_default_scope('mmdet'):
        m = MODELS.build(ppyoloe_model_cfg(arch))
    m.load_state_dict(state, strict=True)
    return m.eval()


def case_inputs(fx, case):
    meta = json.loads(str(fx['meta']))
    h, w = meta['cases'][case]['H'], meta['cases'][case]['W']
    images = synth_images(2, (h, w), seed=meta['input_seed'])
    assert np.array_equal(images[:, :, :4, :4], fx[f'{case}.image_corner'])
    assert images.astype(np.float64).sum() == pytest.approx(float(fx[f'{case}.image_sum']))
    return torch.from_numpy(images)


def level_perm(sizes_paddle_order):
    """Indices into Paddle's anchor order (strides 32, 16, 8) giving ours (8, 16, 32)."""
    starts = np.cumsum([0] + list(sizes_paddle_order))
    return np.concatenate([np.arange(starts[i], starts[i + 1]) for i in (2, 1, 0)])


def gt_instances(fx, case):
    out = []
    for b in range(2):
        keep = fx[f'{case}.pad_gt_mask'][b, :, 0] > 0
        out.append(
            InstanceData(
                bboxes=torch.from_numpy(fx[f'{case}.gt_bbox'][b][keep]),
                labels=torch.from_numpy(fx[f'{case}.gt_class'][b][keep, 0]).long()))
    return out


@pytest.fixture(scope='module')
def outputs(model, fx):
    res = {}
    with torch.no_grad():
        for case in ('sq', 'ns'):
            x = case_inputs(fx, case)
            feats_b = model.backbone(x)
            feats_n = model.neck(feats_b)
            cls, reg = model.bbox_head(feats_n)
            res[case] = dict(x=x, backbone=feats_b, neck=feats_n, cls=cls, reg=reg)
    return res


def test_converter_fills_every_entry(converted):
    state, arch, path = converted
    assert arch == dict(
        size='s',
        depth_mult=0.33,
        width_mult=0.5,
        num_classes=80,
        use_large_stem=True,
        use_alpha=True)
    paddle = load_pdparams(str(path))
    assert len(paddle) == len(load_spec(SPEC))
    # every Paddle entry but the fixed DFL projection lands somewhere, values unchanged
    n_bn = sum(k.endswith('._variance') for k in paddle)
    assert len(state) == len(paddle) - 1 + n_bn  # + num_batches_tracked per BN
    assert np.array_equal(state['bbox_head.pred_cls.0.weight'].numpy(),
                          paddle['yolo_head.pred_cls.2.weight'])
    assert np.array_equal(state['backbone.stem.conv1.bn.running_var'].numpy(),
                          paddle['backbone.stem.conv1.bn._variance'])


def test_trunk_maps(outputs, fx):
    out = outputs['sq']
    for i in range(3):
        np.testing.assert_allclose(out['backbone'][i][:1].numpy(), fx[f'sq.backbone.{i}'], **TOL)
        np.testing.assert_allclose(out['neck'][i][:1].numpy(), fx[f'sq.neck.{2 - i}'], **TOL)


@pytest.mark.parametrize('case', ['sq', 'ns'])
def test_head_logits(outputs, fx, case):
    out = outputs[case]
    for i in range(3):
        np.testing.assert_allclose(out['cls'][i].numpy(), fx[f'{case}.cls_logits.{2 - i}'], **TOL)
        np.testing.assert_allclose(out['reg'][i].numpy(), fx[f'{case}.reg_logits.{2 - i}'], **TOL)


def assign_inputs(model, out, fx, case):
    head = model.bbox_head
    cls_logits, dist_logits = head.flatten(out['cls'], out['reg'])
    anchors, points, num_list, stride = head.grid_anchors([c.shape[-2:] for c in out['cls']],
                                                          'cpu')
    perm = level_perm(fx[f'{case}.train.num_anchors_list'])
    np.testing.assert_allclose(anchors.numpy(), fx[f'{case}.train.anchors'][perm])
    np.testing.assert_allclose(points.numpy(), fx[f'{case}.train.anchor_points'][perm])
    np.testing.assert_allclose(stride.numpy(), fx[f'{case}.train.stride_tensor'][perm])
    pred = head.decode(points / stride, dist_logits) * stride
    np.testing.assert_allclose(pred.numpy(), fx[f'{case}.train.pred_bboxes'][:, perm], **TOL)
    gt = [torch.from_numpy(fx[f'{case}.{k}']) for k in ('gt_class', 'gt_bbox', 'pad_gt_mask')]
    return cls_logits.sigmoid(), pred, anchors, points, num_list, gt, perm


@pytest.mark.parametrize('case', ['sq', 'ns'])
@pytest.mark.parametrize('kind', ['atss', 'tal'])
def test_assignments(model, outputs, fx, case, kind):
    head = model.bbox_head
    scores, pred, anchors, points, num_list, (labels, boxes, mask), perm = assign_inputs(
        model, outputs[case], fx, case)
    if kind == 'atss':
        res = head.static_assigner(anchors, num_list, labels.long(), boxes, mask, pred)
    else:
        res = head.assigner(scores, pred, points, labels.long(), boxes, mask)
    ref = {
        k: fx[f'{case}.{kind}.{k}'][:, perm]
        for k in ('assigned_labels', 'assigned_bboxes', 'assigned_scores')
    }
    ref_mask = fx[f'{case}.{kind}.mask_positive'][:, :, perm]
    assert (ref['assigned_labels'] != 80).sum() > 10  # a test with positives
    np.testing.assert_array_equal(res.labels.numpy(), ref['assigned_labels'])
    np.testing.assert_array_equal(res.mask_positive.numpy(), ref_mask)
    np.testing.assert_allclose(res.bboxes.numpy(), ref['assigned_bboxes'], **TOL)
    np.testing.assert_allclose(res.scores.numpy(), ref['assigned_scores'], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('case', ['sq', 'ns'])
@pytest.mark.parametrize('phase', ['static', 'tal'])
def test_losses(model, outputs, fx, case, phase):
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0 if phase == 'static' else 30)
    try:
        out = outputs[case]
        losses = model.bbox_head.loss_by_feat(out['cls'], out['reg'], gt_instances(fx, case),
                                              [{}] * 2)
    finally:
        hub.update_info('epoch', 0)
    ref = {
        k: float(fx[f'{case}.loss_{phase}.{k}'])
        for k in ('loss_cls', 'loss_iou', 'loss_dfl', 'loss_l1', 'loss')
    }
    w = model.bbox_head.loss_weight
    assert losses['loss_cls'].item() / w['cls'] == pytest.approx(ref['loss_cls'], rel=1e-4)
    assert losses['loss_iou'].item() / w['iou'] == pytest.approx(ref['loss_iou'], rel=1e-4)
    assert losses['loss_dfl'].item() / w['dfl'] == pytest.approx(ref['loss_dfl'], rel=1e-4)
    assert losses['bbox_l1'].item() == pytest.approx(ref['loss_l1'], rel=1e-4)
    total = sum(v.item() for k, v in losses.items() if 'loss' in k)
    assert total == pytest.approx(ref['loss'], rel=1e-4)


@pytest.mark.parametrize('case', ['sq', 'ns'])
def test_detections(model, outputs, fx, case):
    out = outputs[case]
    h, w = out['x'].shape[-2:]
    metas = [dict(img_shape=(h, w), scale_factor=(1., 1.))] * 2
    results = model.bbox_head.predict_by_feat(
        out['cls'], out['reg'], batch_img_metas=metas, rescale=True)
    ref = np.split(fx[f'{case}.eval.bbox'], np.cumsum(fx[f'{case}.eval.bbox_num'])[:-1])
    for r, p in zip(results, ref):
        assert len(p) > 50  # the weights are made so that many boxes pass
        # Paddle orders by class, then score; mmdet by score
        order = np.lexsort((-r.scores.numpy(), r.labels.numpy()))
        assert len(r.scores) == len(p)
        np.testing.assert_array_equal(r.labels.numpy()[order], p[:, 0].astype(int))
        np.testing.assert_allclose(r.scores.numpy()[order], p[:, 1], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(r.bboxes.numpy()[order], p[:, 2:], **TOL)


def paddle_names(our_state, num_levels=3):
    """Our state dict renamed to Paddle's names (the inverse of the converter's map, written
    separately): for the other sizes, which have no Paddle fixture."""
    out = {}
    for k, v in our_state.items():
        if k.endswith('num_batches_tracked'):
            continue
        k = k.replace('.running_mean', '._mean').replace('.running_var', '._variance')
        m = re.match(r'bbox_head\.(\w+)\.(\d+)\.(.+)', k)
        if m:
            k = f'yolo_head.{m.group(1)}.{num_levels - 1 - int(m.group(2))}.{m.group(3)}'
        out[k] = v.numpy()
    out['yolo_head.proj_conv.weight'] = np.arange(17, dtype=np.float32).reshape(1, 17, 1, 1)
    return out


@pytest.mark.parametrize('size,depth,width', [('m', 0.67, 0.75), ('x', 1.33, 1.25)])
def test_converter_reads_any_size(size, depth, width, tmp_path):
    from mmdet.registry import MODELS
    cfg = ppyoloe_model_cfg(
        dict(
            depth_mult=depth,
            width_mult=width,
            num_classes=365,
            use_large_stem=True,
            use_alpha=True))
    with DefaultScope.overwrite_default_scope('mmdet'):
        ours = MODELS.build(cfg).state_dict()
    path = tmp_path / f'{size}.pdparams'
    save_pdparams(paddle_names(ours), str(path))
    state, arch = convert_ppyoloe_file(str(path))
    assert (arch['size'], arch['num_classes']) == (size, 365)
    assert set(state) == set(ours)


def test_converter_refuses_a_truncated_or_foreign_file(converted, tmp_path):
    _, _, path = converted
    trunc = tmp_path / 'trunc.pdparams'
    trunc.write_bytes(path.read_bytes()[:100000])
    with pytest.raises(ConversionError, match='truncated download'):
        convert_ppyoloe_file(str(trunc))
    state = load_pdparams(str(path))
    del state['yolo_head.pred_reg.1.bias']
    state['neck.extra.weight'] = np.zeros(3, np.float32)
    odd = tmp_path / 'odd.pdparams'
    save_pdparams(state, str(odd))
    with pytest.raises(ConversionError) as e:
        convert_ppyoloe_file(str(odd))
    msg = str(e.value)
    assert 'bbox_head.pred_reg.1.bias' in msg and 'neck.extra.weight' in msg
    assert ppyoloe_arch_from_state(state)['size'] == 's'
    assert ppyoloe_paddle_to_mmdet(state)[1] == []
