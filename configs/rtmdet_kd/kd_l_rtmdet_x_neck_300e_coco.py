# RTMDet-x -> RTMDet-l, OpenMMLab's RTMDet distillation (mmyolo
# configs/rtmdet/distillation/kd_l_rtmdet_x_neck_300e_coco.py) on mmdet 3.3's own RTMDet:
# the student is mmdet's rtmdet_l_8xb32-300e_coco.py, the teacher mmdet's RTMDet-x from its
# model zoo (52.6 box AP there). Published on mmyolo's RTMDet: 51.4 -> 52.3 box AP,
# teacher 52.8. The recipe (configs/_base_/distill/rtmdet_kd.py): CWD on the normalised raw
# outputs of the neck's three output convs, the student's 256 channels mapped to the teacher's
# 320; distillation for the first 280 epochs (with mosaic and mixup), then the student alone for
# the last 20 without them (StopDistillHook, at mmdet's own PipelineSwitchHook epoch).
#   bash tools/dist_train.sh configs/rtmdet_kd/kd_l_rtmdet_x_neck_300e_coco.py 8
_base_ = ['mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py', '../_base_/distill/rtmdet_kd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::rtmdet/rtmdet_x_8xb32-300e_coco.py',
    distiller=dict(
        connectors={
            **{
                f'fpn{i}_s': dict(in_channel=256, out_channel=320)
                for i in range(3)
            },
            **{
                f'fpn{i}_t': dict(in_channels=320)
                for i in range(3)
            }
        }),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v3.0/rtmdet/'
    'rtmdet_x_8xb32-300e_coco/rtmdet_x_8xb32-300e_coco_20220715_230555-cc79b9ae.pth')
# the student's hooks (EMA, the pipeline switch at 280) and the end of the distillation there
custom_hooks = _base_.custom_hooks + [dict(type='mmrazor.StopDistillHook', stop_epoch=280)]
