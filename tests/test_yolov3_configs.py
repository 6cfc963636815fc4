"""The YOLOv3 teacher and student configs: they load, build through mmdet's registry, carry
Paddle's recipe (COCO) and give matching head maps (mini)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import detkd  # noqa: F401

COCO = {
    'teacher': 'configs/yolov3/yolov3_r34_608_270e_coco.py',
    'student': 'configs/yolov3/yolov3_mv1_608_270e_coco.py'
}
MINI = {
    'teacher': 'configs/yolov3/yolov3_r34_mini.py',
    'student': 'configs/yolov3/yolov3_mv1_mini.py'
}
NUM_CLASSES = {'coco': 80, 'mini': 7}


def build(path):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(path)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('path', sorted(COCO.values()) + sorted(MINI.values()))
def test_config_loads_and_is_trainable(path):
    cfg = Config.fromfile(path)
    for key in ('model', 'train_dataloader', 'train_cfg', 'val_dataloader', 'val_evaluator',
                'optim_wrapper', 'param_scheduler', 'default_hooks'):
        assert key in cfg, f'{path} lacks {key}'
    assert 'detkd' in cfg.custom_imports.imports
    m = cfg.model
    assert (m.type, m.neck.type, m.bbox_head.type) == ('YOLOV3', 'YOLOV3Neck', 'YOLOV3Head')
    assert m.bbox_head.featmap_strides == [32, 16, 8]


@pytest.mark.parametrize('role', ['teacher', 'student'])
def test_coco_recipe_is_paddles(role):
    cfg = Config.fromfile(COCO[role])
    assert cfg.train_cfg.max_epochs == 270
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.end) == ('LinearLR', False, 4000)
    assert (steps.type, steps.milestones, steps.gamma) == ('MultiStepLR', [216, 243], 0.1)
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0005)
    paramwise = cfg.optim_wrapper.paramwise_cfg
    assert paramwise.norm_decay_mult == 0 and paramwise.bias_decay_mult == 0
    # MobileNetV1's convs have no L2 decay in Paddle (conv_decay 0.), ResNet's have
    assert ('custom_keys' in paramwise) == (role == 'student')
    assert cfg.train_dataloader.batch_size == 8 and cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.train_dataloader.drop_last
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    order = ['CachedMixUp', 'PhotoMetricDistortion', 'Expand', 'MinIoURandomCrop', 'RandomFlip']
    assert [pipeline.index(t) for t in order] == sorted(pipeline.index(t) for t in order)
    switch = [h for h in cfg.custom_hooks if h.type == 'PipelineSwitchHook']
    assert switch and switch[0].switch_epoch == 250
    assert 'CachedMixUp' not in [t.type for t in switch[0].switch_pipeline]
    resize = cfg.model.data_preprocessor.batch_augments[0]
    assert resize.type == 'BatchSyncRandomResize' and resize.random_size_range == (320, 608)
    assert resize.size_divisor == 32 and resize.interval == 1
    head = cfg.model.bbox_head
    assert head.anchor_generator.base_sizes == [[(116, 90), (156, 198), (373, 326)],
                                                [(30, 61), (62, 45), (59, 119)],
                                                [(10, 13), (16, 30), (33, 23)]]
    assert head.num_classes == 80
    assert head.get('one_hot_smoother', 0) == 0  # Paddle's label_smooth: false


def test_coco_models_are_paddles_layout():
    _, teacher = build(COCO['teacher'])
    _, student = build(COCO['student'])
    assert teacher.backbone.depth == 34 and teacher.backbone.out_indices == (1, 2, 3)
    assert type(student.backbone).__name__ == 'MobileNetV1'
    assert student.backbone.out_channels == [256, 512, 1024]
    for model, backbone_out in ((teacher, [512, 256, 128]), (student, [1024, 512, 256])):
        assert model.neck.in_channels == backbone_out
        assert model.neck.out_channels == [512, 256, 128]
        assert list(model.bbox_head.out_channels) == [1024, 512, 256]
    model_cfg = Config.fromfile(COCO['student']).model
    assert model_cfg.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='checkpoints/mobilenet_v1_paddle_imagenet.pth')
    # Paddle's ImageNet ResNet34, converted: it fills every layer of the Paddle-layout ResNet34
    assert Config.fromfile(COCO['teacher']).model.backbone.init_cfg.checkpoint == \
        'checkpoints/resnet34_paddle_imagenet.pth'
    with torch.no_grad():
        for model in (teacher.eval(), student.eval()):
            (maps, ) = model._forward(torch.zeros(1, 3, 64, 64))
            assert [tuple(m.shape) for m in maps] == [(1, 255, 2, 2), (1, 255, 4, 4),
                                                      (1, 255, 8, 8)]


@pytest.fixture(scope='module')
def mini_maps():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 256, 256)
    out = {}
    for role, path in MINI.items():
        cfg, model = build(path)
        assert cfg.model.bbox_head.num_classes == NUM_CLASSES['mini']
        model.eval()
        with torch.no_grad():
            (out[role], ) = model._forward(x)
    return out


@pytest.mark.parametrize('role', ['teacher', 'student'])
def test_mini_head_maps(mini_maps, role):
    assert [tuple(m.shape) for m in mini_maps[role]] == [(2, 3 * (5 + 7), 256 // s, 256 // s)
                                                         for s in (32, 16, 8)]


def test_mini_teacher_and_student_maps_feed_the_distillation_loss(mini_maps):
    from mmrazor.registry import MODELS
    loss = MODELS.build(
        dict(type='YOLOv3DistillLoss', _scope_='mmrazor', num_classes=NUM_CLASSES['mini']))
    value = loss(list(mini_maps['student']), list(mini_maps['teacher']))
    assert torch.isfinite(value) and value > 0


def test_mini_epochs_and_teacher_is_bigger():
    t_cfg, teacher = build(MINI['teacher'])
    s_cfg, student = build(MINI['student'])
    # the teacher trains twice as long, so that its objectness fires on the objects
    assert (t_cfg.train_cfg.max_epochs, s_cfg.train_cfg.max_epochs) == (24, 12)
    assert teacher.backbone.depth == 34 and type(student.backbone).__name__ == 'MobileNetV1'
    n_params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n_params(teacher) > 5 * n_params(student)
