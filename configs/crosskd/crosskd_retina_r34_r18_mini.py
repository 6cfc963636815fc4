# CrossKD on the mini dataset: RetinaNet R34 teacher -> RetinaNet R18 student (the pair of the
# table to choose by: the same teacher, student, schedule and seeds as FGD, CWD, PKD, MGD and
# FBKD), the wiring of crosskd_retina_r101_retina_r50_2x_coco.py. The mini heads have 2 convs
# with GroupNorm where mmdet's have 4 without: the cross point is after the first conv's norm
# (before its ReLU), so that the teacher's last conv and predictors run on the student's
# features, as in the 4-conv recipe.
#   python tools/train.py configs/retinanet/retinanet_r34_mini.py     # the teacher, once
#   python tools/train.py configs/crosskd/crosskd_retina_r34_r18_mini.py
_base_ = ['../retinanet/retinanet_r18_mini.py', '../_base_/distill/crosskd_retina.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::retinanet/retinanet_r34_mini.py',
    teacher_ckpt='work_dirs/retinanet_r34_mini/epoch_8.pth',
    distiller=dict(
        student_recorders=dict(
            cross_cls=dict(
                source='bbox_head.cls_convs.0.gn',
                teacher_layers=('relu', 'bbox_head.cls_convs.1', 'bbox_head.retina_cls')),
            cross_reg=dict(
                source='bbox_head.reg_convs.0.gn',
                teacher_layers=('relu', 'bbox_head.reg_convs.1', 'bbox_head.retina_reg'))),
        teacher_recorders=dict(
            cls_hold=dict(source='bbox_head.cls_convs.0.gn'),
            reg_hold=dict(source='bbox_head.reg_convs.0.gn'))))
