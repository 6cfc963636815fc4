"""The GFL fixtures (``gfl_r101vd``, ``gfl_r50``): backbone, FPN and head maps, eval outputs.
"""
import numpy as np
from fixtures_common import (RESNET_OVERRIDES, common_meta, pw, record_backbone_neck, record_input,
                             register, stats, synth_model, to_np)

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

# GFL: a class bias near Paddle's prior (-4.6) would let every score pass 0.025
GFL_OVERRIDES = RESNET_OVERRIDES + (
    # the Integral's projection 0..16, a constant buffer in Paddle's state dict
    ('head.distribution_project.project', 'arange', ()),
    ('head.gfl_head_cls.bias', 'normal', (-4.0, 1.0)),
    ('head.p*_feat.scale_reg', 'uniform', (0.5, 1.5)),
)


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
