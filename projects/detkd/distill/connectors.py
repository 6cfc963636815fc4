"""Connectors: what MMRazor's connectors lack for the seed's feature distillation.

A connector transforms one recorded feature before a loss sees it (MMRazor's
``ConfigurableDistiller``: ``connectors=dict(name=cfg)``, and ``connector='name'`` in a
``loss_forward_mappings`` entry), so the losses themselves stay MMRazor's.
"""
from typing import Optional

from mmrazor.models.architectures.connectors import ConvModuleConnector
from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from mmrazor.registry import MODELS
from torch import Tensor

from .ops import feature_norm


@MODELS.register_module()
class AlignNormConnector(BaseConnector):
    """A 1x1 align conv when the channels differ, then per-channel standardisation: what
    PaddleDetection's ``CWDFeatureLoss`` does to its inputs before the channel-wise
    divergence (``align`` on the student, ``normalize`` on both), as a connector in front
    of MMRazor's ``ChannelWiseDivergence``.

    Put one on the student side (with the channels, to align) and one on the teacher side
    (``normalize`` only; it has no parameters, so one instance can serve every level):

    .. code-block:: python

        connectors=dict(
            s_align0=dict(type='AlignNormConnector', in_channel=128, out_channel=256),
            t_norm=dict(type='AlignNormConnector')),
        loss_forward_mappings=dict(loss_cwd0=dict(
            preds_S=dict(from_student=True, recorder='fpn', data_idx=0, connector='s_align0'),
            preds_T=dict(from_student=False, recorder='fpn', data_idx=0, connector='t_norm')))

    Args:
        in_channel (int, optional): Channels of the input (the student's feature).
        out_channel (int, optional): Channels to align to (the teacher's). A conv
            (MMRazor's ``ConvModuleConnector``: 1x1 conv with bias, no norm, no activation)
            is built only when both are given and differ.
        normalize (bool): Standardise each channel over N, H, W (:func:`feature_norm`) after
            the align conv. Defaults to True.
        init_cfg (dict, optional): Initialisation of the align conv.
    """

    def __init__(self,
                 in_channel: Optional[int] = None,
                 out_channel: Optional[int] = None,
                 normalize: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if (in_channel is None) != (out_channel is None):
            raise ValueError('AlignNormConnector: give both in_channel and out_channel (to '
                             f'align), or neither; got in_channel={in_channel}, '
                             f'out_channel={out_channel}')
        self.in_channel, self.out_channel = in_channel, out_channel
        self.normalize = normalize
        self.align = None
        if in_channel is not None and in_channel != out_channel:
            self.align = ConvModuleConnector(in_channel, out_channel, kernel_size=1, act_cfg=None)

    def forward_train(self, feature: Tensor) -> Tensor:
        if self.in_channel is not None and feature.size(1) != self.in_channel:
            raise ValueError(f'AlignNormConnector: expected {self.in_channel} input channels '
                             f'(in_channel), got a feature of shape {tuple(feature.shape)}')
        if self.align is not None:
            feature = self.align(feature)
        return feature_norm(feature) if self.normalize else feature
