"""The COCO-scale configs, checked by construction: they cannot be trained here (no COCO, no
downloads), so their settings and the models they build are asserted instead."""
import glob

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401


@pytest.fixture(scope='module')
def fgd_coco():
    return Config.fromfile('configs/fgd_retina_r101_r50.py')


def test_fgd_coco_recipe_is_the_seed_setting(fgd_coco):
    cfg = fgd_coco
    assert cfg.train_cfg.max_epochs == 24
    steps = [s for s in cfg.param_scheduler if s['type'] == 'MultiStepLR'][0]
    assert steps['milestones'] == [16, 22]
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.01, momentum=0.9,
                                               weight_decay=0.0001)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)
    assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
    resize = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'RandomResize']
    assert resize and resize[0]['scale'] == [(1333, 640), (1333, 800)]
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    m = cfg.model
    assert m.type == 'DetFpnTeacherDistill' and m.inherit_teacher == ('neck', 'bbox_head')
    assert m.teacher == 'mmdet::retinanet/retinanet_r101_fpn_2x_coco.py'
    assert m.teacher_ckpt.startswith('https://download.openmmlab.com/mmdetection/')
    assert m.architecture.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    losses = m.distiller.distill_losses
    assert len(losses) == 5
    for loss in losses.values():
        assert (loss.temp, loss.alpha_fgd, loss.beta_fgd, loss.gamma_fgd, loss.lambda_fgd) == (
            0.5, 0.001, 0.0005, 0.0005, 0.000005)


def test_fgd_coco_model_builds_with_r101_teacher_and_r50_student(fgd_coco):
    model_cfg = fgd_coco.model.copy()
    model_cfg.pop('_scope_')
    model_cfg.update(teacher_ckpt=None, allow_random_teacher=True)  # no download here
    algo = MODELS.build(model_cfg)
    assert algo.teacher.backbone.depth == 101 and algo.student.backbone.depth == 50
    assert all(not p.requires_grad for p in algo.teacher.parameters())
    feats = algo.student.extract_feat(torch.zeros(1, 3, 128, 128))
    assert len(feats) == 5 and all(f.shape[1] == 256 for f in feats)


TRAINABLE = sorted(
    glob.glob('configs/*.py') + glob.glob('configs/mini/*.py')
    + glob.glob('configs/_base_/students/*.py') + glob.glob('configs/_base_/teachers/*.py'))


@pytest.mark.parametrize('path', TRAINABLE)
def test_every_trainable_config_is_complete(path):
    """What tools/train.py needs is there: a model, the three loops with their data, an
    optimizer, and the package import that registers our types."""
    cfg = Config.fromfile(path)
    for key in ('model', 'train_dataloader', 'train_cfg', 'val_dataloader', 'val_evaluator',
                'test_dataloader', 'optim_wrapper', 'param_scheduler', 'default_hooks'):
        assert key in cfg, f'{path} lacks {key}'
    assert 'detkd' in cfg.custom_imports.imports


def test_demo_presets_pair_each_distillation_config_with_its_own_teacher_and_student():
    """tools/demo.py trains the preset's teacher and student and hands the teacher's
    checkpoint to the distillation config: the three must describe the same models."""
    import importlib.util
    import os.path as osp
    spec = importlib.util.spec_from_file_location('demo', 'tools/demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert set(demo.PRESETS) == {'fgd', 'cwd-retina', 'cwd-gfl'}
    for name, preset in demo.PRESETS.items():
        student = Config.fromfile(preset['student']).model
        for path in preset['distill']:
            model = Config.fromfile(path).model
            assert osp.realpath(model.teacher) == osp.realpath(preset['teacher']), name
            assert model.architecture.to_dict() == student.to_dict(), name
            # the pair's default checkpoint is where tools/train.py puts the teacher's
            teacher_name = osp.splitext(osp.basename(preset['teacher']))[0]
            assert model.teacher_ckpt == f'work_dirs/{teacher_name}/epoch_8.pth', name
