# CrossKD on the mini dataset: GFL R34vd teacher -> GFL R18vd student (LD's mini pair: the same
# teacher, student, schedule and seeds), the wiring of crosskd_gfl_r101_gfl_r50_1x_coco.py. The
# mini heads have 2 convs where mmdet's have 4: the cross point is after the first, so that, as
# in the 4-conv recipe, the teacher's last conv and predictors run on the student's features.
#   python tools/train.py configs/gfl/gfl_r34vd_mini.py              # the teacher, once
#   python tools/train.py configs/crosskd/crosskd_gfl_r34vd_r18vd_mini.py
_base_ = ['../gfl/gfl_r18vd_mini.py', '../_base_/distill/crosskd_gfl.py']
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='detkd::gfl/gfl_r34vd_mini.py',
    teacher_ckpt='work_dirs/gfl_r34vd_mini/epoch_8.pth',
    distiller=dict(
        student_recorders=dict(
            cross_cls=dict(
                source='bbox_head.cls_convs.0.gn',
                teacher_layers=('relu', 'bbox_head.cls_convs.1', 'bbox_head.gfl_cls')),
            cross_reg=dict(
                source='bbox_head.reg_convs.0.gn',
                teacher_layers=('relu', 'bbox_head.reg_convs.1', 'bbox_head.gfl_reg',
                                'bbox_head.scales.{level}'))),
        teacher_recorders=dict(
            cls_hold=dict(source='bbox_head.cls_convs.0.gn'),
            reg_hold=dict(source='bbox_head.reg_convs.0.gn'))))
