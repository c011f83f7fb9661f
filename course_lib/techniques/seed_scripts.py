"""The seed document's two scripts (lesson 10, part 1): closed forms of what they compute, pure NumPy.

:func:`compounded_rate` is the rate the seed's "Learning Rate Schedules" loop uses in each epoch: it calls
``lr_schedule(epoch, optimizer.lr)`` with the *current* rate, so from epoch 50 every epoch halves what the
previous one left and from epoch 75 every epoch quarters it (``schedules.seed_rule``; the loop itself is
``schedules.seed_compounding``). :func:`swapped_logits_grad` is the gradient that reaches the model's output
when the loss is called with its arguments swapped, ``BCE_with_logits(logits=x, target=x_fake)``.
"""
from __future__ import annotations

import numpy as np

from .schedules import seed_rule


def compounded_rate(epoch, base_lr: float):
    """The rate used during ``epoch`` (from 0, before that epoch's update): base * 2^-halvings * 4^-quarterings."""
    e = np.asarray(epoch, dtype=np.float64)
    halvings = np.clip(e - 50, 0, 25)
    quarterings = np.maximum(e - 75, 0)
    rate = base_lr * 0.5 ** halvings * 0.25 ** quarterings
    return float(rate) if np.ndim(epoch) == 0 else rate


def compounded_rate_loop(epoch: int, base_lr: float) -> float:
    """The same rate, by running the seed's update ``lr = lr_schedule(k, lr)`` for k < epoch (the truth)."""
    lr = float(base_lr)
    for k in range(int(epoch)):
        lr = seed_rule(k, lr)
    return lr


def swapped_logits_grad(x: np.ndarray) -> np.ndarray:
    """d/dx_fake of mean(softplus(x) - x * x_fake) over all N entries: -x / N (never positive for pixels >= 0)."""
    x = np.asarray(x, dtype=np.float64)
    return -x / x.size
