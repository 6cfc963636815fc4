"""Running a detector's raw forward (backbone, neck, head: no loss, no post-processing), with
blank data samples where it needs them."""
import inspect

import torch


def blank_samples(inputs: torch.Tensor) -> list:
    """Data samples without GT for a batch of ``inputs`` (the image and pad shapes of the
    batch), for the detectors whose ``_forward`` needs them (two-stage: their RoI head runs on
    the RPN's proposals)."""
    from mmdet.structures import DetDataSample
    shape = tuple(inputs.shape[-2:])
    meta = dict(
        img_shape=shape,
        pad_shape=shape,
        ori_shape=shape,
        batch_input_shape=shape,
        scale_factor=(1., 1.))
    return [DetDataSample(metainfo=meta) for _ in range(inputs.size(0))]


def raw_forward(detector, inputs: torch.Tensor, data_samples=None):
    """The detector's ``_forward``, its raw head outputs (no loss, no post-processing), given
    data samples where it needs them (blank ones of the batch's shape if there are none)."""
    param = inspect.signature(detector._forward).parameters.get('batch_data_samples')
    if param is None:
        return detector._forward(inputs)
    if data_samples is None and param.default is inspect.Parameter.empty:
        data_samples = blank_samples(inputs)
    return detector._forward(inputs, data_samples)
