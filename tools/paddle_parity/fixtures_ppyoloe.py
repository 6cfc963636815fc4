"""The PP-YOLOE+ s fixture (``ppyoloe_plus_s``): maps, decode, both assigners, losses, NMS.

Two cases (``sq`` 128x128, ``ns`` 128x160) with the same weights; the GT boxes and
the diagnostics (margins to ties and thresholds) are in README.md.
"""
import numpy as np
from fixtures_common import (build_from_yml, check_pdparams_format, load_synth, model_spec, pw,
                             register, to_np, weights_checksum)


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
