"""DetDistill: strict teacher loading, inheriting, and the FGD wiring of the mini
config (recorders -> FGDLoss, GT from the student's data samples)."""
import copy
import re

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import detkd  # noqa: F401
from detkd.distill.losses import FGDLoss
from detkd.testing import make_data_samples
from detkd.utils import load_config

FGD_MINI = 'configs/fgd/fgd_retina_r34_r18_mini.py'


def _algo_cfg(**overrides):
    cfg = copy.deepcopy(Config.fromfile(FGD_MINI).model)
    cfg.pop('_scope_', None)
    cfg.update(overrides)
    return cfg


def _save_teacher(tmp_path, depth=34, drop=(), name='teacher.pth'):
    model_cfg = Config.fromfile('configs/retinanet/retinanet_r18_mini.py').model
    model_cfg.backbone.depth = depth
    model_cfg._scope_ = 'mmdet'
    torch.manual_seed(1)
    teacher = MODELS.build(model_cfg)
    teacher.init_weights()
    state = {k: v for k, v in teacher.state_dict().items() if not k.startswith(drop or '#')}
    path = tmp_path / name
    torch.save(dict(state_dict=state, meta=dict()), path)
    return str(path), state


def test_no_teacher_checkpoint_is_refused_unless_explicitly_allowed():
    with pytest.raises(ValueError, match='allow_random_teacher'):
        MODELS.build(_algo_cfg(teacher_ckpt=None))
    algo = MODELS.build(_algo_cfg(teacher_ckpt=None, allow_random_teacher=True))
    assert algo.teacher_ckpt is None


