"""The FGD authors' pairs on mmdet 3 (configs/fgd/) and CWD on Faster R-CNN (configs/cwd/):
each config carries the authors' hyperparameters for its detector family, and builds and
trains a step with a random teacher (the real teachers are mmdet model-zoo downloads)."""
import numpy as np
import pytest
import torch

import detkd  # noqa: F401
from detkd.testing import build_pair, make_data_samples
from detkd.utils import load_config

# config -> (levels, (temp, alpha, beta, gamma, lambda), inherited modules, teacher, student)
RCNN = (0.5, 5e-5, 2.5e-5, 5e-5, 5e-7)
RETINA = (0.5, 1e-3, 5e-4, 5e-4, 5e-6)
REPPOINTS = (0.5, 1.6e-3, 8e-4, 8e-4, 8e-6)
PAIRS = {
    'fgd_faster-rcnn_r101_faster-rcnn_r50_2x_coco':
    (4, RCNN, ('neck', 'rpn_head', 'roi_head'), 'FasterRCNN', 'FasterRCNN'),
    'fgd_cascade-mask-rcnn_x101-dcn_faster-rcnn_r50_2x_coco':
    (4, RCNN, (), 'CascadeRCNN', 'FasterRCNN'),
    'fgd_cascade-mask-rcnn_x101-dcn_mask-rcnn_r50_2x_coco':
    (4, RCNN, (), 'CascadeRCNN', 'MaskRCNN'),
    'fgd_retina_x101_retina_r50_2x_coco':
    (5, RETINA, ('neck', 'bbox_head'), 'RetinaNet', 'RetinaNet'),
    'fgd_gfl_r101_gfl_r50_1x_coco': (5, RETINA, ('neck', 'bbox_head'), 'GFL', 'GFL'),
    'fgd_reppoints_x101-dcn_reppoints_r50_2x_coco': (5, REPPOINTS, ('neck', 'bbox_head'),
                                                     'RepPointsDetector', 'RepPointsDetector'),
    'fgd_fcos_r101_fcos_r50_2x_coco': (5, (0.8, ) + REPPOINTS[1:], ('neck', ), 'FCOS', 'FCOS'),
    'fgd_solo_r101_solo_r50_1x_coco': (4, RETINA, ('neck', 'mask_head'), 'SOLO', 'SOLO'),
    'fgd_yolox_l_yolox_m_300e_coco': (3, (0.5, 2e-3, 1e-3, 1e-3, 1e-5), (), 'YOLOX', 'YOLOX'),
}
EPOCHS = {'solo': 12, 'gfl': 12, 'yolox': 300}


def _cfg(name, folder='fgd'):
    return load_config(f'configs/{folder}/{name}.py')


@pytest.mark.parametrize('name', sorted(PAIRS))
def test_each_pair_carries_the_authors_setting_for_its_family(name):
    levels, weights, inherit, teacher, student = PAIRS[name]
    cfg = _cfg(name)
    m = cfg.model
    assert (m.teacher.type, m.architecture.type) == (teacher, student)
    assert tuple(m.get('inherit_teacher', ())) == inherit
    losses = m.distiller.distill_losses
    assert sorted(losses) == [f'loss_fgd_fpn{i}' for i in range(levels)]
    for loss in losses.values():
        assert loss.type == 'FGDLoss'
        assert (loss.temp, loss.alpha_fgd, loss.beta_fgd, loss.gamma_fgd,
                loss.lambda_fgd) == pytest.approx(weights)
    assert set(m.distiller.loss_forward_mappings) == set(losses)
    # the teacher: a model-zoo URL, or (SOLO R101, which nobody publishes) where
    # tools/train.py puts the teacher trained here
    assert m.teacher_ckpt.startswith('https://download.openmmlab.com/mmdetection/v2.0/') or \
        m.teacher_ckpt == 'work_dirs/solo_r101_fpn_3x_coco/epoch_36.pth'
    family = name.split('_')[-3]
    epochs = EPOCHS.get(next((k for k in EPOCHS if k in name), ''), 24)
    assert cfg.train_cfg.max_epochs == epochs, family
    clip = cfg.optim_wrapper.get('clip_grad')
    assert clip == (None if 'yolox' in name else dict(max_norm=35, norm_type=2))
    assert 'detkd' in cfg.custom_imports.imports


