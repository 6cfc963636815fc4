"""Deliveries: data computed by the teacher that replaces the student's own."""
import functools
from typing import Callable

from mmrazor.models.task_modules.delivery import MethodOutputsDelivery, delivery_manager
from mmrazor.registry import TASK_UTILS

# MMRazor's DistillDeliveryManager accepts a fixed list of delivery types (it appends
# 'Delivery' to the configured type and builds it from TASK_UTILS): add ours.
if 'OptionalMethodOutputs' not in delivery_manager.SUPPORT_DELIVERIES:
    delivery_manager.SUPPORT_DELIVERIES.append('OptionalMethodOutputs')


@TASK_UTILS.register_module()
class OptionalMethodOutputsDelivery(MethodOutputsDelivery):
    """MMRazor's ``MethodOutputsDelivery`` (the teacher's call of a method records its
    outputs, the student's call returns them instead of computing its own), except that a
    student call finding nothing recorded computes its own outputs. PP-YOLOE distillation
    delivers the teacher's task-aligned assignment only after the static epochs; before,
    the student assigns itself (ATSS), as PaddleDetection does. In a distiller's
    ``distill_deliveries``: ``dict(type='OptionalMethodOutputs', method_path=...,
    max_keep_data=1)``."""

    def deliver_wrapper(self, origin_method: Callable) -> Callable:

        @functools.wraps(origin_method)
        def wrap_method(*args, **kwargs):
            if self.override_data:
                if self.data_queue:
                    return self.data_queue.popleft()
                return origin_method(*args, **kwargs)
            outputs = origin_method(*args, **kwargs)
            if len(self.data_queue) >= self.data_queue.maxlen:
                raise RuntimeError(f'{self.method_name}: the teacher delivered more outputs '
                                   f'than the student used (max_keep_data '
                                   f'{self.data_queue.maxlen})')
            self.data_queue.append(outputs)
            return outputs

        return wrap_method
