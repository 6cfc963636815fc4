"""PP-YOLOE+ distillation: each logits term against an independent formulation, the
teacher's assignment reaching the student after the static epochs, a teacher that runs its
forward and assigner only and gets no gradient, batches without GT, the x0.125 scale, and the
configs (FGD widths that fit the models)."""
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import detkd  # noqa: F401
from detkd.distill.losses import (PPYOLOELogitsLoss, ppyoloe_box_distill, ppyoloe_cls_distill,
                                  ppyoloe_dfl_distill, ppyoloe_kd_distill)
from detkd.distill.losses.ppyoloe_kd import kd_class_factor

MINI = 'configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py'


@pytest.fixture(autouse=True)
def hub():
    h = MessageHub.get_current_instance()
    h.update_info('epoch', 0)
    yield h
    h.update_info('epoch', 0)


# ---- the terms ----------------------------------------------------------------------------


def test_cls_term():
    g = torch.Generator().manual_seed(0)
    s, t = torch.rand(2, 7, 3, generator=g), torch.rand(2, 7, 3, generator=g)
    ref = 0.
    for a, b in zip(s.flatten().tolist(), t.flatten().tolist()):
        ref += -(b * math.log(a) + (1 - b) * math.log(1 - a)) * (a - b)**2
    assert ppyoloe_cls_distill(s, t, 2.5).item() == pytest.approx(ref / 2.5, rel=1e-5)


def giou_np(a, b):
    iw = max(0., min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0., min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return inter / union - (hull - union) / hull


def test_box_term():
    s = torch.tensor([[0., 0., 4., 4.], [1., 1., 3., 5.], [10., 10., 12., 11.]])
    t = torch.tensor([[1., 1., 5., 5.], [1., 1., 3., 5.], [0., 0., 2., 2.]])
    w = torch.tensor([[0.5], [0.2], [1.0]])
    ref = sum(wi * (1 - giou_np(a, b))
              for wi, a, b in zip(w[:, 0].tolist(), s.tolist(), t.tolist())) / 1.7
    assert ppyoloe_box_distill(s, t, w).item() == pytest.approx(ref, rel=1e-5)


def test_dfl_term_as_paddle_reshapes_it():
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(3, 4, 17, generator=g), torch.randn(3, 4, 17, generator=g)
    w = torch.tensor([[0.3], [0.9], [0.1]])
    # Paddle: (n*4, R) soft-label cross-entropy, weights expanded to 4 per positive
    ps = np.exp(s.numpy()) / np.exp(s.numpy()).sum(-1, keepdims=True)
    pt = np.exp(t.numpy()) / np.exp(t.numpy()).sum(-1, keepdims=True)
    ce = -(pt * np.log(ps)).sum(-1).reshape(-1)
    ref = (ce * np.repeat(w.numpy()[:, 0], 4)).sum() / w.sum().item() / 4
    assert ppyoloe_dfl_distill(s, t, w).item() == pytest.approx(ref, rel=1e-5)


def test_kd_term():
    g = torch.Generator().manual_seed(2)
    # float64: the KL of near-equal softmaxes cancels to ~1e-3 relative in float32
    s, t = torch.rand(2, 5, 4, generator=g).double(), torch.rand(2, 5, 4, generator=g).double()
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 1] = mask[1, 3] = mask[1, 4] = True
    ref = 0.
    for n, a in mask.nonzero().tolist():
        q = np.exp(t[n, a].numpy() / 10)
        q /= q.sum()
        logp = s[n, a].numpy() / 10 - np.log(np.exp(s[n, a].numpy() / 10).sum())
        ref += (q * (np.log(q) - logp)).mean() * 100
    assert ppyoloe_kd_distill(mask, s, t).item() == pytest.approx(ref / 3, rel=1e-5)
    assert ppyoloe_kd_distill(torch.zeros_like(mask), s, t).item() == 0


