"""Paddle parity fixtures: what PaddleDetection 2.6 computes, with synthetic weights.

Run with the Paddle venv (``bash tools/paddle_parity/setup_venv.sh`` makes it)::

    OMP_NUM_THREADS=1 .venv-paddle/bin/python tools/paddle_parity/make_fixtures.py \
        --arch ppyoloe_plus_s

For each architecture it builds Paddle's model, loads the weights that
``detkd.testing.paddle_weights.synth_state`` makes from the model's parameter spec,
runs fixed inputs and writes ``tests/data/paddle/<arch>.npz`` (float32/int arrays
and a JSON ``meta``) and ``tests/data/paddle/<arch>_spec.json`` (the parameter spec:
``[key, shape, dtype]``). The weights are not stored: a test regenerates them from
the spec. ``--compare`` recomputes and compares with the stored file instead of
writing. See tools/paddle_parity/README.md for what each array is.

Architectures are builder functions in ``ARCHS`` (``@register('name')``): each
returns ``(arrays, spec, meta)``.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys
import tempfile

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OUT_DIR = osp.join(ROOT, 'tests', 'data', 'paddle')


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


# --------------------------------------------------------------------------- helpers


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


def pad_gt(boxes_per_image, labels_per_image):
    """Paddle's PadGT: (B, n, 4) float32 boxes, (B, n, 1) int32 classes, (B, n, 1)
    float32 pad_gt_mask, n the batch's largest box count, zero-padded."""
    n = max(len(b) for b in boxes_per_image)
    bsz = len(boxes_per_image)
    gt_bbox = np.zeros((bsz, n, 4), np.float32)
    gt_class = np.zeros((bsz, n, 1), np.int32)
    mask = np.zeros((bsz, n, 1), np.float32)
    for i, (bb, ll) in enumerate(zip(boxes_per_image, labels_per_image)):
        gt_bbox[i, :len(bb)] = bb
        gt_class[i, :len(ll), 0] = ll
        mask[i, :len(bb)] = 1
    return gt_bbox, gt_class, mask


def topk_margin(values, k):
    """Relative gap between the k-th and (k+1)-th largest of each row (ties: 0)."""
    v = -np.sort(-values, axis=-1)
    a, b = v[..., k - 1], v[..., k]
    return (a - b) / np.maximum(np.abs(a), 1e-30)


# ------------------------------------------------------------------------ PP-YOLOE+

# configs/ppyoloe/_base_/ppyoloe_plus_crn.yml of PaddleDetection release/2.6 (the
# model part; the wheel ships no configs), num_classes from
# configs/datasets/coco_detection.yml, depth/width from ppyoloe_plus_crn_s_80e_coco.yml.
# eval_size (640x640 in _base_/ppyoloe_plus_reader.yml, shared with PPYOLOEHead) is
# left out: with it the head precomputes eval anchors for 640x640; without it it
# makes them from the feature maps, the same values for a 640x640 input.
PPYOLOE_PLUS_S_YML = """\
architecture: YOLOv3
norm_type: sync_bn
num_classes: 80
depth_mult: 0.33
width_mult: 0.50

YOLOv3:
  backbone: CSPResNet
  neck: CustomCSPPAN
  yolo_head: PPYOLOEHead
  post_process: ~

CSPResNet:
  layers: [3, 6, 6, 3]
  channels: [64, 128, 256, 512, 1024]
  return_idx: [1, 2, 3]
  use_large_stem: True
  use_alpha: True

CustomCSPPAN:
  out_channels: [768, 384, 192]
  stage_num: 1
  block_num: 3
  act: 'swish'
  spp: true

PPYOLOEHead:
  fpn_strides: [32, 16, 8]
  grid_cell_scale: 5.0
  grid_cell_offset: 0.5
  static_assigner_epoch: 30
  use_varifocal_loss: True
  loss_weight: {class: 1.0, iou: 2.5, dfl: 0.5}
  static_assigner:
    name: ATSSAssigner
    topk: 9
  assigner:
    name: TaskAlignedAssigner
    topk: 13
    alpha: 1.0
    beta: 6.0
  nms:
    name: MultiClassNMS
    nms_top_k: 1000
    keep_top_k: 300
    score_threshold: 0.01
    nms_threshold: 0.7
"""

# GT in pixels of a 128 x 128 image (x1, y1, x2, y2), fractional so that no gt
# centre is equidistant from two anchor centres (ATSS's top-k) and no box edge
# falls on an anchor centre (the inside-gt test).
PPYOLOE_GT_128 = (
    # image 0: a large box, one on the top and right borders, a tiny (6.3 x 6.2) one
    ([[10.3, 20.7, 70.9, 90.2], [85.6, 0.0, 128.0, 47.3], [50.2, 98.7, 56.5, 104.9]], [3, 17, 79]),
    # image 1: one box (padded to 3 with pad_gt_mask 0)
    ([[30.4, 40.8, 100.7, 118.3]], [0]),
)

CASES = {
    # name: (H, W, full record: backbone and neck outputs too)
    'sq': (128, 128, True),
    'ns': (128, 160, False),
}


