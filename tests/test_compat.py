"""detkd.compat: MMRazor 1.0 imports on torch 2.x and its distillers build and run."""
import pytest
import torch
import torch.nn.functional as F

import detkd  # noqa: F401  (applies the compat module)
from detkd import compat
from detkd.testing import make_data_samples


def test_mmrazor_models_and_engine_import():
    import mmrazor.engine  # noqa: F401
    import mmrazor.models  # noqa: F401
    from mmrazor.registry import MODELS
    for name in ('FpnTeacherDistill', 'SingleTeacherDistill', 'ConfigurableDistiller',
                 'ChannelWiseDivergence'):
        assert MODELS.get(name) is not None, name


def test_quantization_stand_in_fails_loudly_on_use():
    import sys
    backend = sys.modules[compat._TARGET]
    if not getattr(backend, '__detkd_stand_in__', False):
        pytest.skip('this torch imports the real MMRazor quantization module')
    assert compat.import_error is not None
    with pytest.raises(RuntimeError, match='quantization'):
        backend.get_native_backend_config()
    with pytest.raises(RuntimeError, match='quantization'):
        backend.BackendConfigs['native']


def _tiny_retinanet(depth):
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/models/retinanet_mini.py').model
    cfg.backbone.depth = depth
    if depth >= 50:
        cfg.neck.in_channels = [256, 512, 1024, 2048]
    cfg.bbox_head.num_classes = 3
    cfg._scope_ = 'mmdet'
    return cfg


@pytest.mark.integration
def test_fpn_teacher_distill_with_cwd_builds_and_matches_hand_computation():
    """An MMRazor FpnTeacherDistill (RetinaNet R18 teacher and student, CWD on two FPN
    levels) builds from config, runs its loss, and the CWD value equals the formula computed
    here from the recorded features."""
    from mmrazor.registry import MODELS
    torch.manual_seed(0)
    algo = MODELS.build(
        dict(
            type='FpnTeacherDistill',
            architecture=_tiny_retinanet(18),
            teacher=_tiny_retinanet(18),
            distiller=dict(
                type='ConfigurableDistiller',
                student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
                teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
                distill_losses=dict(
                    loss_cwd_p3=dict(type='ChannelWiseDivergence', tau=2, loss_weight=5),
                    loss_cwd_p4=dict(type='ChannelWiseDivergence', tau=2, loss_weight=5)),
                loss_forward_mappings=dict(
                    loss_cwd_p3=dict(
                        preds_S=dict(from_student=True, recorder='fpn', data_idx=0),
                        preds_T=dict(from_student=False, recorder='fpn', data_idx=0)),
                    loss_cwd_p4=dict(
                        preds_S=dict(from_student=True, recorder='fpn', data_idx=1),
                        preds_T=dict(from_student=False, recorder='fpn', data_idx=1))))))
    algo.init_weights()
    algo.train()
    inputs = torch.randn(2, 3, 64, 64)
    losses = algo.loss(inputs, make_data_samples())
    assert {'student.loss_cls', 'distill.loss_cwd_p3', 'distill.loss_cwd_p4'} <= set(losses)

    with torch.no_grad():
        fs = algo.student.extract_feat(inputs)
        ft = algo.teacher.extract_feat(inputs)
    for lvl, key in enumerate(('distill.loss_cwd_p3', 'distill.loss_cwd_p4')):
        s, t = fs[lvl], ft[lvl]
        n, c, h, w = s.shape
        tau = 2.0
        p_t = F.softmax(t.reshape(n * c, h * w) / tau, dim=1)
        log_p_s = F.log_softmax(s.reshape(n * c, h * w) / tau, dim=1)
        expected = 5 * tau**2 * (p_t * (p_t.log() - log_p_s)).sum() / (n * c)
        torch.testing.assert_close(losses[key].detach(), expected, rtol=1e-4, atol=1e-6)
    # the teacher is frozen: the distillation loss only trains the student
    total = sum(v for k, v in losses.items() if k.startswith('distill'))
    total.backward()
    assert all(p.grad is None for p in algo.teacher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in algo.student.neck.parameters())
