# RTMDet-s -> RTMDet-tiny, OpenMMLab's RTMDet distillation (mmyolo
# configs/rtmdet/distillation/kd_tiny_rtmdet_s_neck_300e_coco.py) on mmdet 3.3's own RTMDet:
# the student is mmdet's rtmdet_tiny_8xb32-300e_coco.py, the teacher mmdet's RTMDet-s from its
# model zoo (44.5 box AP there). Published on mmyolo's RTMDet: 41.0 -> 41.8 box AP,
# teacher 44.6. The recipe (configs/_base_/distill/rtmdet_kd.py): CWD on the normalised raw
# outputs of the neck's three output convs, the student's 96 channels mapped to the teacher's
# 128; distillation for the first 280 epochs (with mosaic and mixup), then the student alone for
# the last 20 without them (StopDistillHook, at mmdet's own PipelineSwitchHook epoch).
#   bash tools/dist_train.sh configs/rtmdet_kd/kd_tiny_rtmdet_s_neck_300e_coco.py 8
_base_ = ['mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', '../_base_/distill/rtmdet_kd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v3.0/rtmdet/'
    'rtmdet_s_8xb32-300e_coco/rtmdet_s_8xb32-300e_coco_20220905_161602-387a891e.pth')
# the student's hooks (EMA, the pipeline switch at 280) and the end of the distillation there
custom_hooks = _base_.custom_hooks + [dict(type='mmrazor.StopDistillHook', stop_epoch=280)]