def test_cwd_on_faster_rcnn_is_mmrazors_config_on_mmdet_3():
    cfg = _cfg('cwd_faster-rcnn_r101_faster-rcnn_r50_1x_coco', 'cwd')
    m = cfg.model
    assert (m.teacher.type, m.architecture.type, m.teacher.backbone.depth,
            m.architecture.backbone.depth) == ('FasterRCNN', 'FasterRCNN', 101, 50)
    losses = m.distiller.distill_losses
    assert len(losses) == 5 and all(
        (v.type, v.tau, v.loss_weight) == ('ChannelWiseDivergence', 1.0, 10.0)
        for v in losses.values())
    assert cfg.train_cfg.max_epochs == 12 and cfg.optim_wrapper.optimizer.lr == 0.02
    assert m.teacher_ckpt.endswith('faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_'
                                   '20200504_210455-1d2dac9c.pth')


def _samples(n=2, size=(256, 256), masks=False):
    from mmdet.structures.mask import BitmapMasks
    samples = make_data_samples(n, size)
    for s in samples:
        s.set_metainfo(dict(ori_shape=size, pad_shape=size, img_shape=size))
        s.gt_instances.labels = torch.tensor([1, 3])[:len(s.gt_instances)]
        s.gt_instances.bboxes = s.gt_instances.bboxes * 3
        if masks:
            m = np.zeros((len(s.gt_instances), *size), dtype=np.uint8)
            for j, (x1, y1, x2, y2) in enumerate(s.gt_instances.bboxes.int().tolist()):
                m[j, y1:y2, x1:x2] = 1
            s.gt_instances.masks = BitmapMasks(m, *size)
    return samples


@pytest.mark.integration
@pytest.mark.parametrize('name',
                         sorted(PAIRS) + ['cwd/cwd_faster-rcnn_r101_faster-rcnn_r50_1x_coco'])
def test_each_pair_builds_and_trains_a_step_with_a_random_teacher(name):
    folder, name = name.split('/') if '/' in name else ('fgd', name)
    cfg, algo = build_pair(f'configs/{folder}/{name}.py', pretrained=False, init_weights=False)
    losses = algo.loss(
        torch.randn(2, 3, 256, 256), _samples(masks=('mask' in name or 'solo' in name)))
    distill = {k: v for k, v in losses.items() if k.startswith('distill.')}
    assert len(distill) == len(cfg.model.distiller.distill_losses)
    assert all(torch.isfinite(v) for v in distill.values())
    assert any(k.startswith('student.') for k in losses)


@pytest.mark.parametrize('pair, inherited', [
    ('fgd_retina_r34_r18', ('neck', 'bbox_head')),
    ('fgd_fcos_r34_r18', ('neck', 'bbox_head')),
    ('fgd_faster-rcnn_r34_r18', ('neck', 'rpn_head', 'roi_head')),
])
def test_noinherit_ablation_is_its_mini_pair_without_inheriting(pair, inherited):
    """The inheriting ablations of the report (one per mini pair whose teacher and student
    share the neck and head architecture) change nothing but ``inherit_teacher``."""
    base = load_config(f'configs/fgd/{pair}_mini.py').model.to_dict()
    ablation = load_config(f'configs/fgd/{pair}_noinherit_mini.py').model.to_dict()
    assert tuple(base.pop('inherit_teacher')) == inherited
    assert tuple(ablation.pop('inherit_teacher')) == ()
    assert ablation == base


def test_two_stage_mini_pair_inherits_rpn_and_roi_heads_and_distils_p2_to_p5():
    """The mini Faster R-CNN pair (the two-stage kind in the report): the authors' two-stage
    wiring on the 64-channel mini FPN: neck, RPN and RoI heads start from the teacher's, FGD
    on P2-P5 with their Faster R-CNN weights, one training step finite for both parts."""
    cfg, algo = build_pair('configs/fgd/fgd_faster-rcnn_r34_r18_mini.py')
    teacher, student = algo.teacher.state_dict(), algo.student.state_dict()
    for prefix in ('neck.', 'rpn_head.', 'roi_head.'):
        names = [k for k in teacher if k.startswith(prefix)]
        assert names and all(torch.equal(teacher[k], student[k]) for k in names), prefix
    assert not torch.equal(teacher['backbone.conv1.weight'], student['backbone.conv1.weight'])
    losses = cfg.model.distiller.distill_losses
    assert sorted(losses) == [f'loss_fgd_fpn{i}' for i in range(4)]
    for loss in losses.values():
        assert (loss.student_channels, loss.teacher_channels) == (64, 64)
        assert (loss.temp, loss.alpha_fgd, loss.beta_fgd, loss.gamma_fgd, loss.lambda_fgd) == RCNN
    out = algo.loss(torch.randn(2, 3, 256, 256), _samples())
    assert len([k for k in out if k.startswith('distill.')]) == 4
    assert {'student.loss_rpn_cls', 'student.loss_cls'} <= set(out)
    for name, value in out.items():  # the RPN's losses are per level
        for v in value if isinstance(value, list) else [value]:
            assert torch.isfinite(v).all(), name
