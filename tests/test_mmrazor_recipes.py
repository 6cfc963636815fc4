"""The field's other detection distillers (PKD, MGD, FBKD, and CWD on Faster R-CNN) as this
project's method fragments and pair configs: each resolved config equals what MMRazor 1.0's
own config (configs/distill/mmdet/, the reference) resolves to, distiller (recorders, losses
and their weights, connectors, mappings), teacher, student, checkpoint, schedule and
optimizer, apart from the differences listed here with their reason."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.utils import get_installed_path

import detkd  # noqa: F401
from detkd.utils import load_config
from detkd.utils.config import config_path

MMRAZOR = osp.join(get_installed_path('mmrazor'), '.mim', 'configs', 'distill', 'mmdet')

# ours -> MMRazor's
RECIPES = {
    'pkd/pkd_faster-rcnn_r101_faster-rcnn_r50_2x_coco':
    'pkd/pkd_fpn_faster-rcnn_r101_faster-rcnn_r50_2x_coco',
    'pkd/pkd_retina_x101_retina_r50_2x_coco': 'pkd/pkd_fpn_retina_x101_retina_r50_2x_coco',
    'pkd/pkd_fcos_x101_retina_r50_1x_coco': 'pkd/pkd_fpn_fcos_x101_retina_r50_1x_coco',
    'pkd/pkd_reppoints_x101-dcn_reppoints_r50_2x_coco':
    'pkd/pkd_fpn_reppoints_x101-dcn_reppoints_r50_2x_coco',
    'pkd/pkd_mask-rcnn_swin_retina_r50_2x_coco': 'pkd/pkd_fpn_mask-rcnn_swin_retina_r50_2x_coco',
    'mgd/mgd_retina_x101_retina_r50_2x_coco': 'mgd/mgd_fpn_retina_x101_retina_r50_2x_coco',
    'fbkd/fbkd_faster-rcnn_r101_faster-rcnn_r50_1x_coco':
    'fbkd/fbkd_fpn_faster-rcnn_r101_faster-rcnn_r50_1x_coco',
    'cwd/cwd_faster-rcnn_r101_faster-rcnn_r50_1x_coco': 'cwd/cwd_fpn_frcnn_r101_frcnn_r50_1x_coco',
}

# Where ours differs from MMRazor's on purpose (anything else must be equal):
# - the algorithm: DetDistill (the teacher runs backbone and neck, no_grad, its BN in eval mode,
#   its checkpoint loaded strictly) for MMRazor's FpnTeacherDistill, the same; and for FBKD's
#   SingleTeacherDistill, whose teacher runs its whole loss only for the neck records;
# - MMRazor's CWD Faster R-CNN config names mmdet 2's files (faster_rcnn_r50_fpn_1x_coco.py:
#   gone in mmdet 3) and its teacher checkpoint by a bare file name: ours the mmdet 3 files and
#   the checkpoint's URL;
# - MGD: MMRazor inherits the neck and head with Pretrained init_cfgs on the teacher
#   checkpoint, ours with inherit_teacher=('neck', 'bbox_head') (checked, from the teacher
#   loaded); MMRazor's optimizer_config (mmdet 2's clipping, ignored by MMEngine) is left out;
# - FBKD: MMRazor's student is pretrained=True (the zoo's R50 checkpoint), ours says so with
#   the student's init_cfg;
# - PKD Swin: MMRazor trains on coco_instance (masks loaded, boxes evaluated), ours on
#   coco_detection (the RetinaNet student needs no masks; the teacher runs backbone and neck);
# - every pair gets the balance hook (custom_hooks) and its evaluation loop is mmdet's own
#   (MMRazor's SingleTeacherDistillValLoop also evaluates the teacher each time).
MMDET2_NAMES = {
    'mmdet::faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py':
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mmdet::faster_rcnn/faster_rcnn_r101_fpn_2x_coco.py':
    'mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'
}
CWD_TEACHER_URL = ('https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
                   'faster_rcnn_r101_fpn_2x_coco/'
                   'faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth')


def _plain(cfg):
    return copy.deepcopy(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg)


def _model_of(ref):
    """MMRazor's cfg_path model (its mmdet 2 names mapped to mmdet 3's) as a dict."""
    path = MMDET2_NAMES.get(ref['cfg_path'], ref['cfg_path'])
    model = _plain(Config.fromfile(config_path(path)).model)
    model['_scope_'] = 'mmdet'
    return model


@pytest.fixture(scope='module', params=sorted(RECIPES))
def pair(request):
    ours = load_config(f'configs/{request.param}.py')
    theirs = Config.fromfile(osp.join(MMRAZOR, RECIPES[request.param] + '.py'))
    return request.param, ours, theirs


def test_the_distiller_is_mmrazors(pair):
    name, ours, theirs = pair
    assert _plain(ours.model.distiller) == _plain(theirs.model.distiller), name


def test_teacher_student_and_checkpoint_are_mmrazors(pair):
    name, ours, theirs = pair
    m, ref = ours.model, theirs.model
    assert m.type == 'DetDistill' and m.get('teacher_forward', 'neck') == 'neck'
    assert ref.type in ('FpnTeacherDistill', 'SingleTeacherDistill')
    if name.startswith('cwd/'):
        assert ref.teacher_ckpt == osp.basename(CWD_TEACHER_URL)
        assert m.teacher_ckpt == CWD_TEACHER_URL
    else:
        assert m.teacher_ckpt == ref.teacher_ckpt
    assert _plain(m.teacher) == _model_of(ref.teacher)
    student = _plain(m.architecture)
    if name.startswith('mgd/'):
        for part in ('neck', 'bbox_head'):
            assert ref.architecture[part].init_cfg == dict(
                type='Pretrained', prefix=f'{part}.', checkpoint=ref.teacher_ckpt)
            del ref.architecture[part]['init_cfg']
        assert tuple(m.inherit_teacher) == ('neck', 'bbox_head')
        expected = _plain(ref.architecture)
        expected['_scope_'] = 'mmdet'
    else:
        expected = _model_of(ref.architecture)
        assert ref.architecture.get('pretrained') == name.startswith('fbkd/')
        if name.startswith('fbkd/'):
            init = student.pop('init_cfg')
            assert init['type'] == 'Pretrained' and init['checkpoint'].endswith(
                'faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
    assert student == expected


def _unscoped(data):
    """Without the ``_scope_`` marks MMEngine leaves on what comes from another package's
    base files (one side inherits mmdet's schedule through mmdet's model config)."""
    if isinstance(data, dict):
        return {k: _unscoped(v) for k, v in data.items() if k != '_scope_'}
    if isinstance(data, (list, tuple)):
        return [_unscoped(v) for v in data]
    return data


def test_schedule_and_optimizer_are_mmrazors(pair):
    name, ours, theirs = pair
    for key in ('train_cfg', 'param_scheduler', 'optim_wrapper', 'auto_scale_lr'):
        assert _unscoped(_plain(ours.get(key))) == _unscoped(_plain(theirs.get(key))), (name, key)
    if name.startswith('mgd/'):
        # MMRazor's clipping never reaches MMEngine: no clip_grad in its optim_wrapper
        assert 'optimizer_config' in theirs and 'clip_grad' not in theirs.optim_wrapper
    assert ours.train_dataloader.batch_size == theirs.train_dataloader.batch_size == 2
    if 'swin' not in name:
        assert _plain(ours.train_dataloader.dataset) == _plain(theirs.train_dataloader.dataset)


# the mini pairs (distill_report.py's methods) -> the COCO recipe whose distiller each shrinks
MINI = {
    'pkd/pkd_retina_r34_r18_mini': 'pkd/pkd_retina_x101_retina_r50_2x_coco',
    'pkd/pkd_faster-rcnn_r34_r18_mini': 'pkd/pkd_faster-rcnn_r101_faster-rcnn_r50_2x_coco',
    'pkd/pkd_fcos_r34_r18_mini': 'pkd/pkd_fcos_x101_retina_r50_1x_coco',
    'mgd/mgd_retina_r34_r18_mini': 'mgd/mgd_retina_x101_retina_r50_2x_coco',
    'fbkd/fbkd_retina_r34_r18_mini': 'fbkd/fbkd_faster-rcnn_r101_faster-rcnn_r50_1x_coco',
    'fbkd/fbkd_faster-rcnn_r34_r18_mini': 'fbkd/fbkd_faster-rcnn_r101_faster-rcnn_r50_1x_coco',
    'cwd/cwd_faster-rcnn_r34_r18_mini': 'cwd/cwd_faster-rcnn_r101_faster-rcnn_r50_1x_coco',
}


def _width(data, width):
    """The distiller with every channel setting (the FPN's 256 in the COCO recipes) at
    ``width``: the one difference a mini pair may have."""
    channels = ('in_channels', 'student_channels', 'teacher_channels')
    if isinstance(data, dict):
        return {k: width if k in channels else _width(v, width) for k, v in data.items()}
    return data


@pytest.mark.parametrize('name', sorted(MINI))
def test_mini_pair_is_its_coco_recipe_on_the_mini_fpn(name):
    """Each mini pair distils with its COCO recipe's distiller (losses, weights, recorders,
    connectors, mappings), the channel widths set to the mini FPN's 64, and its student and
    teacher are the mini family's configs named in its metafile entry."""
    import yaml
    ours = load_config(f'configs/{name}.py')
    coco = load_config(f'configs/{MINI[name]}.py')
    assert _plain(ours.model.distiller) == _width(_plain(coco.model.distiller), 64), name
    folder, stem = name.split('/')
    (entry, ) = [
        m for m in yaml.safe_load(open(f'configs/{folder}/metafile.yml'))['Models']
        if m['Name'] == stem
    ]
    teacher = Config.fromfile(entry['Metadata']['Teacher']['Config']).model.to_dict()
    student = Config.fromfile(entry['Metadata']['Student']['Config']).model.to_dict()
    assert _plain(ours.model.teacher) == dict(teacher, _scope_='mmdet')
    assert _plain(ours.model.architecture) == student
    assert student['neck']['out_channels'] == 64