def ppyoloe_gt(h, w):
    sx, sy = w / 128., h / 128.
    boxes, labels = [], []
    for bb, ll in PPYOLOE_GT_128:
        b = np.asarray(bb, np.float64) * [sx, sy, sx, sy]
        boxes.append(b.astype(np.float32))
        labels.append(ll)
    return pad_gt(boxes, labels)


class AssignerRecorder:
    """Forward hooks on the head's two assigners: their inputs and outputs as numpy
    (copied at once: get_loss then divides assigned_bboxes by the strides in place)."""

    def __init__(self, head):
        self.calls = []
        self.handles = []
        for name in ('static_assigner', 'assigner'):
            layer = getattr(head, name)
            self.handles.append(layer.register_forward_post_hook(self._hook(name)))

    def _hook(self, name):

        def hook(layer, inputs, outputs):
            self.calls.append((name, [to_np(x) if hasattr(x, 'numpy') else x
                                      for x in inputs], [to_np(x) for x in outputs]))

        return hook

    def pop(self):
        calls, self.calls = self.calls, []
        return calls

    def remove(self):
        for h in self.handles:
            h.remove()


def ppyoloe_case(model, prefix, h, w, full, input_seed, arrays, diag):
    import paddle
    import paddle.nn.functional as F
    from ppdet.modeling.assigners.utils import generate_anchors_for_grid_cell
    from ppdet.modeling.bbox_utils import batch_distance2bbox

    head = model.yolo_head
    nc, reg_ch = head.num_classes, head.reg_channels
    image = pw.synth_images(2, (h, w), seed=input_seed)
    gt_bbox, gt_class, pad_gt_mask = ppyoloe_gt(h, w)
    im_shape = np.array([[h, w]] * 2, np.float32)
    scale_factor = np.ones((2, 2), np.float32)
    a = arrays
    a[f'{prefix}.image_corner'] = image[:, :, :4, :4]  # to check synth_images
    a[f'{prefix}.image_sum'] = np.float64(image.astype(np.float64).sum())
    a[f'{prefix}.im_shape'] = im_shape
    a[f'{prefix}.scale_factor'] = scale_factor
    a[f'{prefix}.gt_bbox'] = gt_bbox
    a[f'{prefix}.gt_class'] = gt_class
    a[f'{prefix}.pad_gt_mask'] = pad_gt_mask
    x = paddle.to_tensor(image)

    model.eval()
    with paddle.no_grad():
        body = model.backbone({'image': x})
        neck = model.neck(body)
        if full:  # image 0 only (size): eval-mode BN keeps the images independent
            for i, t in enumerate(body):
                a[f'{prefix}.backbone.{i}'] = to_np(t)[:1]
            for i, t in enumerate(neck):
                a[f'{prefix}.neck.{i}'] = to_np(t)[:1]

        # the head's sublayers, as forward_train / forward_eval call them
        cls_logits, reg_logits = [], []
        for i, feat in enumerate(neck):
            avg_feat = F.adaptive_avg_pool2d(feat, (1, 1))
            cls_logits.append(head.pred_cls[i](head.stem_cls[i](feat, avg_feat) + feat))
            reg_logits.append(head.pred_reg[i](head.stem_reg[i](feat, avg_feat)))
        for i in range(len(neck)):
            a[f'{prefix}.cls_logits.{i}'] = to_np(cls_logits[i])
            a[f'{prefix}.reg_logits.{i}'] = to_np(reg_logits[i])

        # ... reproduce forward_eval: scores (B, C, L) and projected distances (B, L, 4)
        scores_e, dist_e, points_e, strides_e = head.forward_eval(neck)
        mine_scores = paddle.concat([F.sigmoid(c).reshape([2, nc, -1]) for c in cls_logits],
                                    axis=-1)
        assert np.array_equal(to_np(scores_e), to_np(mine_scores))
        mine_dist = []
        for r in reg_logits:
            d = F.softmax(r.reshape([2, 4, reg_ch, -1]).transpose([0, 2, 3, 1]), axis=1)
            mine_dist.append(head.proj_conv(d).squeeze(1))
        assert np.array_equal(to_np(dist_e), to_np(paddle.concat(mine_dist, axis=1)))
        # ... and forward_train's layout (get_data: scores (B, L, C), pred_deltas * stride)
        scores_t, deltas_t, dfl_t = head.forward_train(neck, {'get_data': True})
        mine_t = paddle.concat([F.sigmoid(c).flatten(2).transpose([0, 2, 1]) for c in cls_logits],
                               axis=1)
        assert np.array_equal(to_np(scores_t), to_np(mine_t))
        a[f'{prefix}.eval.anchor_points'] = to_np(points_e)
        a[f'{prefix}.eval.stride_tensor'] = to_np(strides_e)

        # train-time anchors
        anchors, points, num_list, strides = generate_anchors_for_grid_cell(
            neck, head.fpn_strides, head.grid_cell_scale, head.grid_cell_offset)
        a[f'{prefix}.train.anchors'] = to_np(anchors)
        a[f'{prefix}.train.anchor_points'] = to_np(points)
        a[f'{prefix}.train.stride_tensor'] = to_np(strides)
        a[f'{prefix}.train.num_anchors_list'] = np.asarray(num_list, np.int32)
        assert np.allclose(to_np(points_e) * to_np(strides_e), to_np(points))

        # pre-NMS decoded boxes (post_process with exclude_nms) and the NMS output
        head.exclude_nms = True
        pre_boxes, pre_scores, _ = head.post_process((scores_e, dist_e, points_e, strides_e),
                                                     paddle.to_tensor(scale_factor))
        head.exclude_nms = False
        a[f'{prefix}.eval.pre_nms_bboxes'] = to_np(pre_boxes)
        assert np.array_equal(to_np(pre_scores), to_np(scores_e))
        out = model({
            'image': x,
            'im_shape': paddle.to_tensor(im_shape),
            'scale_factor': paddle.to_tensor(scale_factor)
        })
        a[f'{prefix}.eval.bbox'] = to_np(out['bbox']).astype(np.float32)
        a[f'{prefix}.eval.bbox_num'] = to_np(out['bbox_num']).astype(np.int32)
        check = batch_distance2bbox(points_e, dist_e) * strides_e
        assert np.allclose(to_np(check), to_np(pre_boxes))

    # losses (head.forward_train on the eval-mode features above), static then TAL
    rec = AssignerRecorder(head)
    targets = {
        'gt_class': paddle.to_tensor(gt_class),
        'gt_bbox': paddle.to_tensor(gt_bbox),
        'pad_gt_mask': paddle.to_tensor(pad_gt_mask),
    }
    for mode, epoch in (('static', 0), ('tal', head.static_assigner_epoch)):
        losses = head.forward_train(neck, dict(targets, epoch_id=epoch))
        for k, v in losses.items():
            a[f'{prefix}.loss_{mode}.{k}'] = to_np(v).reshape(()).astype(np.float32)
        (name, inputs, outputs), = rec.pop()
        assert name == ('static_assigner' if mode == 'static' else 'assigner')
        key = 'atss' if mode == 'static' else 'tal'
        labels, boxes, scores, mask_pos = outputs
        a[f'{prefix}.{key}.assigned_labels'] = labels.astype(np.int32)
        a[f'{prefix}.{key}.assigned_bboxes'] = boxes.astype(np.float32)
        a[f'{prefix}.{key}.assigned_scores'] = scores.astype(np.float32)
        a[f'{prefix}.{key}.mask_positive'] = mask_pos.astype(np.float32)
        if mode == 'tal':
            # TaskAlignedAssigner(pred_scores, pred_bboxes * stride, anchor_points, ...);
            # ATSS gets the same pred_bboxes as a keyword, which hooks do not see
            a[f'{prefix}.train.pred_bboxes'] = inputs[1].astype(np.float32)
            assert np.array_equal(inputs[0], to_np(scores_t))
        diag[f'{prefix}.{key}.num_pos'] = (labels != nc).sum(1).tolist()
        diag[f'{prefix}.{key}.pos_per_gt'] = mask_pos.sum(-1).astype(int).tolist()
    rec.remove()
    # pred_bboxes = distance2bbox(points / stride, proj(softmax)) * stride
    #             = points -+ (pred_deltas * stride): the get_data output above
    assert np.allclose(
        a[f'{prefix}.train.pred_bboxes'], to_np(batch_distance2bbox(points, deltas_t)), atol=1e-4)

    ppyoloe_diagnostics(prefix, a, head, diag)


