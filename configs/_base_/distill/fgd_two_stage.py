# FGD as the authors wire it for two-stage detectors (github.com/yzd-v/FGD,
# configs/distillers/fgd/fgd_*rcnn*.py): configs/_base_/distill/fgd.py with the weights the
# authors give Faster and Mask R-CNN (T 0.5, alpha 5e-5, beta 2.5e-5, gamma 5e-5, lambda 5e-7)
# on the 4 levels they hook, neck.fpn_convs.0-3 (P2-P5: the two-stage FPN's P6 is a max-pool
# of P5, not a conv), and, when the teacher is the same architecture, every module but the
# backbone inherited (the authors copy all of the teacher's non-backbone weights: neck, RPN
# and RoI heads). A pair config with another teacher sets inherit_teacher=().
_base_ = './fgd.py'
__levels = range(4)
__weights = dict(temp=0.5, alpha_fgd=5e-5, beta_fgd=2.5e-5, gamma_fgd=5e-5, lambda_fgd=5e-7)
distill = dict(
    inherit_teacher=('neck', 'rpn_head', 'roi_head'),
    distiller=dict(
        distill_losses={
            '_delete_': True,  # 4 levels, not fgd.py's 5
            **{
                f'loss_fgd_fpn{i}':
                dict(type='FGDLoss', student_channels=256, teacher_channels=256, **__weights)
                for i in __levels
            }
        },
        loss_forward_mappings={
            '_delete_': True,
            **{
                f'loss_fgd_fpn{i}':
                dict(
                    preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                    preds_T=dict(from_student=False, recorder='fpn', data_idx=i),
                    data_samples=dict(from_student=True, recorder='gt', data_idx=1))
                for i in __levels
            }
        }))