@pytest.mark.integration
@pytest.mark.parametrize('name', sorted(MINI))
def test_mini_pair_trains_a_step_on_every_distilled_level(name):
    """Built (random teacher) and one training step on two 256 x 256 images: one finite
    distillation loss per configured term, next to the student's own losses, and a gradient
    from the distillation on the student's neck."""
    import torch
    from test_fgd_pairs import _samples

    from detkd.testing import build_pair
    cfg, algo = build_pair(f'configs/{name}.py')
    losses = algo.loss(torch.randn(2, 3, 256, 256), _samples())
    distill = {k: v for k, v in losses.items() if k.startswith('distill.')}
    assert len(distill) == len(cfg.model.distiller.distill_losses), sorted(distill)
    assert all(torch.isfinite(v).all() for v in distill.values()), distill
    assert any(k.startswith('student.loss') for k in losses)
    sum(distill.values()).backward()
    grads = [p.grad for n, p in algo.student.named_parameters() if n.startswith('neck.')]
    assert any(g is not None and g.abs().sum() > 0 for g in grads), name


def test_fbkd_balance_ablation_only_raises_the_loss_weight():
    """The FBKD mini ablation is the mini pair with each level's loss weight at 7 (its
    gradient share from 13% to about half), nothing else."""
    base = _plain(load_config('configs/fbkd/fbkd_retina_r34_r18_mini.py').model)
    x7 = _plain(load_config('configs/fbkd/fbkd_retina_r34_r18_x7_mini.py').model)
    losses = x7['distiller'].pop('distill_losses')
    assert losses == {f'loss_s{i}': dict(type='FBKDLoss', loss_weight=7.0) for i in range(4)}
    assert base['distiller'].pop('distill_losses') == {
        f'loss_s{i}': dict(type='FBKDLoss')
        for i in range(4)
    }
    assert x7 == base
