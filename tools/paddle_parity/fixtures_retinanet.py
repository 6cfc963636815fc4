"""The RetinaNet fixture (``retinanet_r50``): backbone, FPN and head maps, anchors, boxes.
"""
import numpy as np
from fixtures_common import (RESNET_OVERRIDES, common_meta, pw, record_backbone_neck, record_input,
                             register, stats, synth_model, to_np)

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

# RetinaNet: a class bias near Paddle's prior (-4.6), box deltas of std ~0.5 (exp(dw) sizes)
RETINANET_OVERRIDES = RESNET_OVERRIDES + (
    ('head.retina_cls.bias', 'normal', (-4.0, 1.0)),
    ('head.retina_reg.weight', 'he', (0.02, )),
)


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