@pytest.mark.parametrize('K', [2, 3, 7, 20, 80])
def test_kd_normalised_by_classes_keeps_its_ratio_to_cls_at_any_class_count(K):
    """The same per-class probabilities at every K (teacher 0.8, student 0.3 on the GT class,
    0.01 on the others): cls is the same, and kd with ref_num_classes=80 is what it is at 80
    classes, to first order in p / T (exactly at 80; 6% off at K = 2, the second order). With
    Paddle's formula kd / cls grows as K^3 / (K - 1): 113 times at 7 classes."""

    def probs(k):
        t = torch.full((1, 6, k), 0.01, dtype=torch.float64)
        s = t.clone()
        t[..., 0], s[..., 0] = 0.8, 0.3
        return s, t

    mask = torch.ones(1, 6, dtype=torch.bool)
    s80, t80 = probs(80)
    ref = ppyoloe_kd_distill(mask, s80, t80) / ppyoloe_cls_distill(s80, t80, 6)
    s, t = probs(K)
    cls = ppyoloe_cls_distill(s, t, 6)
    assert float(cls) == pytest.approx(float(ppyoloe_cls_distill(s80, t80, 6)), rel=1e-12)
    ratio = ppyoloe_kd_distill(mask, s, t, ref_num_classes=80) / cls
    assert float(ratio) == pytest.approx(float(ref), rel=0.07)
    if K == 7:  # the figures: 182.8 vs 1.64 per positive with the seed's weight
        assert 80000 * float(ppyoloe_kd_distill(mask, s, t)) == pytest.approx(182.8, abs=0.1)
        assert 80000 * float(ppyoloe_kd_distill(mask, s80, t80)) == pytest.approx(1.64, abs=0.01)
        assert float(ppyoloe_kd_distill(mask, s, t) / cls / ref) == pytest.approx(111.5, abs=1)
    assert kd_class_factor(K, 80) == pytest.approx(79 * K**3 / (80**3 * (K - 1)))


def test_kd_normalisation_refuses_one_class_and_other_terms():
    assert kd_class_factor(80, 80) == 1
    with pytest.raises(ValueError, match='identically 0 with one class'):
        kd_class_factor(1, 80)
    loss = PPYOLOELogitsLoss(term='kd', ref_num_classes=80)
    with pytest.raises(ValueError, match='identically 0 with one class'):
        loss.check_inputs(
            teacher_cls_scores=[torch.zeros(1, 1, 4, 4)],
            teacher_bbox_preds=[torch.zeros(1, 68, 4, 4)])
    with pytest.raises(ValueError, match='kd term only'):
        PPYOLOELogitsLoss(term='cls', ref_num_classes=80)


# ---- the wiring -----------------------------------------------------------------------------


