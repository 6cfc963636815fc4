"""Objectness-masked YOLOv3 distillation (Mehta & Ozturk 2018), as PaddleDetection runs it."""
import math
from typing import List, Optional, Sequence, Union

import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor

from ..ops import float32_forward

HeadMaps = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class YOLOv3DistillLoss(nn.Module):
    """Distillation of YOLOv3 head maps, from `Object detection at 200 Frames
    Per Second <https://arxiv.org/abs/1805.06361>`_ (Mehta & Ozturk, ECCV
    workshops 2018) as PaddleDetection 2.6's ``DistillYOLOv3Loss``
    (``ppdet/slim/distill_loss.py``).

    A level's raw map (N, A*(5+K), H, W) is read anchor-major, attributes
    ``x, y, w, h, obj, cls_1..K`` (mmdet's ``YOLOV3Head`` and Paddle's alike).
    With s/t the student/teacher logits, sigma the sigmoid and
    BCE(z, p) = -p log sigma(z) - (1-p) log(1 - sigma(z))::

        m     = sigma(t_obj)                                     # (N, A, H, W)
        box   = mean_{n,a,y,x} m * [BCE(s_x, sigma(t_x)) + BCE(s_y, sigma(t_y))
                                    + |s_w - t_w| + |s_h - t_h|]
        cls   = mean_{n,a,y,x,k} m * BCE(s_cls_k, sigma(t_cls_k))
        obj   = mean_{n,a,y,x} BCE(s_obj, 1[t_obj > 0])   # teacher prob > 0.5
        loss  = loss_weight * sum_levels (box + cls + obj)

    The teacher's objectness masks the box and class terms (the paper's
    "objectness scaled distillation"), so that the student copies the
    teacher's boxes and classes where the teacher sees an object, and learns
    from the teacher *where* objects are through the objectness term. The
    means run over every location and anchor, background included: a 608
    image has 3 * (19^2 + 38^2 + 76^2) = 22743 anchors for a handful of
    objects, so the masked box and class means are tiny (and so is the
    objectness mean, as most targets are an easy 0), hence Paddle's
    ``loss_weight`` of 1000
    (``configs/slim/distill/yolov3_mobilenet_v1_coco_distill.yml``). The
    teacher maps are detached here (Paddle runs its teacher under no_grad).
    Under mixed precision it computes in float32 (``float32_forward``): its
    means over thousands of cells and its BCE at saturated logits keep their
    digits there.

    Where Paddle and the paper differ (Paddle is the default):

    - Objectness target: Paddle binarises the teacher's objectness
      (``t_obj > 0``, a hard 0/1 target); the paper regresses the student's
      objectness onto the teacher's value itself. ``soft_objectness=True``
      uses sigma(t_obj) as the BCE target; ``objectness_thr`` moves the hard
      threshold (a probability; 0.5 is Paddle's ``t_obj > 0``).
    - The paper first suppresses the teacher's duplicate predictions over
      neighbouring cells (its "feature map NMS"); Paddle does not, nor does
      this loss.
    - The paper distils each output with the error function of its own
      (YOLOv2-based) detector loss; Paddle, and this loss, use those of its
      YOLOv3 loss: BCE on x, y, classes and objectness, L1 on w, h.

    What the strength against the student's own loss depends on, and the
    options that keep the seed's balance elsewhere (each default is Paddle's
    exact formula):

    - *Images per batch.* Paddle's YOLOv3 loss sums over each image's cells
      and averages over the images; mmdet's ``YOLOV3Head`` sums over the whole
      batch (its losses have ``reduction='sum'``). This loss is a mean over
      every cell of the batch, so against mmdet's detection loss it weighs
      1/N of what it weighs in Paddle at N images per GPU: 1/8 at the seed's
      8. ``image_reduction='sum'`` sums the per-image means instead (N times
      the mean), which keeps Paddle's ratio at any number of images.
    - *Classes.* ``cls`` is a mean over the K classes too. Where teacher and
      student disagree on a few classes (the GT's) its gradient falls as 1/K,
      while the detector's class loss (a sum over the classes) does not: at 7
      classes it weighs 80/7 times what it weighs on COCO.
      ``ref_num_classes=K_ref`` multiplies ``cls`` by K / K_ref, i.e. divides
      its sum over the classes by K_ref, the count the weight was tuned for.
    - *Image size.* The means run over the cells; the detection loss sums
      over them. Per cell the distillation weighs 1/M of an image's M cells,
      so at a smaller input every cell is distilled more strongly (at 256 px
      (608/256)^2 = 5.6 times more than at 608). This is Paddle's behaviour
      within its own multi-size training (320 to 608), and the default.
      ``ref_map_size=S`` divides each level's sum over its H x W cells by
      S x S instead (S the level's map side at the reference input, e.g.
      608 / 32 = 19 for the stride-32 level at 608): the loss times
      H W / S^2, the per-cell strength of the seed's 608 input at any size.
      The ``DistillBalanceHook`` shows the resulting gradient share.

    Args:
        num_classes (int, optional): K, classes of both heads. None (default): the
            student head's ``num_classes`` (``configure_from_student``, at build).
        num_anchors (int, optional): A, anchors per location and level. None (default):
            the student head's ``num_base_priors`` (3, YOLOv3's, for a loss used alone).
        loss_weight (float): Defaults to 1000.0, Paddle's weight.
        soft_objectness (bool): Objectness target sigma(t_obj) (the paper)
            instead of the hard 1[sigma(t_obj) > objectness_thr] (Paddle).
            Defaults to False.
        objectness_thr (float): Threshold of the hard target, a probability
            in (0, 1). Defaults to 0.5.
        image_reduction (str): ``'mean'`` (Paddle: the mean over every cell
            of the batch) or ``'sum'`` (the per-image means summed over the
            batch, as mmdet sums its YOLOv3 loss over the images: Paddle's
            balance at any images per GPU). Defaults to ``'mean'``.
        ref_num_classes (int, optional): The class count the weight was tuned
            for (80 for the seed's). Given, ``cls`` is multiplied by
            K / ref_num_classes. Defaults to None (Paddle's formula).
        ref_map_size (int | tuple[int, int], optional): This level's map size
            (H, W) at the input the weight was tuned for. Given, the loss is
            multiplied by H W / (H_ref W_ref), H x W the map's own size: the
            per-cell strength of the reference input. Defaults to None
            (Paddle's formula: a mean over the cells).
    """

    # its maps hold class logits: DetDistill refuses a teacher of other classes at build
    compares_classes = True

    def __init__(self,
                 num_classes: Optional[int] = None,
                 num_anchors: Optional[int] = None,
                 loss_weight: float = 1000.0,
                 soft_objectness: bool = False,
                 objectness_thr: float = 0.5,
                 image_reduction: str = 'mean',
                 ref_num_classes: Optional[int] = None,
                 ref_map_size: Optional[Union[int, Sequence[int]]] = None) -> None:
        super().__init__()
        for name, value in (('num_classes', num_classes), ('num_anchors', num_anchors)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f'YOLOv3DistillLoss: {name} must be a positive int, '
                                 f'got {value!r}')
        if not 0 < objectness_thr < 1:
            raise ValueError('YOLOv3DistillLoss: objectness_thr is a probability in (0, 1), '
                             f'got {objectness_thr}')
        if image_reduction not in ('mean', 'sum'):
            raise ValueError("YOLOv3DistillLoss: image_reduction must be 'mean' (Paddle) or "
                             f"'sum' (mmdet's batch sum), got {image_reduction!r}")
        if ref_num_classes is not None and (not isinstance(ref_num_classes, int)
                                            or ref_num_classes < 1):
            raise ValueError('YOLOv3DistillLoss: ref_num_classes must be a positive int, '
                             f'got {ref_num_classes!r}')
        if isinstance(ref_map_size, int):
            ref_map_size = (ref_map_size, ref_map_size)
        if ref_map_size is not None and (len(ref_map_size) != 2 or not all(
                isinstance(v, int) and v > 0 for v in ref_map_size)):
            raise ValueError('YOLOv3DistillLoss: ref_map_size is the level\'s map size at the '
                             'reference input, a positive int or (H, W) (e.g. 19 for stride '
                             f'32 at 608), got {ref_map_size!r}')
        self.ref_map_size = None if ref_map_size is None else tuple(ref_map_size)
        self.image_reduction = image_reduction
        self.ref_num_classes = ref_num_classes
        self.num_classes = num_classes
        # outside DetDistill (no student to read) YOLOv3's 3 anchors a level
        self.num_anchors = num_anchors or 3
        self._anchors_set = num_anchors is not None
        self.loss_weight = loss_weight
        self.soft_objectness = soft_objectness
        self.objectness_thr = objectness_thr
        # sigma(t) > p  <=>  t > log(p / (1 - p)); on logits, 0.5 gives
        # Paddle's exact ``t_obj > 0`` (sigma rounds to 0.5 for tiny t).
        self._obj_logit_thr = math.log(objectness_thr / (1 - objectness_thr))

    def configure_from_student(self, student) -> None:
        """The class and anchor counts the config leaves unset (None), from the student's
        head (``num_classes``, ``num_base_priors``): the class count is set once, in the
        student and teacher configs, as in mmdet."""
        head = getattr(student, 'bbox_head', None)
        if self.num_classes is None:
            self.num_classes = getattr(head, 'num_classes', None)
        if not self._anchors_set:
            self.num_anchors = getattr(head, 'num_base_priors', None)
        if self.num_classes is None or self.num_anchors is None:
            raise ValueError(
                "YOLOv3DistillLoss: the student's head "
                f'({type(head).__name__}) gives no num_classes / num_base_priors; set '
                'num_classes and num_anchors in this loss config')

    @property
    def num_attrib(self) -> int:
        return 5 + self.num_classes

    def check_inputs(self, preds_S: HeadMaps, preds_T: HeadMaps) -> None:
        """Raise ValueError unless student and teacher are the same number of
        (N, num_anchors * (5 + num_classes), H, W) maps of equal shapes."""
        if self.num_classes is None:
            raise ValueError('YOLOv3DistillLoss: num_classes is unset (it is read from the '
                             "student's head inside DetDistill); set it to use the loss alone")
        levels_S = self._as_levels(preds_S, 'student')
        levels_T = self._as_levels(preds_T, 'teacher')
        if len(levels_S) != len(levels_T):
            raise ValueError(f'YOLOv3DistillLoss: the student gives {len(levels_S)} head '
                             f'levels and the teacher {len(levels_T)}; record the same '
                             'levels of both heads')
        expected = self.num_anchors * self.num_attrib
        for i, (s, t) in enumerate(zip(levels_S, levels_T)):
            for who, pred in (('student', s), ('teacher', t)):
                if pred.dim() != 4:
                    raise ValueError(f'YOLOv3DistillLoss expects (N, C, H, W) head maps, got '
                                     f'{tuple(pred.shape)} for the {who} at level {i}')
                channels = pred.size(1)
                if channels != expected:
                    hint = ''
                    if channels % self.num_anchors == 0 and channels // self.num_anchors > 5:
                        hint = (f' (num_classes={channels // self.num_anchors - 5} would '
                                f'match with num_anchors={self.num_anchors})')
                    raise ValueError(
                        f'YOLOv3DistillLoss expected {expected} channels = num_anchors * '
                        f'(5 + num_classes) = {self.num_anchors} * (5 + {self.num_classes}) '
                        f'but the {who} head map of level {i} has {channels} (shape '
                        f'{tuple(pred.shape)}); set num_classes and num_anchors in this '
                        f'loss config to those of the heads{hint}')
            if s.shape != t.shape:
                raise ValueError(
                    f'YOLOv3DistillLoss: student and teacher head maps differ at level {i}: '
                    f'{tuple(s.shape)} vs {tuple(t.shape)}; the loss compares them cell by '
                    'cell, so both heads need the same num_classes, anchors per level and '
                    'strides, and both models the same input batch')

    @float32_forward
    def forward(self, preds_S: HeadMaps, preds_T: HeadMaps) -> Tensor:
        """Loss of the student's head maps against the teacher's.

        Args:
            preds_S (Tensor | Sequence[Tensor]): the student's raw head maps,
                one (N, A*(5+K), H, W) tensor or one per level.
            preds_T (Tensor | Sequence[Tensor]): the teacher's, same shapes.

        Returns:
            Tensor: the scalar loss, summed over the levels.
        """
        self.check_inputs(preds_S, preds_T)
        levels_S = self._as_levels(preds_S, 'student')
        levels_T = self._as_levels(preds_T, 'teacher')
        loss = sum(self._level_loss(s, t.detach()) for s, t in zip(levels_S, levels_T))
        return self.loss_weight * loss

    def _level_loss(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        N, _, H, W = preds_S.shape
        # (N, A, 5+K, H, W): attribute j of anchor a is channel a*(5+K) + j.
        s = preds_S.reshape(N, self.num_anchors, self.num_attrib, H, W)
        t = preds_T.reshape(N, self.num_anchors, self.num_attrib, H, W)
        obj_weight = t[:, :, 4].sigmoid()

        box = (
            F.binary_cross_entropy_with_logits(
                s[:, :, 0:2], t[:, :, 0:2].sigmoid(), reduction='none').sum(dim=2) +
            (s[:, :, 2:4] - t[:, :, 2:4]).abs().sum(dim=2))
        box_loss = (box * obj_weight).mean()

        cls = F.binary_cross_entropy_with_logits(
            s[:, :, 5:], t[:, :, 5:].sigmoid(), reduction='none')
        cls_loss = (cls * obj_weight[:, :, None]).mean()
        if self.ref_num_classes is not None:
            cls_loss = cls_loss * (self.num_classes / self.ref_num_classes)

        t_obj = t[:, :, 4]
        if self.soft_objectness:
            obj_target = t_obj.sigmoid()
        else:
            obj_target = (t_obj > self._obj_logit_thr).to(s.dtype)
        obj_loss = F.binary_cross_entropy_with_logits(s[:, :, 4], obj_target)
        loss = box_loss + cls_loss + obj_loss
        if self.ref_map_size is not None:
            loss = loss * (H * W / (self.ref_map_size[0] * self.ref_map_size[1]))
        return loss * N if self.image_reduction == 'sum' else loss

    @staticmethod
    def _as_levels(preds: HeadMaps, who: str) -> List[Tensor]:
        if isinstance(preds, Tensor):
            return [preds]
        if isinstance(preds, (list, tuple)) and preds and \
                all(isinstance(p, Tensor) for p in preds):
            return list(preds)
        if isinstance(preds, (list, tuple)) and len(preds) == 1 and \
                isinstance(preds[0], (list, tuple)):
            raise ValueError(f'YOLOv3DistillLoss: the {who} maps are nested one level too '
                             "deep (mmdet's YOLOV3Head.forward returns a 1-tuple of the "
                             "level tuple); pick it with data_idx=0 in the loss's "
                             'input mapping')
        raise ValueError(f'YOLOv3DistillLoss expects the {who} head maps as a tensor or a '
                         f'non-empty list/tuple of tensors, got {type(preds).__name__}')
