"""FGDLoss against a literal per-image, per-box transcription of the authors'
code (github.com/yzd-v/FGD, mmdet/distillation/losses/fgd.py)."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.structures import InstanceData

import detkd.distill.losses.fgd as fgd_module
from detkd.distill.losses import FGDLoss
from detkd.distill.losses.fgd import build_fgd_masks
from detkd.testing import make_data_samples, reference_fgd_masks

DT = torch.float64


# --------------------------------------------------------------- reference
class RefFGD(nn.Module):
    """The authors' FeatureLoss, per image and per box, same parameter names,
    plus Paddle's ``feature_norm`` and a ``loss_weight``."""

    def __init__(self,
                 student_channels,
                 teacher_channels,
                 temp=0.5,
                 alpha_fgd=0.001,
                 beta_fgd=0.0005,
                 gamma_fgd=0.001,
                 lambda_fgd=0.000005,
                 normalize=False,
                 loss_weight=1.0):
        super().__init__()
        self.temp, self.normalize, self.loss_weight = temp, normalize, \
            loss_weight
        self.alpha_fgd, self.beta_fgd = alpha_fgd, beta_fgd
        self.gamma_fgd, self.lambda_fgd = gamma_fgd, lambda_fgd
        C = teacher_channels
        self.align = nn.Conv2d(student_channels, C, 1) \
            if student_channels != teacher_channels else None
        self.conv_mask_s = nn.Conv2d(C, 1, kernel_size=1)
        self.conv_mask_t = nn.Conv2d(C, 1, kernel_size=1)
        self.channel_add_conv_s = nn.Sequential(
            nn.Conv2d(C, C // 2, kernel_size=1), nn.LayerNorm([C // 2, 1, 1]),
            nn.ReLU(inplace=True), nn.Conv2d(C // 2, C, kernel_size=1))
        self.channel_add_conv_t = nn.Sequential(
            nn.Conv2d(C, C // 2, kernel_size=1), nn.LayerNorm([C // 2, 1, 1]),
            nn.ReLU(inplace=True), nn.Conv2d(C // 2, C, kernel_size=1))

    @staticmethod
    def paddle_feature_norm(feat):
        N, C, H, W = feat.shape
        feat = feat.transpose(0, 1).reshape(C, -1)
        mean = feat.mean(dim=-1, keepdim=True)
        std = feat.std(dim=-1, keepdim=True)
        feat = (feat - mean) / (std + 1e-6)
        return feat.reshape(C, N, H, W).transpose(0, 1)

    def forward(self, preds_S, preds_T, gt_bboxes, scale_shapes):
        if self.align is not None:
            preds_S = self.align(preds_S)
        if self.normalize:
            preds_S = self.paddle_feature_norm(preds_S)
            preds_T = self.paddle_feature_norm(preds_T)
        N, C, H, W = preds_S.shape
        S_attention_t, C_attention_t = self.get_attention(preds_T, self.temp)
        S_attention_s, C_attention_s = self.get_attention(preds_S, self.temp)
        Mask_fg, Mask_bg = reference_fgd_masks(gt_bboxes, scale_shapes, H, W, S_attention_t.dtype)
        fg_loss, bg_loss = self.get_fea_loss(preds_S, preds_T, Mask_fg, Mask_bg, C_attention_t,
                                             S_attention_t)
        mask_loss = self.get_mask_loss(C_attention_s, C_attention_t, S_attention_s, S_attention_t)
        rela_loss = self.get_rela_loss(preds_S, preds_T)
        loss = self.alpha_fgd * fg_loss + self.beta_fgd * bg_loss \
            + self.gamma_fgd * mask_loss + self.lambda_fgd * rela_loss
        return self.loss_weight * loss

    def get_attention(self, preds, temp):
        N, C, H, W = preds.shape
        value = torch.abs(preds)
        fea_map = value.mean(axis=1, keepdim=True)
        S_attention = (H * W * F.softmax((fea_map / temp).view(N, -1), dim=1)).view(N, H, W)
        channel_map = value.mean(axis=2, keepdim=False).mean(axis=2, keepdim=False)
        C_attention = C * F.softmax(channel_map / temp, dim=1)
        return S_attention, C_attention

    def get_fea_loss(self, preds_S, preds_T, Mask_fg, Mask_bg, C_t, S_t):
        loss_mse = nn.MSELoss(reduction='sum')
        Mask_fg = Mask_fg.unsqueeze(dim=1)
        Mask_bg = Mask_bg.unsqueeze(dim=1)
        C_t = C_t.unsqueeze(dim=-1).unsqueeze(dim=-1)
        S_t = S_t.unsqueeze(dim=1)
        fea_t = torch.mul(torch.mul(preds_T, torch.sqrt(S_t)), torch.sqrt(C_t))
        fg_fea_t = torch.mul(fea_t, torch.sqrt(Mask_fg))
        bg_fea_t = torch.mul(fea_t, torch.sqrt(Mask_bg))
        fea_s = torch.mul(torch.mul(preds_S, torch.sqrt(S_t)), torch.sqrt(C_t))
        fg_fea_s = torch.mul(fea_s, torch.sqrt(Mask_fg))
        bg_fea_s = torch.mul(fea_s, torch.sqrt(Mask_bg))
        fg_loss = loss_mse(fg_fea_s, fg_fea_t) / len(Mask_fg)
        bg_loss = loss_mse(bg_fea_s, bg_fea_t) / len(Mask_bg)
        return fg_loss, bg_loss

    def get_mask_loss(self, C_s, C_t, S_s, S_t):
        return torch.sum(torch.abs((C_s - C_t))) / len(C_s) + \
            torch.sum(torch.abs((S_s - S_t))) / len(S_s)

    def spatial_pool(self, x, in_type):
        batch, channel, width, height = x.size()
        input_x = x.view(batch, channel, height * width).unsqueeze(1)
        conv = self.conv_mask_s if in_type == 0 else self.conv_mask_t
        context_mask = conv(x).view(batch, 1, height * width)
        context_mask = F.softmax(context_mask, dim=2).unsqueeze(-1)
        context = torch.matmul(input_x, context_mask)
        return context.view(batch, channel, 1, 1)

    def get_rela_loss(self, preds_S, preds_T):
        loss_mse = nn.MSELoss(reduction='sum')
        context_s = self.spatial_pool(preds_S, 0)
        context_t = self.spatial_pool(preds_T, 1)
        out_s = preds_S + self.channel_add_conv_s(context_s)
        out_t = preds_T + self.channel_add_conv_t(context_t)
        return loss_mse(out_s, out_t) / len(out_s)


# ----------------------------------------------------------------- helpers
def make_samples(boxes_per_image, img_shapes, batch_input_shape=None, box_type=None):
    """DetDataSamples with float32 GT boxes (as mmdet's pipeline gives)."""
    samples = []
    for boxes, img_shape in zip(boxes_per_image, img_shapes):
        pad = batch_input_shape or img_shape
        ds = DetDataSample(metainfo=dict(img_shape=img_shape, batch_input_shape=pad))
        bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        if box_type is not None:
            bboxes = box_type(bboxes)
        ds.gt_instances = InstanceData(
            bboxes=bboxes, labels=torch.zeros(len(boxes), dtype=torch.long))
        samples.append(ds)
    return samples


def boxes_of(samples):
    return [
        torch.as_tensor(getattr(ds.gt_instances.bboxes, 'tensor', ds.gt_instances.bboxes))
        for ds in samples
    ]


def make_pair(student_channels=8, teacher_channels=8, seed=0, **kwargs):
    """FGDLoss and reference with the same random (non-trivial) weights."""
    torch.manual_seed(seed)
    loss = FGDLoss(student_channels, teacher_channels, **kwargs).to(DT)
    with torch.no_grad():
        for p in loss.parameters():  # also the zero-initialised last convs
            p.copy_(torch.randn_like(p) * 0.3)
    ref_kwargs = {k: v for k, v in kwargs.items() if k != 'box_scale'}
    ref = RefFGD(student_channels, teacher_channels, **ref_kwargs).to(DT)
    ref.load_state_dict(loss.state_dict())
    return loss, ref


def make_feats(N, Cs, Ct, H, W, seed=1):
    g = torch.Generator().manual_seed(seed)
    preds_S = torch.randn(N, Cs, H, W, dtype=DT, generator=g)
    preds_T = torch.randn(N, Ct, H, W, dtype=DT, generator=g) * 1.5 + 0.2
    return preds_S.requires_grad_(), preds_T.requires_grad_()


def check_against_reference(loss, ref, samples, H, W, scale_key='img_shape'):
    """Value and all gradients (student feature, loss parameters) agree."""
    loss.zero_grad()
    ref.zero_grad()
    N = len(samples)
    Cs, Ct = loss.student_channels, loss.teacher_channels
    preds_S, preds_T = make_feats(N, Cs, Ct, H, W)
    out = loss(preds_S, preds_T, samples)
    scale_shapes = [ds.metainfo[scale_key] for ds in samples]
    rS = preds_S.detach().clone().requires_grad_()
    expected = ref(rS, preds_T.detach(), boxes_of(samples), scale_shapes)
    assert torch.isfinite(out)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-12)

    out.backward()
    expected.backward()
    torch.testing.assert_close(preds_S.grad, rS.grad, rtol=1e-8, atol=1e-12)
    assert preds_T.grad is None
    ref_params = dict(ref.named_parameters())
    for name, p in loss.named_parameters():
        torch.testing.assert_close(p.grad, ref_params[name].grad, rtol=1e-8, atol=1e-12, msg=name)
    return out.detach()


# 128x128 image, stride 8 -> 16x16 level.
IMG = (128, 128)
BOXES_A = [[8.0, 12.5, 40.0, 60.0], [30.0, 30.0, 90.5, 70.0],
           [35.0, 40.0, 50.0, 52.0]]  # the last two overlap the first
BOXES_B = [[64.0, 0.0, 128.0, 128.0], [3.3, 90.1, 20.7, 101.9]]


# ------------------------------------------------------------- mask tests
def test_mask_hand_computed_8x8():
    # 64x64 image on an 8x8 grid (stride 8).
    # box 1: x 10..30 -> 1.25..3.75 -> cols 1..4; y 20..36 -> 2.5..4.5 ->
    #        rows 2..5: 4x4 cells, value 1/16.
    # box 2 (right border): x 48..64 -> 6..8 -> cols 6..8, only 6, 7 exist;
    #        y 0..16 -> rows 0..2; value 1/((2+1-0)*(8+1-6)) = 1/9 counted
    #        from the unclipped end (as the reference), 6 cells painted.
    boxes = torch.tensor([[10., 20., 30., 36.], [48., 0., 64., 16.]])
    fg, bg = build_fgd_masks([boxes], [(64, 64)], 8, 8, DT)
    expected = torch.zeros(8, 8, dtype=DT)
    expected[2:6, 1:5] = 1 / 16
    expected[0:3, 6:8] = 1 / 9
    torch.testing.assert_close(fg[0], expected, rtol=0, atol=0)
    n_bg = 64 - 16 - 6
    expected_bg = (expected == 0).to(DT) / n_bg
    torch.testing.assert_close(bg[0], expected_bg, rtol=0, atol=0)
    assert math.isclose(bg.sum().item(), 1.0)


def test_mask_overlap_keeps_max():
    # A 4x4-cell box (1/16) and a 2x2-cell box (1/4) inside it.
    boxes = torch.tensor([[0., 0., 24., 24.], [8., 8., 8., 8.]])
    fg, _ = build_fgd_masks([boxes], [(64, 64)], 8, 8, DT)
    # box 1: 0..3 both ways, 1/16; box 2 (zero-area at 1,1): 1 cell, 1/1.
    expected = torch.zeros(8, 8, dtype=DT)
    expected[0:4, 0:4] = 1 / 16
    expected[1, 1] = 1.0
    torch.testing.assert_close(fg[0], expected, rtol=0, atol=0)


def test_mask_all_foreground_no_nan():
    boxes = torch.tensor([[0., 0., 64., 64.]])
    fg, bg = build_fgd_masks([boxes], [(64, 64)], 8, 8, DT)
    assert (fg > 0).all() and torch.isfinite(fg).all()
    assert (bg == 0).all()


def random_boxes(n, img_h, img_w, g):
    """Mostly normal boxes plus border, outside, tiny, zero-area, inverted."""
    xy = torch.rand(n, 2, generator=g) * torch.tensor([img_w, img_h])
    wh = torch.rand(n, 2, generator=g) * torch.tensor([img_w, img_h]) * 0.6
    boxes = torch.cat([xy, xy + wh], dim=1)
    special = torch.tensor([
        [0., 0., img_w, img_h],  # whole image
        [img_w - 3., img_h - 5., img_w, img_h],  # bottom-right corner
        [-20., -10., 5., 7.],  # starts outside
        [img_w - 4., 2., img_w + 30., 9.],  # ends outside
        [img_w + 5., 3., img_w + 40., 9.],  # fully outside, right
        [-40., -30., -10., -5.],  # fully outside, top-left
        [10., 10., 10., 10.],  # zero area, on a grid line
        [13.3, 17.7, 13.3, 17.7],  # zero area, inside a cell
        [20., 20., 20.4, 20.6],  # tiny
        [30., 30., 25., 26.],  # inverted
    ])
    return torch.cat([boxes, special]).float()


@pytest.mark.parametrize('H,W', [(8, 8), (16, 12), (5, 7), (1, 1)])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_masks_match_reference_random(H, W, dtype):
    g = torch.Generator().manual_seed(H * 100 + W)
    shapes = [(100, 120), (64, 80), (128, 128)]
    counts = [25, 0, 7]
    boxes = [
        random_boxes(n, h, w, g)[:n + 10] if n else torch.zeros(0, 4)
        for n, (h, w) in zip(counts, shapes)
    ]
    ref_fg, ref_bg = reference_fgd_masks(boxes, shapes, H, W, dtype)
    fg, bg = build_fgd_masks(boxes, shapes, H, W, dtype)
    torch.testing.assert_close(fg, ref_fg, rtol=0, atol=0)
    torch.testing.assert_close(bg, ref_bg, rtol=0, atol=0)


def test_masks_chunked_equal_unchunked(monkeypatch):
    g = torch.Generator().manual_seed(3)
    boxes = [random_boxes(40, 96, 96, g), random_boxes(20, 96, 96, g)]
    shapes = [(96, 96), (96, 96)]
    full = build_fgd_masks(boxes, shapes, 12, 12, DT)
    monkeypatch.setattr(fgd_module, '_MASK_CHUNK_ELEMS', 2 * 12 * 12 * 3)
    chunked = build_fgd_masks(boxes, shapes, 12, 12, DT)
    torch.testing.assert_close(
        full, reference_fgd_masks(boxes, shapes, 12, 12, DT), rtol=0, atol=0)
    for a, b in zip(full, chunked):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


# ------------------------------------------------------- loss vs reference
def test_several_and_overlapping_boxes():
    loss, ref = make_pair()
    samples = make_samples([BOXES_A, BOXES_B], [IMG, IMG])
    check_against_reference(loss, ref, samples, 16, 16)


def test_one_image_without_boxes():
    loss, ref = make_pair()
    samples = make_samples([BOXES_A, [], BOXES_B], [IMG, IMG, IMG])
    check_against_reference(loss, ref, samples, 16, 16)


def test_batch_without_boxes():
    loss, ref = make_pair()
    samples = make_samples([[], []], [IMG, IMG])
    out = check_against_reference(loss, ref, samples, 16, 16)
    assert out > 0  # background, attention and global terms remain


def test_mixed_image_sizes_img_shape_vs_pad():
    pad = (128, 128)
    shapes = [(128, 96), (100, 128)]
    samples = make_samples([BOXES_A, [[10., 10., 60., 90.]]], shapes, batch_input_shape=pad)
    loss_img, ref = make_pair(box_scale='img_shape')
    out_img = check_against_reference(loss_img, ref, samples, 16, 16, scale_key='img_shape')
    loss_pad, ref = make_pair(box_scale='pad')
    out_pad = check_against_reference(
        loss_pad, ref, samples, 16, 16, scale_key='batch_input_shape')
    assert not torch.isclose(out_img, out_pad, rtol=1e-6)

    # 'pad' puts the boxes where they are on the padded grid.
    fg_pad, _ = reference_fgd_masks(boxes_of(samples), [pad, pad], 16, 16)
    # box [10, 10, 60, 90] in the 100x128 image -> rows 1..12, cols 1..8
    assert fg_pad[1].nonzero()[:, 0].unique().tolist() == list(range(1, 13))
    assert fg_pad[1].nonzero()[:, 1].unique().tolist() == list(range(1, 9))


def test_same_sizes_img_shape_equals_pad():
    samples = make_samples([BOXES_A, BOXES_B], [IMG, IMG], batch_input_shape=IMG)
    preds_S, preds_T = make_feats(2, 8, 8, 16, 16)
    outs = [make_pair(box_scale=s)[0](preds_S, preds_T, samples) for s in ('img_shape', 'pad')]
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


def test_normalize():
    loss, ref = make_pair(normalize=True)
    samples = make_samples([BOXES_A, BOXES_B], [IMG, IMG])
    check_against_reference(loss, ref, samples, 16, 16)


def test_channel_align():
    loss, ref = make_pair(student_channels=6, teacher_channels=10)
    assert loss.align is not None and ref.align is not None
    samples = make_samples([BOXES_A, BOXES_B], [IMG, IMG])
    check_against_reference(loss, ref, samples, 16, 16)


def test_channel_align_with_normalize_and_options():
    loss, ref = make_pair(
        student_channels=4,
        teacher_channels=6,
        normalize=True,
        temp=0.8,
        alpha_fgd=0.01,
        beta_fgd=0.002,
        gamma_fgd=0.003,
        lambda_fgd=1e-4,
        loss_weight=2.5)
    samples = make_samples([BOXES_B, []], [IMG, IMG])
    check_against_reference(loss, ref, samples, 16, 16)


def test_border_outside_tiny_zero_area_boxes():
    g = torch.Generator().manual_seed(7)
    boxes = random_boxes(5, 128, 128, g).tolist()
    samples = make_samples([boxes, boxes[5:]], [IMG, IMG])
    loss, ref = make_pair()
    check_against_reference(loss, ref, samples, 16, 16)
    # Only degenerate boxes in one image, small level.
    samples = make_samples([[[128., 128., 128., 128.], [-5., -5., -1., -1.]], [[0., 0., 0., 0.]]],
                           [IMG, IMG])
    check_against_reference(loss, ref, samples, 4, 4)


def test_whole_image_box():
    loss, ref = make_pair()
    samples = make_samples([[[0., 0., 128., 128.]], BOXES_A], [IMG, IMG])
    check_against_reference(loss, ref, samples, 16, 16)


def test_horizontal_boxes_input():
    samples = make_samples([BOXES_A, BOXES_B], [IMG, IMG])
    samples_hb = make_samples([BOXES_A, BOXES_B], [IMG, IMG], box_type=HorizontalBoxes)
    loss, _ = make_pair()
    preds_S, preds_T = make_feats(2, 8, 8, 16, 16)
    torch.testing.assert_close(
        loss(preds_S, preds_T, samples), loss(preds_S, preds_T, samples_hb), rtol=0, atol=0)


# ------------------------------------------------------- gradients, misc
def test_gradients_student_and_own_parameters_not_teacher():
    torch.manual_seed(0)
    loss = FGDLoss(6, 8)  # default init: last GcBlock convs are zero
    assert loss.channel_add_conv_s[-1].weight.abs().sum() == 0
    samples = make_samples([BOXES_A, BOXES_B], [IMG, IMG])
    preds_S = torch.randn(2, 6, 16, 16, requires_grad=True)
    teacher = nn.Conv2d(3, 8, 1)
    preds_T = teacher(torch.randn(2, 3, 16, 16))
    out = loss(preds_S, preds_T, samples)
    assert out.dim() == 0 and torch.isfinite(out)
    out.backward()
    assert preds_S.grad is not None and preds_S.grad.abs().sum() > 0
    assert teacher.weight.grad is None and teacher.bias.grad is None
    for name, p in loss.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    for name in ('align.weight', 'channel_add_conv_s.3.weight', 'channel_add_conv_t.3.weight',
                 'channel_add_conv_s.3.bias'):
        assert dict(loss.named_parameters())[name].grad.abs().sum() > 0, name

    # With the GcBlocks non-zero every parameter gets a non-zero gradient.
    loss.zero_grad()
    with torch.no_grad():
        for p in loss.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    loss(preds_S, preds_T, samples).backward()
    for name, p in loss.named_parameters():
        if name.startswith('conv_mask') and name.endswith('bias'):
            continue  # softmax is shift-invariant: this gradient is 0
        assert p.grad.abs().sum() > 0, name


def test_finite_in_float32_with_large_features():
    loss = FGDLoss(8, 8, normalize=False)
    samples = make_samples([BOXES_A, []], [IMG, IMG])
    preds_S = (torch.randn(2, 8, 16, 16) * 30).requires_grad_()
    preds_T = torch.randn(2, 8, 16, 16) * 30
    out = loss(preds_S, preds_T, samples)
    out.backward()
    assert torch.isfinite(out)
    assert torch.isfinite(preds_S.grad).all()


def test_registry_build():
    from mmrazor.registry import MODELS
    loss = MODELS.build(
        dict(type='FGDLoss', student_channels=4, teacher_channels=4, box_scale='pad'))
    assert isinstance(loss, FGDLoss) and loss.align is None


def test_invalid_arguments():
    with pytest.raises(ValueError, match="box_scale must be 'img_shape' or"):
        FGDLoss(4, 4, box_scale='padded')
    with pytest.raises(ValueError, match='temp must be > 0'):
        FGDLoss(4, 4, temp=0)
    loss = FGDLoss(256, 256)
    samples = make_samples([BOXES_A], [IMG])
    with pytest.raises(
            ValueError, match=r'expected 256 channels for the student.*'
            r'set student_channels=128'):
        loss(torch.randn(1, 128, 16, 16), torch.randn(1, 256, 16, 16), samples)
    with pytest.raises(ValueError, match='differ in batch or spatial size'):
        loss(torch.randn(1, 256, 16, 16), torch.randn(1, 256, 8, 8), samples)
    with pytest.raises(ValueError, match='data samples'):
        loss(torch.randn(2, 256, 16, 16), torch.randn(2, 256, 16, 16), samples)
    ds = DetDataSample(metainfo=dict(img_shape=IMG))
    ds.gt_instances = InstanceData(bboxes=torch.zeros(0, 4))
    with pytest.raises(KeyError, match='batch_input_shape'):
        FGDLoss(4, 4, box_scale='pad')(torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8), [ds])


def test_untrained_own_params_skip_only_what_adds_nothing():
    """train_own_params=False (Paddle): no gradient to the loss's modules, and the same loss
    as the full computation, whose zero-initialised context blocks add nothing; a block made
    non-zero (e.g. loaded from a checkpoint) is computed again."""
    torch.manual_seed(0)
    kw = dict(temp=0.5, alpha_fgd=1e-3, beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=5e-6)
    frozen = FGDLoss(8, 12, train_own_params=False, **kw)
    full = FGDLoss(8, 12, **kw)
    full.load_state_dict(frozen.state_dict())
    s, t = torch.randn(2, 8, 10, 12), torch.randn(2, 12, 10, 12)
    samples = make_data_samples(2, (80, 96))
    assert torch.allclose(frozen(s, t, samples), full(s, t, samples), rtol=1e-6)
    assert not any(p.requires_grad for p in frozen.parameters())
    with torch.no_grad():
        frozen.channel_add_conv_s[-1].bias.fill_(0.5)
        full.channel_add_conv_s[-1].bias.fill_(0.5)
    assert torch.allclose(frozen(s, t, samples), full(s, t, samples), rtol=1e-6)
