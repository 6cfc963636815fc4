"""The YOLOv3 fixtures (``yolov3_mv1``, ``yolov3_r34``): backbone and head maps, decoded boxes.
"""
import numpy as np
from fixtures_common import (RESNET_OVERRIDES, common_meta, pw, record_input, register, stats,
                             synth_model, to_np)

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

# YOLOv3: the trunk's maps reach |x| ~ 5-50; the output convs' default gain would give
# logits of ~40 and exp(40)-sized boxes. Gain 0.02: logits of std ~1.
YOLOV3_OVERRIDES = (('yolo_head.yolo_output.*.weight', 'he', (0.02, )), )

YOLO_CASE = (128, 160)  # H, W: levels 4x5, 8x10, 16x20


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
