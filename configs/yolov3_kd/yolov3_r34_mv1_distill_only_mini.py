# Ablation of configs/yolov3_kd/yolov3_r34_mv1_distill_mini.py: distillation only. The student's
# own detection losses are left out (calculate_student_loss=False): it learns from the
# teacher's head maps through YOLOv3DistillLoss alone, from scratch, on the same images and
# schedule. Whatever it detects afterwards, the loss transferred.
_base_ = './yolov3_r34_mv1_distill_mini.py'
model = dict(calculate_student_loss=False)