def test_missing_teacher_checkpoint_names_the_path(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        MODELS.build(_algo_cfg(teacher_ckpt=missing))


def test_missing_teacher_file_names_the_file_and_the_command_that_makes_it():
    """tools/train.py expands the teacher config into a model dict: the command is found from
    the checkpoint's work dir (work_dirs/<config name>/), where tools/train.py puts it."""
    cfg = load_config(FGD_MINI).model  # the teacher expanded, as tools/train.py does
    cfg.pop('_scope_')
    assert isinstance(cfg.teacher, dict)
    cfg.teacher_ckpt = 'work_dirs/retinanet_r34_mini/epoch_99.pth'
    with pytest.raises(
            FileNotFoundError,
            match=r"'work_dirs/retinanet_r34_mini/epoch_99.pth' does not exist. Train the "
            r'teacher first \(python tools/train.py configs/retinanet/retinanet_r34_mini.py;'):
        MODELS.build(cfg)


def test_unreachable_teacher_url_says_which_file_to_fetch_and_where_to_put_it():
    """No network (here: a closed local port): not a URLError traceback, but the file, the
    option and MMEngine's download cache."""
    from torch.hub import get_dir
    url = 'http://127.0.0.1:9/detkd_unreachable_teacher.pth'
    with pytest.raises(RuntimeError) as err:
        MODELS.build(_algo_cfg(teacher_ckpt=url))
    msg = str(err.value)
    assert 'could not be downloaded' in msg and f'wget {url}' in msg
    assert 'model.teacher_ckpt=checkpoints/detkd_unreachable_teacher.pth' in msg
    assert f'{get_dir()}/checkpoints/detkd_unreachable_teacher.pth' in msg


def test_teacher_checkpoint_of_another_architecture_is_refused(tmp_path):
    path, _ = _save_teacher(tmp_path, depth=18)  # an R18 checkpoint for the R34 teacher
    with pytest.raises(RuntimeError) as err:
        MODELS.build(_algo_cfg(teacher_ckpt=path))
    msg = str(err.value)
    assert 'does not match the teacher' in msg
    # R34 has blocks R18 lacks: layer1.2 (conv1, bn1, conv2, bn2: 2 + 5 + 1 + 5 tensors)
    assert re.search(
        r'missing \(module, tensors\): backbone\.layer1\.2\.bn1 \(5\), '
        r'backbone\.layer1\.2\.bn2 \(5\), backbone\.layer1\.2\.conv1 \(1\)', msg), msg


def test_partly_matching_teacher_checkpoint_is_refused(tmp_path):
    path, _ = _save_teacher(tmp_path, drop=('bbox_head.retina_cls', ))
    with pytest.raises(
            RuntimeError,
            match=r'missing \(module, tensors\): '
            r'bbox_head\.retina_cls \(2\) \[2 tensors\]'):
        MODELS.build(_algo_cfg(teacher_ckpt=path))


@pytest.mark.integration
def test_teacher_loads_strictly_survives_init_and_student_inherits(tmp_path):
    path, state = _save_teacher(tmp_path)
    algo = MODELS.build(_algo_cfg(teacher_ckpt=path))
    algo.init_weights()  # what the runner does; must not re-initialise the teacher
    for k, v in algo.teacher.state_dict().items():
        torch.testing.assert_close(v, state[k], msg=k)
    student = algo.student.state_dict()
    # inheriting strategy: neck and head copied where the shapes agree ...
    torch.testing.assert_close(student['bbox_head.retina_cls.weight'],
                               state['bbox_head.retina_cls.weight'])
    torch.testing.assert_close(student['neck.fpn_convs.0.conv.weight'],
                               state['neck.fpn_convs.0.conv.weight'])
    # ... but not the backbone
    assert not torch.equal(student['backbone.conv1.weight'], state['backbone.conv1.weight'])


@pytest.mark.integration
def test_fgd_wiring_feeds_fpn_levels_and_student_gt_to_each_loss(tmp_path):
    path, _ = _save_teacher(tmp_path)
    algo = MODELS.build(_algo_cfg(teacher_ckpt=path))
    algo.init_weights()
    algo.train()
    torch.manual_seed(0)
    inputs, samples = torch.randn(2, 3, 64, 64), make_data_samples()
    losses = algo.loss(inputs, samples)
    assert {f'distill.loss_fgd_fpn{i}' for i in range(5)} <= set(losses)
    # the teacher's BN layers use their running statistics (teacher_norm_eval)
    bns = [m for m in algo.teacher.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)

    with torch.no_grad():  # train-mode BN of the student: batch statistics, same output
        fs = algo.student.extract_feat(inputs)
        ft = algo.teacher.extract_feat(inputs)
    for i in range(5):
        loss_mod = algo.distiller.distill_losses[f'loss_fgd_fpn{i}']
        assert isinstance(loss_mod, FGDLoss)
        expected = loss_mod(fs[i], ft[i], samples)
        torch.testing.assert_close(
            losses[f'distill.loss_fgd_fpn{i}'].detach(), expected.detach(), rtol=1e-4, atol=1e-7)


@pytest.mark.integration
def test_state_dict_leaves_the_teacher_out_and_loads_back_strictly(tmp_path):
    path, state = _save_teacher(tmp_path)
    algo = MODELS.build(_algo_cfg(teacher_ckpt=path))
    saved = algo.state_dict()
    assert not any(k.startswith('teacher.') for k in saved)
    assert any(k.startswith('architecture.') for k in saved)
    assert any(k.startswith('distiller.distill_losses.') for k in saved)  # FGD's own params
    other = MODELS.build(_algo_cfg(teacher_ckpt=path))
    other.load_state_dict(saved, strict=True)  # the teacher's entries come from its own file
    for k, v in other.teacher.state_dict().items():
        torch.testing.assert_close(v, state[k], msg=k)
    kept = MODELS.build(_algo_cfg(teacher_ckpt=path, save_teacher=True)).state_dict()
    assert any(k.startswith('teacher.') for k in kept)


def test_inheriting_from_a_teacher_of_another_architecture_is_refused_with_the_tensors():
    """A GFL teacher for the RetinaNet student with FGD's inherit_teacher=('neck',
    'bbox_head'): the head towers match in name and shape but the prediction layers do not,
    and one neck conv has another shape. Copying the matching part would leave a half-GFL
    RetinaHead; the build is refused with what differs and the settings to change."""
    from mmengine.config import Config
    cfg = _algo_cfg(teacher_ckpt=None, allow_random_teacher=True)
    cfg.teacher = Config.fromfile('configs/gfl/gfl_r34vd_mini.py').model
    cfg.teacher._scope_ = 'mmdet'
    with pytest.raises(ValueError) as err:
        MODELS.build(cfg)
    msg = str(err.value)
    assert "inherit_teacher=('neck', 'bbox_head'): the teacher (GFL) and the student " \
        '(RetinaNet) differ' in msg
    assert 'neck.fpn_convs.3.conv.weight (64, 64, 3, 3) vs student (64, 512, 3, 3)' in msg
    assert 'only in the teacher: bbox_head.gfl_cls (2), bbox_head.gfl_reg (2)' in msg
    assert 'only in the student: bbox_head.retina_cls (2), bbox_head.retina_reg (2)' in msg
    assert "inherit_teacher=('neck',)" in msg and 'model.inherit_teacher=()' in msg
    # without inheriting, the mixed pair builds
    cfg.inherit_teacher = ()
    assert type(MODELS.build(cfg).teacher).__name__ == 'GFL'
    # a prefix the teacher lacks
    cfg.inherit_teacher = ('necks', )
    with pytest.raises(
            ValueError,
            match="no module 'necks'; its top-level modules are "
            'backbone, bbox_head, neck'):
        MODELS.build(cfg)


def test_recorder_on_a_module_that_does_not_exist_fails_at_build_with_names():
    cfg = _algo_cfg(teacher_ckpt=None, allow_random_teacher=True)
    cfg.distiller.student_recorders.fpn.source = 'necks'
    with pytest.raises(
            KeyError, match=r"student recorder 'fpn'.*no module 'necks'.*"
            r"Closest names: neck"):
        MODELS.build(cfg)
    cfg = _algo_cfg(teacher_ckpt=None, allow_random_teacher=True)
    cfg.distiller.teacher_recorders.fpn.source = 'neck.fpn_convs.9.conv'
    with pytest.raises(
            KeyError,
            match=r"teacher recorder 'fpn'.*Top-level modules: "
            r"backbone, bbox_head, data_preprocessor, neck"):
        MODELS.build(cfg)


def test_loss_mapping_naming_an_unknown_recorder_fails_at_build():
    cfg = _algo_cfg(teacher_ckpt=None, allow_random_teacher=True)
    cfg.distiller.loss_forward_mappings.loss_fgd_fpn0.preds_T.recorder = 'fpn_t'
    with pytest.raises(AssertionError, match='fpn_t'):
        MODELS.build(cfg)


@pytest.mark.integration
@pytest.mark.parametrize('mode', ['raise', 'skip'])
def test_non_finite_distillation_loss_stops_or_skips(mode, tmp_path):
    path, _ = _save_teacher(tmp_path)
    algo = MODELS.build(_algo_cfg(teacher_ckpt=path, on_nonfinite=mode))
    algo.init_weights()
    algo.train()
    # a teacher that outputs NaN features on the first level
    algo.teacher.neck.fpn_convs[0].register_forward_hook(
        lambda m, i, o: torch.full_like(o, float('nan')))
    inputs, samples = torch.randn(2, 3, 64, 64), make_data_samples()
    if mode == 'raise':
        with pytest.raises(FloatingPointError, match=r'distill\.loss_fgd_fpn0=nan'):
            algo.loss(inputs, samples)
    else:
        losses = algo.loss(inputs, samples)
        assert not any(k.startswith('distill.') for k in losses)
        student = [t for v in losses.values() for t in (v if isinstance(v, list) else [v])]
        assert student and all(torch.isfinite(t).all() for t in student)


def test_declared_loss_channels_are_checked_against_the_recorded_layers_at_build():
    cfg = _algo_cfg(teacher_ckpt=None, allow_random_teacher=True)
    cfg.distiller.distill_losses.loss_fgd_fpn2.teacher_channels = 256
    with pytest.raises(
            ValueError,
            match=r"loss_fgd_fpn2 \(preds_S: fpn\[2\], preds_T: fpn\[2\]; "
            r"dry run on a 256x256 input\): FGDLoss expected 256 "
            r"channels for the teacher feature "
            r"\(teacher_channels=256\) but got 64.*"
            r"set teacher_channels=64"):
        MODELS.build(cfg)


def test_old_algorithm_name_still_builds():
    """Configs dumped before the rename (type='DetFpnTeacherDistill') still build."""
    algo = MODELS.build(
        _algo_cfg(type='DetFpnTeacherDistill', teacher_ckpt=None, allow_random_teacher=True))
    assert type(algo).__name__ == 'DetDistill'


def test_a_loss_checks_its_own_inputs_at_build_through_check_inputs():
    """The loss protocol of checks.py: a loss's check_inputs gets the dry run's records (by
    its forward's argument names; the GT, recorded only in training, is left out), and its
    ValueError comes back with the loss's name and the records' places."""
    seen = {}

    @MODELS.register_module(force=True)
    class _PickyLoss(torch.nn.Module):

        def forward(self, preds_S, preds_T, data_samples):
            return (preds_S - preds_T).abs().mean()

        def check_inputs(self, preds_S, preds_T, data_samples=None):
            seen.update(preds_S=tuple(preds_S.shape), data_samples=data_samples)
            if preds_S.shape[-1] != 7:
                raise ValueError('set width=7 somewhere')

    cfg = _algo_cfg(teacher_ckpt=None, allow_random_teacher=True)
    cfg.distiller.distill_losses.loss_fgd_fpn1 = dict(type='_PickyLoss')
    with pytest.raises(
            ValueError,
            match=r'loss_fgd_fpn1 \(preds_S: fpn\[1\], preds_T: '
            r'fpn\[1\]; dry run on a 256x256 input\): set '
            r'width=7 somewhere'):
        MODELS.build(cfg)
    assert seen == dict(preds_S=(1, 64, 16, 16), data_samples=None)


@pytest.mark.parametrize('trainable', [True, False])
def test_distillation_only_run_trains_on_the_distillation_losses_alone(trainable):
    """calculate_student_loss=False: no student.* loss, yet the student still runs its loss
    computation (FGD's GT comes from its loss() inputs) and the distillation gradients reach
    its backbone and neck (not its head, which FGD on the neck does not see);
    student_trainable=False: the student runs under no_grad and gets no gradient, only
    FGD's own modules (its context blocks) do."""
    algo = MODELS.build(
        _algo_cfg(
            teacher_ckpt=None,
            allow_random_teacher=True,
            inherit_teacher=(),
            calculate_student_loss=False,
            student_trainable=trainable))
    algo.init_weights()
    algo.train()
    torch.manual_seed(0)
    losses = algo.loss(torch.randn(2, 3, 64, 64), make_data_samples())
    assert set(losses) == {f'distill.loss_fgd_fpn{i}' for i in range(5)}
    total, _ = algo.parse_losses(losses)
    total.backward()
    grads = {n: p.grad for n, p in algo.student.named_parameters()}
    own = [p.grad for p in algo.distiller.distill_losses.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in own)
    if not trainable:
        assert all(g is None for g in grads.values())
        return
    assert grads['backbone.conv1.weight'].abs().sum() > 0
    assert grads['neck.fpn_convs.0.conv.weight'].abs().sum() > 0
    assert grads['bbox_head.retina_cls.weight'] is None
    # the default keeps the student's own losses
    algo = MODELS.build(_algo_cfg(teacher_ckpt=None, allow_random_teacher=True))
    algo.train()
    assert 'student.loss_cls' in algo.loss(torch.randn(2, 3, 64, 64), make_data_samples())


def test_a_teacher_head_step_is_declared_by_the_fragment_and_checked_at_build():
    """DetDistill knows no head: the step after the teacher's head (PP-YOLOE+'s assignment)
    is named by the config, and must be a method of the teacher's head, after its forward;
    the old 'assign' mode says what replaced it."""
    base = dict(teacher_ckpt=None, allow_random_teacher=True)
    with pytest.raises(
            ValueError,
            match=r"teacher_forward='head' with\s+teacher_head_step="
            r"'assign_for_student'"):
        MODELS.build(_algo_cfg(teacher_forward='assign', **base))
    with pytest.raises(
            ValueError,
            match=r"teacher_head_step='assign_for_student'.*RetinaHead"
            r"\) has no such method"):
        MODELS.build(
            _algo_cfg(teacher_forward='head', teacher_head_step='assign_for_student', **base))
    with pytest.raises(ValueError, match=r"runs on the head's outputs: set teacher_forward="):
        MODELS.build(_algo_cfg(teacher_head_step='loss_by_feat', **base))


def test_teacher_head_step_runs_after_the_head_forward_with_the_data_samples(monkeypatch):
    """With a head step, each training step calls it on the teacher's head outputs and the
    batch's data samples (not in the build-time dry run, which has none)."""
    from mmdet.models.dense_heads import RetinaHead
    calls = []
    monkeypatch.setattr(
        RetinaHead,
        'remember_for_student',
        lambda self, cls_scores, bbox_preds, samples: calls.append((len(cls_scores), samples)),
        raising=False)
    algo = MODELS.build(
        _algo_cfg(
            teacher_ckpt=None,
            allow_random_teacher=True,
            teacher_forward='head',
            teacher_head_step='remember_for_student'))
    assert calls == []  # the dry run has no data samples
    samples = make_data_samples(2, (128, 128))
    algo.loss(torch.rand(2, 3, 128, 128), samples)
    assert len(calls) == 1 and calls[0] == (5, samples)
