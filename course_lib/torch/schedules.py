"""Learning-rate schedules for the PyTorch track. Imports PyTorch, never TensorFlow.

:class:`WarmupCosine` is a ``torch.optim.lr_scheduler.LRScheduler``: build it on an optimizer
and call ``scheduler.step()`` once per training step, after ``optimizer.step()``. It scales each
parameter group's initial rate (``base_lrs``) and is the counterpart of the TensorFlow track's
``course_lib.tensorflow.schedules.WarmupCosine``. Its closed form is
:func:`course_lib.techniques.schedules.warmup_cosine`.
"""
from __future__ import annotations

import torch

from ..techniques import schedules as _closed


class WarmupCosine(torch.optim.lr_scheduler.LRScheduler):
    """Linear warmup from 0 to each group's initial rate over ``warmup_steps``, then half a cosine
    down to ``min_lr`` at ``total_steps`` (warmup included), then ``min_lr``."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0, last_epoch: int = -1):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}")
        self.warmup_steps, self.total_steps, self.min_lr = int(warmup_steps), int(total_steps), float(min_lr)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        # A closed form of the step count, never of the current rate: nothing can compound.
        return [_closed.warmup_cosine(self.last_epoch, base, self.warmup_steps, self.total_steps, self.min_lr)
                for base in self.base_lrs]