def build(path=MINI, **overrides):
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(path)
    cfg.model.update(teacher_ckpt=None, allow_random_teacher=True, **overrides)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    # a teacher that differs from the student (both start from the same zero prediction convs)
    with torch.no_grad():
        for p in model.teacher.bbox_head.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def batch(
        boxes=((([10, 10, 160, 170], 1), ([0, 0, 50, 80], 5), ([200, 220, 300,
                                                                310], 3)), (([40, 60, 120,
                                                                              110], 2), ))):
    from mmdet.structures import DetDataSample
    out = []
    for image in boxes:
        s = DetDataSample(
            metainfo=dict(
                img_shape=(320, 320),
                scale_factor=(1., 1.),
                pad_shape=(320, 320),
                batch_input_shape=(320, 320)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([b for b, _ in image], dtype=torch.float32).reshape(-1, 4),
            labels=torch.tensor([c for _, c in image], dtype=torch.long))
        out.append(s)
    return out


@pytest.fixture(scope='module')
def model():
    return build()


def inputs():
    return torch.randn(2, 3, 320, 320, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize('epoch', [0, 4])
def test_teacher_runs_forward_and_assigner_only_and_gets_no_gradient(model, hub, epoch,
                                                                     monkeypatch):
    head = model.teacher.bbox_head
    calls = []
    for name in ('loss', 'loss_by_feat', 'loss_from_assignment', 'predict'):
        monkeypatch.setattr(head, name, lambda *a, _n=name, **k: calls.append(_n))
    for name in ('static_assigner', 'assigner'):
        fn = getattr(head, name)
        monkeypatch.setattr(head, name, lambda *a, _n=name, _f=fn: calls.append(_n) or _f(*a))
    hub.update_info('epoch', epoch)
    losses = model.loss(inputs(), batch())
    assert calls == ([] if epoch < 4 else ['assigner'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(torch.isfinite(v) for v in losses.values())
    model.zero_grad()


def student_assignment(model, hub, epoch, deliver):
    """The assignment the student's loss used (recorded by the distiller's recorder of
    loss_from_assignment's inputs), and the student's losses."""
    from detkd.models.dense_heads.ppyoloe_head import PPYOLOEHead
    hub.update_info('epoch', epoch)
    if deliver:
        losses = model.loss(inputs(), batch())
        rec = model.distiller.student_recorders.get_recorder('assign_in')
        return rec.get_record_data(0, 5), losses
    seen = []
    orig = PPYOLOEHead.loss_from_assignment

    def spy(self, *args):
        seen.append(args[-1])
        return orig(self, *args)

    PPYOLOEHead.loss_from_assignment = spy
    try:
        losses = model.student.loss(inputs(), batch())
    finally:
        PPYOLOEHead.loss_from_assignment = orig
    return seen[0], losses


def test_teacher_assignment_reaches_the_student_after_the_static_epochs(model, hub):
    head_t = model.teacher.bbox_head
    with torch.no_grad():
        own, own_losses = student_assignment(model, hub, 4, deliver=False)
        got, losses = student_assignment(model, hub, 4, deliver=True)
        outs = model.teacher._forward(inputs())
        hub.update_info('epoch', 4)
        teacher = head_t.assign_for_student(*outs, batch())
    assert torch.equal(got.labels, teacher.labels) and torch.equal(got.scores, teacher.scores)
    assert not torch.equal(own.scores, teacher.scores)
    assert losses['student.loss_cls'].item() != pytest.approx(
        0.125 * own_losses['loss_cls'].item(), rel=1e-3)
    # before: the student's own ATSS, unchanged by the distillation
    with torch.no_grad():
        own0, own_losses0 = student_assignment(model, hub, 3, deliver=False)
        got0, losses0 = student_assignment(model, hub, 3, deliver=True)
    assert torch.equal(got0.scores, own0.scores)
    # (the distiller's losses carry the x0.125 scale)
    assert losses0['student.loss_cls'].item() == pytest.approx(
        0.125 * own_losses0['loss_cls'].item(), rel=1e-5)


@pytest.mark.parametrize('epoch', [0, 4])
def test_batch_without_gt(model, hub, epoch):
    hub.update_info('epoch', epoch)
    losses = model.loss(inputs(), batch(((), ())))
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['distill.loss_logits_box'] == 0 and losses['distill.loss_logits_kd'] == 0


def test_loss_scale(hub):
    hub.update_info('epoch', 5)
    a = build(loss_scale=1.0).loss(inputs(), batch())
    b = build().loss(inputs(), batch())
    for k in a:
        expect = a[k] * (0.125 if 'loss' in k else 1.0)
        assert b[k].item() == pytest.approx(expect.item(), rel=1e-5, abs=1e-8), k


# ---- configs ------------------------------------------------------------------------------


@pytest.mark.parametrize('path,teacher,student', [
    ('configs/ppyoloe_plus_x_l_distill.py', 'x', 'l'),
    ('configs/ppyoloe_plus_l_m_distill.py', 'l', 'm'),
])
def test_coco_pairs_are_the_seeds(path, teacher, student):
    cfg = Config.fromfile(path)
    m = cfg.model
    widths = dict(m=0.75, l=1.0, x=1.25)
    assert m.teacher == f'detkd::ppyoloe/ppyoloe_plus_{teacher}_80e_coco.py'
    assert m.teacher_ckpt == f'checkpoints/ppyoloe_plus_{teacher}_80e_coco_paddle.pth'
    assert m.architecture.backbone.width_mult == widths[student]
    assert m.architecture.init_cfg.checkpoint == (
        f'checkpoints/ppyoloe_crn_{student}_obj365_paddle.pth')
    assert cfg.load_from is None
    assert (m.teacher_forward, m.teacher_head_step, m.loss_scale,
            m.teacher_norm_eval) == ('head', 'assign_for_student', 0.125, True)
    losses = m.distiller.distill_losses
    assert [losses[f'loss_logits_{t}'].loss_weight
            for t in ('cls', 'box', 'dfl', 'kd')] == [4.0, 10.0, 2.0, 80000.0]
    for i, c in enumerate((192, 384, 768)):
        fgd = losses[f'loss_fgd_neck{i}']
        assert fgd.student_channels == round(c * widths[student])
        assert fgd.teacher_channels == round(c * widths[teacher])
        assert (fgd.temp, fgd.alpha_fgd, fgd.beta_fgd, fgd.gamma_fgd,
                fgd.lambda_fgd) == (0.5, 1e-5, 5e-6, 1e-5, 5e-8)
        assert fgd.normalize and not fgd.train_own_params
    assert m.distiller.distill_deliveries.assign.type == 'OptionalMethodOutputs'


def test_m_to_s_pair_is_the_develop_branch_recipe():
    """PP-YOLOE+ m -> s (PaddleDetection develop, ppyoloe_plus_distill_m_distill_s.yml): the
    x -> l and l -> m recipe with the m teacher converted from Paddle's 80e weights, the s
    student from its Objects365 weights, FGD between the s and m neck widths."""
    cfg = Config.fromfile('configs/ppyoloe_kd/ppyoloe_plus_m_s_distill.py')
    seed = Config.fromfile('configs/ppyoloe_plus_l_m_distill.py')
    m = cfg.model
    assert m.teacher == 'detkd::ppyoloe/ppyoloe_plus_m_80e_coco.py'
    assert m.teacher_ckpt == 'checkpoints/ppyoloe_plus_m_80e_coco_paddle.pth'
    assert m.architecture.backbone.width_mult == 0.5
    assert m.architecture.init_cfg.checkpoint == 'checkpoints/ppyoloe_crn_s_obj365_paddle.pth'
    assert cfg.load_from is None
    for key in ('teacher_forward', 'teacher_head_step', 'loss_scale', 'teacher_norm_eval'):
        assert m[key] == seed.model[key], key
    losses, seed_losses = m.distiller.distill_losses, seed.model.distiller.distill_losses
    for name, loss in losses.items():
        expect = dict(seed_losses[name])
        if name.startswith('loss_fgd_neck'):
            i = int(name[-1])
            expect.update(student_channels=(96, 192, 384)[i], teacher_channels=(144, 288, 576)[i])
        assert dict(loss) == expect, name
    assert cfg.optim_wrapper == seed.optim_wrapper and cfg.train_cfg == seed.train_cfg


@pytest.mark.parametrize('variant,off', [('logits', ('loss_fgd_neck', )),
                                         ('feat', ('loss_logits', )),
                                         ('assign', ('loss_fgd_neck', 'loss_logits'))])
def test_mini_ablations_switch_one_part_off(variant, off):
    cfg = Config.fromfile(f'configs/ppyoloe_kd/ppyoloe_plus_kd_{variant}_mini.py')
    for name, loss in cfg.model.distiller.distill_losses.items():
        assert (loss.loss_weight == 0) == name.startswith(off), name
    # the teacher still assigns for the student after the static epochs
    assert cfg.model.teacher_head_step == 'assign_for_student'
    assert cfg.model.distiller.distill_losses.loss_logits_kd.ref_num_classes == 80


def test_balanced_mini_recipe_is_the_seed_rescaled_by_its_stated_factors():
    """ppyoloe_plus_kd_balanced_mini.py: the seed's logits weights / 8, and FGD times the
    ratio of the seed's teacher neck width and image area to the mini pair's, read from the
    configs themselves (a change of the mini teacher's width breaks the stated derivation)."""
    seed = Config.fromfile('configs/ppyoloe_kd/ppyoloe_plus_kd_mini.py')
    bal = Config.fromfile('configs/ppyoloe_kd/ppyoloe_plus_kd_balanced_mini.py')
    coco = Config.fromfile('configs/ppyoloe_kd/ppyoloe_plus_x_l_distill.py')
    s, b = seed.model.distiller.distill_losses, bal.model.distiller.distill_losses
    for t in ('cls', 'box', 'dfl', 'kd'):
        assert b[f'loss_logits_{t}'].loss_weight == pytest.approx(
            s[f'loss_logits_{t}'].loss_weight / 8)
    assert b.loss_logits_kd.ref_num_classes == 80 and b.loss_logits_kd.kd_T == 10.0

    def side(cfg):
        return next(t.scale[0] for t in cfg.test_pipeline if t.type == 'Resize')

    coco_student = Config.fromfile('configs/ppyoloe/ppyoloe_plus_l_80e_coco.py')
    area = (side(coco_student) / side(bal))**2
    for i in range(3):
        fgd, fgd_coco = b[f'loss_fgd_neck{i}'], coco.model.distiller.distill_losses[
            f'loss_fgd_neck{i}']
        width = fgd_coco.teacher_channels / fgd.teacher_channels
        assert fgd.loss_weight == pytest.approx(s[f'loss_fgd_neck{i}'].loss_weight * width * area)
        assert fgd.teacher_channels == (72, 144, 288)[i]
    assert bal.model.teacher_head_step == 'assign_for_student' and bal.model.loss_scale == 0.125


def test_fgd_untrained_modules_get_no_gradient(hub):
    model = build(MINI)
    hub.update_info('epoch', 5)
    losses = model.loss(inputs(), batch())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    fgd = model.distiller.distill_losses['loss_fgd_neck0']
    assert fgd.align is not None
    assert all(p.grad is None and not p.requires_grad for p in fgd.parameters())
    assert model.student.neck.pan_stages[0][0].conv3.conv.weight.grad.abs().sum() > 0
