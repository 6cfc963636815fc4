# YOLOv3 objectness-masked KD (Mehta & Ozturk 2018), wired as the seed's YOLOv3 recipe
# (PaddleDetection yolov3_mobilenet_v1_coco_distill.yml, DistillYOLOv3Loss, weight 1000):
# YOLOv3DistillLoss on each level's raw head map, the output of bbox_head.convs_pred.{0,1,2}
# ((N, 3 * (5 + K), H, W) at strides 32, 16, 8), recorded on both models; the per-level losses
# add up to Paddle's sum over the levels. The teacher runs its head's forward only (no loss, no
# assignment); no connector (the maps have the same layout whatever the widths). The class
# and anchor counts are the student head's (num_classes, num_base_priors), read at build: a pair
# on another dataset sets them once, in its student and teacher configs. How a pair config uses
# it: see det_distill.py.
# The balance the seed tuned, kept at any images per GPU and class count: mmdet's YOLOv3 loss
# sums over the images where Paddle's averages, so the distillation sums its per-image means
# (image_reduction='sum'; Paddle's mean would be 1/8 as strong at 8 images per GPU), and its
# class term, a mean over the classes, is scaled to the seed's 80 (ref_num_classes=80, a no-op
# on COCO). See YOLOv3DistillLoss's docstring.
_base_ = './det_distill.py'
__levels = range(3)
__recorders = {
    f'pred{i}': dict(type='ModuleOutputs', source=f'bbox_head.convs_pred.{i}')
    for i in __levels
}
distill = dict(
    teacher_forward='head',
    distiller=dict(
        student_recorders=__recorders,
        teacher_recorders=__recorders,
        distill_losses={
            f'loss_yolov3_kd{i}':
            dict(
                type='YOLOv3DistillLoss',
                loss_weight=1000.0,
                image_reduction='sum',
                ref_num_classes=80)
            for i in __levels
        },
        loss_forward_mappings={
            f'loss_yolov3_kd{i}':
            dict(
                preds_S=dict(from_student=True, recorder=f'pred{i}'),
                preds_T=dict(from_student=False, recorder=f'pred{i}'))
            for i in __levels
        }))
