"""TensorBoard monitoring in the TensorFlow track (lesson 10): a ``Monitor`` writing the course's tags
(:mod:`course_lib.monitoring` documents them, and reads the files back) with
``tf.summary.create_file_writer``, the global norm of a list of gradients, and the learning rate an
optimizer uses. The PyTorch track has the same names.

``tf.summary.scalar`` and ``tf.summary.image`` come from the ``tensorboard`` package (TensorFlow raises
an error without it); both store their data as tensors, which :func:`course_lib.monitoring.read_events`
reads like PyTorch's simple values. Log in eager code, between steps, not inside a ``tf.function``."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..monitoring import MonitorBase


def grad_norm(gradients, /) -> float:
    """Global L2 norm of gradients: ``sqrt(sum of every entry squared)``, as ``tf.clip_by_global_norm`` computes it.

    ``gradients``: the list ``tape.gradient(loss, model.trainable_variables)`` returns. ``None`` entries
    (variables the loss does not reach) are skipped."""
    grads = [tf.convert_to_tensor(g) for g in gradients if g is not None]
    if not grads:
        raise ValueError("no gradients to measure: pass tape.gradient(loss, model.trainable_variables)")
    # float64: a sum of many squares in float32 loses digits; the norm is for reading, not for training
    return float(tf.norm(tf.stack([tf.norm(tf.cast(tf.reshape(g, [-1]), tf.float64)) for g in grads])))


def learning_rate(optimizer) -> float:
    """The learning rate ``optimizer`` uses at its next step (a schedule is evaluated at its iteration count)."""
    return float(optimizer.learning_rate)


class Monitor(MonitorBase):
    """Log a training run to TensorBoard: ``Monitor(logdir, run=None)`` starts a fresh run folder
    ``run_dir`` under ``logdir`` (never an existing one), then ``scalar(tag, value, step)``,
    ``scalars({tag: value}, step)``, ``samples(images, step)``, ``flush()``, ``close()``; or use it
    as a context manager::

        with Monitor("logs") as mon:
            ...
            mon.scalars({"loss/d": d_loss, "loss/g": g_loss, "grad_norm/d": grad_norm(d_grads)}, step)
    """

    def _open(self, run_dir) -> None:
        self._writer = tf.summary.create_file_writer(str(run_dir))

    def _to_numpy(self, x) -> np.ndarray:
        return x.numpy() if isinstance(x, (tf.Tensor, tf.Variable)) else np.asarray(x)

    def _write_scalar(self, tag: str, value: float, step: int) -> None:
        with self._writer.as_default():
            tf.summary.scalar(tag, value, step=step)

    def _write_image(self, tag: str, grid: np.ndarray, step: int) -> None:
        with self._writer.as_default():
            tf.summary.image(tag, grid[None, :, :, None], step=step, max_outputs=1)

    def _flush(self) -> None:
        self._writer.flush()

    def _close(self) -> None:
        self._writer.close()
