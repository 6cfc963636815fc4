# FGD, the authors' YOLOX pair (github.com/yzd-v/FGD, branch yolox,
# configs/distillers/fgd/fgd_yoloxl_distill_yoloxm_coco.py): teacher YOLOX-l (49.4 box AP, mmdet
# zoo, the authors' checkpoint), student YOLOX-m (mmdet's recipe: 300 epochs, 8 images per
# GPU; no zoo checkpoint): 45.9 -> 46.6 box AP in the authors' README. FGD on the neck's three
# outputs (the authors hook neck.out_convs.0-2, which are those outputs), the student's 192
# channels aligned to the teacher's 256 by FGD's 1x1 conv, T 0.5, alpha 2e-3, beta 1e-3,
# gamma 1e-3, lambda 1e-5; no inheriting (other widths), no clipping (as the authors).
# What the authors' YOLOX branch adds, and how it is here:
# - YOLOX trains at random sizes (480-800, BatchSyncRandomResize); the authors rescale the GT
#   boxes to the resized input and divide the loss by the resize factors. mmdet 3.3 resizes the
#   boxes and the image shapes itself; the factor is FGDLoss(ref_input_size=(640, 640)).
# - The mode switch at epoch 285 (YOLOXModeSwitchHook) reaches the student as model.detector.
# - The authors leave the teacher's BatchNorm in train mode (batch statistics); here it stays
#   in eval mode (running statistics); model.teacher_norm_eval=False is theirs.
#   bash tools/dist_train.sh configs/fgd/fgd_yolox_l_yolox_m_300e_coco.py 8
_base_ = ['mmdet::yolox/yolox_m_8xb8-300e_coco.py', '../_base_/distill/fgd.py']
custom_imports = dict(imports=['detkd'], allow_failed_imports=False)
__levels = range(3)
model = _base_.pop('distill')
model.update(
    architecture=_base_.model,
    teacher='mmdet::yolox/yolox_l_8xb8-300e_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/yolox/'
    'yolox_l_8x8_300e_coco/yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth',
    inherit_teacher=())
# three levels, not fgd.py's five
model.distiller.distill_losses = {
    f'loss_fgd_fpn{i}':
    dict(
        type='FGDLoss',
        student_channels=192,
        teacher_channels=256,
        temp=0.5,
        alpha_fgd=0.002,
        beta_fgd=0.001,
        gamma_fgd=0.001,
        lambda_fgd=0.00001,
        ref_input_size=(640, 640))
    for i in __levels
}
model.distiller.loss_forward_mappings = {
    f'loss_fgd_fpn{i}': model.distiller.loss_forward_mappings[f'loss_fgd_fpn{i}']
    for i in __levels
}
