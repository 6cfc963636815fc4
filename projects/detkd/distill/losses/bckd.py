"""BCKD: Bridging Cross-task Protocol Inconsistency for Distillation in Dense Object Detection
(Yang et al., ICCV 2023).

On the student's own predictions (no cross-head), with ``sigma`` the sigmoid, ``lw`` the label
weights and ``Z`` the positive count of the student's assignment (``crosskd.py``'s kernels)::

    cls  L = 1 * sum_{a,k} lw_a BCE(s_ak, sigma(t_ak)) |sigma(s_ak) - sigma(t_ak)| / Z
    loc  L = 4 * sum_a g_a (1 - GIoU(dec(s_a), dec(t_a))) / Z
    with g_a = lw_a max_k |sigma(t_ak) - sigma(s_ak)|

the classification as K binary problems against the teacher's sigmoid scores (the detector's
own protocol, where a softmax KD is not), the localisation as an IoU between the student's and
the teacher's decoded boxes (GFL: the integral of the edge distributions) at every location,
weighted by the largest class-score gap there (detached). As the authors' code
(github.com/TinyTigerPan/BCKD, mmdet 2.28: ``NovelKDLoss``, ``LDHead``'s ``loss_kd`` and
``loss_score_kd``): beta 1, the focal factor not detached, both terms only on the FPN levels
with a positive in the batch (``positive_levels_only=False`` computes them everywhere).
"""
from mmrazor.registry import MODELS

from .crosskd import BoxKDLoss, QualityFocalKDLoss


@MODELS.register_module()
class BCKDClsLoss(QualityFocalKDLoss):
    """BCKD's binary classification KD: ``QualityFocalKDLoss`` with the authors' settings
    (weight 1, beta 1, only on the levels with a positive)."""

    def __init__(self,
                 loss_weight: float = 1.0,
                 beta: float = 1.0,
                 positive_levels_only: bool = True,
                 **kwargs):
        super().__init__(loss_weight, beta, positive_levels_only=positive_levels_only, **kwargs)


@MODELS.register_module()
class BCKDLocLoss(BoxKDLoss):
    """BCKD's IoU localisation KD: ``BoxKDLoss`` with the authors' settings (weight 4, GIoU
    on GFL's decoded distributions, weighted by the class-score gap, only on the levels with a
    positive)."""

    def __init__(self,
                 loss_weight: float = 4.0,
                 decode: str = 'distribution',
                 weighting: str = 'score_gap',
                 positive_levels_only: bool = True,
                 **kwargs):
        super().__init__(
            loss_weight,
            decode=decode,
            weighting=weighting,
            positive_levels_only=positive_levels_only,
            **kwargs)