def ppyoloe_diagnostics(prefix, a, head, diag):
    """How far these inputs are from the ties and thresholds where another
    implementation could legitimately decide differently (reported, not fixed)."""
    nc = head.num_classes
    anchors = a[f'{prefix}.train.anchors']
    num_list = a[f'{prefix}.train.num_anchors_list']
    gt = a[f'{prefix}.gt_bbox']
    mask = a[f'{prefix}.pad_gt_mask'][..., 0] > 0
    centers = (anchors[:, :2] + anchors[:, 2:]) / 2
    gc = (gt[..., :2] + gt[..., 2:]) / 2
    dist = np.linalg.norm(gc[:, :, None] - centers[None, None], axis=-1)
    gaps, start = [], 0
    for n in num_list:
        d = np.sort(dist[..., start:start + n], axis=-1)
        gaps.append((d[..., 9] - d[..., 8])[mask].min())
        start += n
    diag[f'{prefix}.atss.min_topk_distance_gap_px'] = float(min(gaps))
    # ATSS: candidates' anchor IoU against mean + std (unbiased) of the 27 candidates
    lt = np.maximum(gt[:, :, None, :2], anchors[None, None, :, :2])
    rb = np.minimum(gt[:, :, None, 2:], anchors[None, None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_g = np.clip(gt[..., 2:] - gt[..., :2], 0, None).prod(-1)[..., None]
    area_a = (anchors[:, 2:] - anchors[:, :2]).prod(-1)
    aiou = inter / (area_g + area_a - inter + 1e-10)
    cand, start = [], 0
    for n in num_list:
        idx = np.argsort(dist[..., start:start + n], axis=-1, kind='stable')[..., :9]
        cand.append(idx + start)
        start += n
    cand = np.concatenate(cand, -1)
    ciou = np.take_along_axis(aiou, cand, -1)
    thr = ciou.mean(-1, keepdims=True) + ciou.std(-1, ddof=1, keepdims=True)
    diag[f'{prefix}.atss.min_abs_iou_minus_thr'] = float(np.abs(ciou - thr)[mask].min())
    # TAL: alignment metric = score^1 * iou^6 of in-gt anchors, top 13
    pred = a[f'{prefix}.train.pred_bboxes']
    logits = [
        a[f'{prefix}.cls_logits.{i}'].astype(np.float64).reshape(2, nc, -1) for i in range(3)
    ]
    scores = 1 / (1 + np.exp(-np.concatenate(logits, axis=-1)))
    lt = np.maximum(gt[:, :, None, :2], pred[:, None, :, :2])
    rb = np.minimum(gt[:, :, None, 2:], pred[:, None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_g = np.clip(gt[..., 2:] - gt[..., :2], 0, None).prod(-1)[..., None]
    area_p = np.clip(pred[..., 2:] - pred[..., :2], 0, None).prod(-1)[:, None]
    iou = inter / (area_g + area_p - inter + 1e-9)
    cls = a[f'{prefix}.gt_class'][..., 0]
    s = np.take_along_axis(scores, cls[..., None].astype(np.int64), axis=1)
    metric = s * iou**6
    points = a[f'{prefix}.train.anchor_points']
    inside = ((points[None, None, :, 0] - gt[..., 0:1] > 1e-9)
              & (points[None, None, :, 1] - gt[..., 1:2] > 1e-9)
              & (gt[..., 2:3] - points[None, None, :, 0] > 1e-9)
              & (gt[..., 3:4] - points[None, None, :, 1] > 1e-9))
    m = metric * inside
    diag[f'{prefix}.tal.in_gt_anchors'] = inside.sum(-1)[mask].tolist()
    crowded = mask & (inside.sum(-1) > 13)  # else every in-gt anchor is taken
    diag[f'{prefix}.tal.min_top13_rel_gap'] = float(topk_margin(m, 13)[crowded].min())
    diag[f'{prefix}.tal.min_in_gt_metric'] = float(m[inside & mask[..., None]].min())
    # NMS: scores against the 0.01 threshold, same-class IoUs against 0.7
    sc = scores.astype(np.float32)
    diag[f'{prefix}.nms.min_abs_score_minus_thr'] = float(np.abs(sc - 0.01).min())
    boxes = a[f'{prefix}.eval.pre_nms_bboxes'].astype(np.float64)
    worst = 1.0
    for b in range(2):
        for c in range(nc):
            idx = np.nonzero(sc[b, c] > 0.01)[0]
            if len(idx) < 2:
                continue
            bb = boxes[b, idx]
            lt = np.maximum(bb[:, None, :2], bb[None, :, :2])
            rb = np.minimum(bb[:, None, 2:], bb[None, :, 2:])
            inter = np.clip(rb - lt, 0, None).prod(-1)
            area = (bb[:, 2:] - bb[:, :2]).prod(-1)
            ious = inter / (area[:, None] + area[None] - inter)
            iu = np.triu_indices(len(idx), 1)
            worst = min(worst, float(np.abs(ious[iu] - 0.7).min()))
    diag[f'{prefix}.nms.min_abs_iou_minus_thr'] = worst
    diag[f'{prefix}.nms.candidates_per_image'] = (sc > 0.01).sum((1, 2)).tolist()
    diag[f'{prefix}.nms.bbox_num'] = a[f'{prefix}.eval.bbox_num'].tolist()


@register('ppyoloe_plus_s')
def ppyoloe_plus_s(args):
    import paddle
    import ppdet
    paddle.set_device('cpu')
    model, cfg = build_from_yml(PPYOLOE_PLUS_S_YML, 'ppyoloe_plus_crn_s_80e_coco')
    model.eval()
    spec = model_spec(model)
    state = load_synth(model, spec, args.seed)
    first_name = check_pdparams_format(model, state)
    arrays, diag = {}, {}
    head = model.yolo_head
    arrays['fpn_strides'] = np.asarray(head.fpn_strides, np.int32)
    for prefix, (h, w, full) in CASES.items():
        ppyoloe_case(model, prefix, h, w, full, args.input_seed, arrays, diag)
    meta = dict(
        arch='ppyoloe_plus_s',
        paddle=paddle.__version__,
        ppdet=ppdet.__version__,
        numpy=np.__version__,
        config='PaddleDetection release/2.6 configs/ppyoloe/ppyoloe_plus_crn_s_80e_coco.yml '
        '(model part; eval_size unset)',
        config_yml=PPYOLOE_PLUS_S_YML,
        weight_seed=args.seed,
        weight_overrides=[list(o) for o in pw.DEFAULT_OVERRIDES],
        input_seed=args.input_seed,
        images='paddle_weights.synth_images(2, (H, W), seed=input_seed)',
        cases={
            k: dict(H=h, W=w, full=full)
            for k, (h, w, full) in CASES.items()
        },
        pdparams_bytes_identical=True,
        pdparams_first_name=first_name,
        num_params=len(spec),
        weights_checksum=weights_checksum(state),
        diagnostics=diag,
    )
    return arrays, spec, meta


# ------------------------------------------------- YOLOv3, ResNet-vd, GFL (issue 14)

# Model parts of PaddleDetection release/2.6 configs/yolov3/_base_/yolov3_mobilenet_v1.yml
# and _base_/yolov3_r34.yml (the wheel ships no configs); YOLOv3FPN takes its defaults.
YOLOV3_HEAD_YML = """
YOLOv3FPN: {}

YOLOv3Head:
  anchors: [[10, 13], [16, 30], [33, 23],
            [30, 61], [62, 45], [59, 119],
            [116, 90], [156, 198], [373, 326]]
  anchor_masks: [[6, 7, 8], [3, 4, 5], [0, 1, 2]]
  loss: YOLOv3Loss

YOLOv3Loss:
  ignore_thresh: 0.7
  downsample: [32, 16, 8]
  label_smooth: false

BBoxPostProcess:
  decode:
    name: YOLOBox
    conf_thresh: 0.005
    downsample_ratio: 32
    clip_bbox: true
  nms:
    name: MultiClassNMS
    keep_top_k: 100
    score_threshold: 0.01
    nms_threshold: 0.45
    nms_top_k: 1000
"""

YOLOV3_MV1_YML = """\
architecture: YOLOv3
norm_type: sync_bn
num_classes: 80

YOLOv3:
  backbone: MobileNet
  neck: YOLOv3FPN
  yolo_head: YOLOv3Head
  post_process: BBoxPostProcess

MobileNet:
  scale: 1
  feature_maps: [4, 6, 13]
  with_extra_blocks: false
  extra_block_filters: []
""" + YOLOV3_HEAD_YML

YOLOV3_R34_YML = """\
architecture: YOLOv3
norm_type: sync_bn
num_classes: 80

YOLOv3:
  backbone: ResNet
  neck: YOLOv3FPN
  yolo_head: YOLOv3Head
  post_process: BBoxPostProcess

ResNet:
  depth: 34
  return_idx: [1, 2, 3]
  freeze_at: -1
  freeze_norm: false
  norm_decay: 0.
""" + YOLOV3_HEAD_YML

# configs/gfl/_base_/gfl_r50_fpn.yml with gfl_r101vd_fpn_mstrain_2x_coco.yml's ResNet
GFL_R101VD_YML = """\
architecture: GFL
num_classes: 80

GFL:
  backbone: ResNet
  neck: FPN
  head: GFLHead

ResNet:
  depth: 101
  variant: d
  norm_type: bn
  freeze_at: 0
  return_idx: [1,2,3]
  num_stages: 4

FPN:
  out_channel: 256
  spatial_scales: [0.125, 0.0625, 0.03125]
  extra_stage: 2
  has_extra_convs: true
  use_c5: false

GFLHead:
  conv_feat:
    name: FCOSFeat
    feat_in: 256
    feat_out: 256
    num_convs: 4
    norm_type: "gn"
    use_dcn: false
  fpn_stride: [8, 16, 32, 64, 128]
  prior_prob: 0.01
  reg_max: 16
  loss_class:
    name: QualityFocalLoss
    use_sigmoid: True
    beta: 2.0
    loss_weight: 1.0
  loss_dfl:
    name: DistributionFocalLoss
    loss_weight: 0.25
  loss_bbox:
    name: GIoULoss
    loss_weight: 2.0
  nms:
    name: MultiClassNMS
    nms_top_k: 1000
    keep_top_k: 100
    score_threshold: 0.025
    nms_threshold: 0.6
"""

# The seed's CWD GFL R50 student (gfl_r50_fpn_1x_coco.yml's model: a plain ResNet50, variant b)
GFL_R50_YML = GFL_R101VD_YML.replace('depth: 101\n  variant: d', 'depth: 50\n  variant: b')
assert GFL_R50_YML != GFL_R101VD_YML

# The seed's RetinaNet (configs/retinanet/_base_/retinanet_r50_fpn.yml, R101 the same with
# depth 101): ResNet-b, FPN with its extra convs on P5's output (relu before P7), RetinaHead
RETINANET_R50_YML = """\
architecture: RetinaNet
num_classes: 80

RetinaNet:
  backbone: ResNet
  neck: FPN
  head: RetinaHead

ResNet:
  depth: 50
  variant: b
  norm_type: bn
  freeze_at: 0
  return_idx: [1,2,3]
  num_stages: 4

FPN:
  out_channel: 256
  spatial_scales: [0.125, 0.0625, 0.03125]
  extra_stage: 2
  has_extra_convs: true
  use_c5: false

RetinaHead:
  conv_feat:
    name: RetinaFeat
    feat_in: 256
    feat_out: 256
    num_convs: 4
    norm_type: null
    use_dcn: false
  anchor_generator:
    name: RetinaAnchorGenerator
    octave_base_scale: 4
    scales_per_octave: 3
    aspect_ratios: [0.5, 1.0, 2.0]
    strides: [8.0, 16.0, 32.0, 64.0, 128.0]
  bbox_assigner:
    name: MaxIoUAssigner
    positive_overlap: 0.5
    negative_overlap: 0.4
    allow_low_quality: true
  loss_class:
    name: FocalLoss
    gamma: 2.0
    alpha: 0.25
    loss_weight: 1.0
  loss_bbox:
    name: SmoothL1Loss
    beta: 0.0
    loss_weight: 1.0
  nms:
    name: MultiClassNMS
    nms_top_k: 1000
    keep_top_k: 100
    score_threshold: 0.05
    nms_threshold: 0.5
"""

# Trunks keep the default rule (He gain 2); residual nets add their branch to the
# shortcut, so the last norm of each branch gets small weights (the outputs then stay at
# std ~1 through 33 blocks instead of doubling their variance at each).
RESNET_OVERRIDES = (
    ('*branch2b.norm.weight', 'uniform', (0.1, 0.3)),  # BasicBlock's last norm
    ('*branch2c.norm.weight', 'uniform', (0.1, 0.3)),  # BottleNeck's last norm
)
# YOLOv3: the trunk's maps reach |x| ~ 5-50; the output convs' default gain would give
# logits of ~40 and exp(40)-sized boxes. Gain 0.02: logits of std ~1.
YOLOV3_OVERRIDES = (('yolo_head.yolo_output.*.weight', 'he', (0.02, )), )
# GFL: a class bias near Paddle's prior (-4.6) would let every score pass 0.025
GFL_OVERRIDES = RESNET_OVERRIDES + (
    # the Integral's projection 0..16, a constant buffer in Paddle's state dict
    ('head.distribution_project.project', 'arange', ()),
    ('head.gfl_head_cls.bias', 'normal', (-4.0, 1.0)),
    ('head.p*_feat.scale_reg', 'uniform', (0.5, 1.5)),
)

# RetinaNet: a class bias near Paddle's prior (-4.6), box deltas of std ~0.5 (exp(dw) sizes)
RETINANET_OVERRIDES = RESNET_OVERRIDES + (
    ('head.retina_cls.bias', 'normal', (-4.0, 1.0)),
    ('head.retina_reg.weight', 'he', (0.02, )),
)

YOLO_CASE = (128, 160)  # H, W: levels 4x5, 8x10, 16x20
RESNET_CASE = (64, 96)


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


def yolov3_fixture(arch, yml, config, args):
    """Backbone maps (image 0), the raw head maps, and the decoded boxes and scores before
    NMS (Paddle's YOLOBox with clip_bbox off and conf_thresh 0, so that every box stays)."""
    import paddle
    from ppdet.modeling.layers import YOLOBox
    overrides = YOLOV3_OVERRIDES + (RESNET_OVERRIDES if 'r34' in arch else ())
    model, spec, state, first = synth_model(yml, arch, args.seed, overrides)
    h, w = YOLO_CASE
    image = pw.synth_images(2, (h, w), seed=args.input_seed)
    a = {}
    record_input(a, 'c', image)
    with paddle.no_grad():
        x = paddle.to_tensor(image)
        body = model.backbone({'image': x})
        neck = model.neck(body)
        maps = model.yolo_head(neck)
        for i, t in enumerate(body):
            a[f'c.backbone.{i}'] = to_np(t)[:1]
        for i, t in enumerate(maps):
            a[f'c.head.{i}'] = to_np(t)
        im_shape = paddle.to_tensor(np.array([[h, w]] * 2, np.float32))
        scale_factor = paddle.to_tensor(np.ones((2, 2), np.float32))
        boxes, scores = YOLOBox(
            conf_thresh=0., clip_bbox=False)(maps, model.yolo_head.mask_anchors, im_shape,
                                             scale_factor)
        a['c.decode.bboxes'] = to_np(boxes)  # (2, sum of 3*h*w, 4), per level anchor-major
        scores = to_np(scores)  # (2, 80, L): objectness * class probability
        a['c.decode.max_score'] = scores.max(1)
        a['c.decode.label'] = scores.argmax(1).astype(np.int32)
        # Paddle's own post-processing (clipped boxes, its NMS): recorded, not compared
        out = model({'image': x, 'im_shape': im_shape, 'scale_factor': scale_factor})
        a['c.eval.bbox_num'] = to_np(out['bbox_num']).astype(np.int32)
    meta = common_meta(
        arch,
        yml,
        config,
        args,
        spec,
        state,
        overrides,
        first,
        cases=dict(c=dict(H=h, W=w)),
        anchors=model.yolo_head.mask_anchors,
        diagnostics=stats(a))
    return a, spec, meta


@register('yolov3_mv1')
def yolov3_mv1(args):
    return yolov3_fixture(
        'yolov3_mv1', YOLOV3_MV1_YML, 'PaddleDetection release/2.6 '
        'configs/yolov3/yolov3_mobilenet_v1_270e_coco.yml (model part)', args)


@register('yolov3_r34')
def yolov3_r34(args):
    return yolov3_fixture(
        'yolov3_r34', YOLOV3_R34_YML, 'PaddleDetection release/2.6 '
        'configs/yolov3/yolov3_r34_270e_coco.yml (model part)', args)


@register('resnet_vd')
def resnet_vd(args):
    """ResNet18/34/50-vd backbones alone (ResNet101-vd: the gfl_r101vd fixture). One spec
    with the keys prefixed ``r{depth}.``; each depth's own keys are that prefix stripped."""
    import paddle
    from ppdet.modeling.backbones.resnet import ResNet
    paddle.set_device('cpu')
    h, w = RESNET_CASE
    image = pw.synth_images(2, (h, w), seed=args.input_seed)
    a, spec, state, cfgs = {}, [], {}, {}
    record_input(a, 'c', image)
    first = None
    for depth in (18, 34, 50):
        kwargs = dict(
            depth=depth,
            variant='d',
            norm_type='bn',
            freeze_at=0,
            return_idx=[0, 1, 2, 3],
            num_stages=4)
        cfgs[depth] = kwargs
        model = ResNet(**kwargs)
        model.eval()
        sub = model_spec(model)
        sub_state = pw.synth_state(sub, seed=args.seed, overrides=RESNET_OVERRIDES)
        missing, unexpected = model.set_state_dict({
            k: paddle.to_tensor(v)
            for k, v in sub_state.items()
        })
        assert not missing and not unexpected
        first = first or check_pdparams_format(model, sub_state)
        spec += [(f'r{depth}.{k}', s, d) for k, s, d in sub]
        state.update({f'r{depth}.{k}': v for k, v in sub_state.items()})
        with paddle.no_grad():
            outs = model({'image': paddle.to_tensor(image)})
        for i, t in enumerate(outs):
            a[f'c.r{depth}.{i}'] = to_np(t)
    # the keys differ by prefix only: crc32 of the prefixed key seeds the arrays, so the
    # test must draw each depth's weights with its unprefixed keys (as here)
    meta = common_meta(
        'resnet_vd',
        '', 'ppdet.modeling.backbones.resnet.ResNet(variant=d), as '
        'configs/gfl/gfl_r18vd_1x_coco.yml etc. build it; return_idx [0, 1, 2, 3]',
        args,
        spec,
        state,
        RESNET_OVERRIDES,
        first,
        cases=dict(c=dict(H=h, W=w)),
        resnet_kwargs=cfgs,
        diagnostics=stats(a))
    return a, spec, meta


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


def gfl_fixture(arch, yml, config, args):
    """Backbone (image 0) and FPN maps (image 0), the head's raw class and distribution
    logits per level, and its eval outputs before NMS (sigmoid scores, decoded boxes)."""
    import paddle
    import paddle.nn.functional as F
    model, spec, state, first = synth_model(yml, arch, args.seed, GFL_OVERRIDES)
    head = model.head
    h, w = 128, 128
    image = pw.synth_images(2, (h, w), seed=args.input_seed)
    a = {}
    record_input(a, 'c', image)
    with paddle.no_grad():
        x = paddle.to_tensor(image)
        fpn = record_backbone_neck(a, model, x)
        for i, (scale, feat) in enumerate(zip(head.scales_regs, fpn)):
            cls_feat, reg_feat = head.conv_feat(feat)
            a[f'c.cls_logits.{i}'] = to_np(head.gfl_head_cls(cls_feat))
            a[f'c.reg_logits.{i}'] = to_np(scale(head.gfl_head_reg(reg_feat)))
        scores, boxes = head(fpn)  # eval: per level (B, hw, C) sigmoid, (B, hw, 4) pixels
        scores = paddle.concat(scores, axis=1)
        for i in range(len(fpn)):
            n = a[f'c.cls_logits.{i}'].shape[2] * a[f'c.cls_logits.{i}'].shape[3]
            assert np.allclose(
                to_np(F.sigmoid(paddle.to_tensor(a[f'c.cls_logits.{i}']))).reshape(2, 80, n),
                to_np(head(fpn)[0][i]).transpose(0, 2, 1))
        a['c.eval.scores'] = to_np(scores)
        a['c.eval.bboxes'] = to_np(paddle.concat(boxes, axis=1))
        out = model({
            'image': x,
            'im_shape': paddle.to_tensor(np.array([[h, w]] * 2, np.float32)),
            'scale_factor': paddle.to_tensor(np.ones((2, 2), np.float32))
        })
        a['c.eval.bbox_num'] = to_np(out['bbox_num']).astype(np.int32)
    meta = common_meta(
        arch,
        yml,
        config,
        args,
        spec,
        state,
        GFL_OVERRIDES,
        first,
        cases=dict(c=dict(H=h, W=w)),
        diagnostics=stats(a))
    return a, spec, meta


@register('gfl_r101vd')
def gfl_r101vd(args):
    return gfl_fixture(
        'gfl_r101vd', GFL_R101VD_YML, 'PaddleDetection release/2.6 configs/gfl/'
        'gfl_r101vd_fpn_mstrain_2x_coco.yml (model part)', args)


@register('gfl_r50')
def gfl_r50(args):
    return gfl_fixture(
        'gfl_r50', GFL_R50_YML, 'PaddleDetection release/2.6 configs/gfl/_base_/gfl_r50_fpn.yml '
        '(the model of gfl_r50_fpn_1x_coco.yml, the seed\'s CWD GFL R50 student)', args)


@register('retinanet_r50')
def retinanet_r50(args):
    """Backbone and FPN maps (image 0), the head's raw class logits (image 0) and box deltas
    per level, its anchors, and the boxes Paddle decodes from them for every anchor (its
    delta2bbox, image 0; its eval keeps the 1000 best per level before NMS)."""
    import paddle
    from ppdet.modeling.bbox_utils import delta2bbox
    model, spec, state, first = synth_model(RETINANET_R50_YML, 'retinanet_r50', args.seed,
                                            RETINANET_OVERRIDES)
    head = model.head
    h, w = 128, 128
    image = pw.synth_images(2, (h, w), seed=args.input_seed)
    a = {}
    record_input(a, 'c', image)
    with paddle.no_grad():
        x = paddle.to_tensor(image)
        fpn = record_backbone_neck(a, model, x)
        cls_logits, bbox_regs = head(fpn)
        for i, (c, r) in enumerate(zip(cls_logits, bbox_regs)):
            a[f'c.cls_logits.{i}'] = to_np(c)[:1]
            a[f'c.bbox_reg.{i}'] = to_np(r)
        anchors = head.anchor_generator(cls_logits)
        boxes = []
        for anchor, r in zip(anchors, bbox_regs):
            a[f'c.anchors.{len(boxes)}'] = to_np(anchor)
            deltas = r[0].transpose([1, 2, 0]).reshape([-1, 4])
            boxes.append(to_np(delta2bbox(deltas, anchor, head.weights).squeeze()))
        a['c.eval.bboxes'] = np.concatenate(boxes)[None]
        out = model({
            'image': x,
            'im_shape': paddle.to_tensor(np.array([[h, w]] * 2, np.float32)),
            'scale_factor': paddle.to_tensor(np.ones((2, 2), np.float32))
        })
        a['c.eval.bbox_num'] = to_np(out['bbox_num']).astype(np.int32)
    meta = common_meta(
        'retinanet_r50',
        RETINANET_R50_YML, 'PaddleDetection release/2.6 configs/retinanet/_base_/'
        'retinanet_r50_fpn.yml (the model of retinanet_r50_fpn_2x_coco.yml, the seed\'s FGD and '
        'CWD students; the R101 teacher is the same with depth 101)',
        args,
        spec,
        state,
        RETINANET_OVERRIDES,
        first,
        cases=dict(c=dict(H=h, W=w)),
        head_weights=list(head.weights),
        diagnostics=stats(a))
    return a, spec, meta


# ----------------------------------------------------------------------------- main


def compare(arrays, path):
    old = np.load(path)
    worst = 0.
    for k, v in arrays.items():
        if k not in old.files:
            print(f'new: {k}')
            continue
        o = old[k]
        if o.shape != np.shape(v):
            print(f'shape {k}: {o.shape} -> {np.shape(v)}')
            continue
        if o.dtype.kind in 'fc':
            d = float(np.abs(o.astype(np.float64) - np.asarray(v, np.float64)).max(initial=0))
            worst = max(worst, d)
            if d > 0:
                print(f'{k}: max abs diff {d:.3g}')
        elif not np.array_equal(o, v):
            print(f'differs: {k}')
    for k in old.files:
        if k not in arrays and k != 'meta':
            print(f'gone: {k}')
    print(f'largest float difference: {worst:.3g}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), nargs='+', default=sorted(ARCHS))
    parser.add_argument('--seed', type=int, default=0, help='synth_state seed')
    parser.add_argument(
        '--input-seed',
        type=int,
        default=1,
        help='synth_images seed (1: the widest NMS margins of seeds 0-9, see README)')
    parser.add_argument('--out-dir', default=OUT_DIR)
    parser.add_argument(
        '--compare', action='store_true', help='compare with the stored fixtures, write nothing')
    parser.add_argument('--dry-run', action='store_true', help='print the diagnostics only')
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for arch in args.arch:
        arrays, spec, meta = ARCHS[arch](args)
        npz = osp.join(args.out_dir, f'{arch}.npz')
        print(json.dumps(meta['diagnostics'], indent=1))
        if args.compare:
            compare(arrays, npz)
        if args.compare or args.dry_run:
            continue
        arrays = {
            k: (v.astype(np.float32) if v.dtype == np.float64 and v.ndim else v)
            for k, v in ((k, np.asarray(v)) for k, v in arrays.items())
        }
        np.savez_compressed(npz, meta=np.array(json.dumps(meta, indent=1)), **arrays)
        pw.save_spec(spec, osp.join(args.out_dir, f'{arch}_spec.json'))
        size = osp.getsize(npz) + osp.getsize(osp.join(args.out_dir, f'{arch}_spec.json'))
        print(f'{arch}: {len(arrays)} arrays, {size / 1e6:.2f} MB written to {args.out_dir}')
        for k, v in arrays.items():
            print(f'  {k:40s} {str(v.dtype):8s} {tuple(v.shape)}')


if __name__ == '__main__':
    sys.exit(main())
