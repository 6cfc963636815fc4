"""PP-YOLOE: mmdet's single-stage detector with the PP-YOLOE parts."""
from mmdet.models.detectors.single_stage import SingleStageDetector
from mmdet.registry import MODELS


@MODELS.register_module()
class PPYOLOE(SingleStageDetector):
    """`PP-YOLOE <https://arxiv.org/abs/2203.16250>`_ / PP-YOLOE+: a
    :class:`~detkd.models.CSPResNet` backbone, a
    :class:`~detkd.models.CustomCSPPAN` neck and a
    :class:`~detkd.models.PPYOLOEHead`, trained and run as any mmdet
    single-stage detector (Paddle's ``YOLOv3`` architecture class with these
    parts)."""
