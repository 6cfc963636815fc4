"""Small mmdet data samples for tests and benchmarks."""
import torch


def make_data_samples(n=2, size=(64, 64)):
    """mmdet data samples of a padded batch: image i is 8*i rows shorter, and has 2-i boxes."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for i in range(n):
        ds = DetDataSample(
            metainfo=dict(
                img_shape=(size[0] - 8 * i, size[1]),
                batch_input_shape=size,
                pad_shape=size,
                scale_factor=(1., 1.)))
        boxes = torch.tensor([[4., 6., 40., 50.], [30., 2., 63., 20.]])[:2 - i]
        ds.gt_instances = InstanceData(bboxes=boxes, labels=torch.zeros(len(boxes)).long())
        out.append(ds)
    return out
