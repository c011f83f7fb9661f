"""Learning-rate schedules for the TensorFlow track (Keras 3). Imports TensorFlow, never PyTorch.

:class:`WarmupCosine` is a ``keras.optimizers.schedules.LearningRateSchedule``: give it to an
optimizer as its ``learning_rate`` and Keras evaluates it at ``optimizer.iterations`` on every
step, inside the compiled graph. Its closed form is :func:`course_lib.techniques.schedules.warmup_cosine`.
"""
from __future__ import annotations

import math

import keras
import tensorflow as tf


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to ``base_lr`` over ``warmup_steps``, then half a cosine down to
    ``min_lr`` at ``total_steps`` (warmup included), then ``min_lr``."""

    def __init__(self, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}")
        self.base_lr, self.min_lr = float(base_lr), float(min_lr)
        self.warmup_steps, self.total_steps = int(warmup_steps), int(total_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)  # a tensor: optimizer.iterations, never a Python number
        warm = self.base_lr * step / max(self.warmup_steps, 1)
        progress = tf.clip_by_value((step - self.warmup_steps) / (self.total_steps - self.warmup_steps), 0.0, 1.0)
        decay = self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + tf.cos(math.pi * progress))
        return tf.where(step < self.warmup_steps, warm, decay)

    def get_config(self):
        return {"base_lr": self.base_lr, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps, "min_lr": self.min_lr}
