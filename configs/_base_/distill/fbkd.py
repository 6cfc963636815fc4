# FBKD, feature-based KD with attention and non-local modules (Zhang & Ma, ICLR 2021), wired as
# MMRazor 1.0's configs/distill/mmdet/fbkd/fbkd_fpn_faster-rcnn_r101_faster-rcnn_r50_1x_coco.py:
# on the first 4 FPN convs (neck.fpn_convs.0-3.conv), MMRazor's FBKD connectors (a non-local
# block after spatial and channel attention, on both models; sub-sampled by max-pooling 8 and 4
# on the two largest levels, reduction 4 there, 2 elsewhere) and FBKDLoss (attention masks,
# their L2, the attention transfer and the non-local features; MMRazor's default weights).
# MMRazor runs the teacher's whole detection loss (SingleTeacherDistill) to record its FPN
# convs; here it runs backbone and neck only, which records the same maps. How a pair config
# uses it: see det_distill.py.
_base_ = './det_distill.py'
__levels = range(4)
__convs = {
    f'neck_s{i}': dict(type='ModuleOutputs', source=f'neck.fpn_convs.{i}.conv')
    for i in __levels
}
__sub = {0: dict(reduction=4, maxpool_stride=8), 1: dict(reduction=4, maxpool_stride=4)}
distill = dict(
    distiller=dict(
        student_recorders=__convs,
        teacher_recorders=__convs,
        distill_losses={f'loss_s{i}': dict(type='FBKDLoss')
                        for i in __levels},
        connectors={
            f'loss_s{i}_{who}feat':
            dict(
                type=f'FBKD{kind}Connector',
                in_channels=256,
                mode='dot_product',
                sub_sample=True,
                **__sub.get(i, {}))
            for i in __levels
            for who, kind in (('s', 'Student'), ('t', 'Teacher'))
        },
        loss_forward_mappings={
            f'loss_s{i}':
            dict(
                s_input=dict(
                    from_student=True, recorder=f'neck_s{i}', connector=f'loss_s{i}_sfeat'),
                t_input=dict(
                    from_student=False, recorder=f'neck_s{i}', connector=f'loss_s{i}_tfeat'))
            for i in __levels
        }))
find_unused_parameters = True
