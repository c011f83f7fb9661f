"""TensorBoard monitoring in the PyTorch track (lesson 10): a ``Monitor`` writing the course's tags
(:mod:`course_lib.monitoring` documents them, and reads the files back) with
``torch.utils.tensorboard.SummaryWriter``, the global norm of a model's gradients, and the learning
rate an optimizer uses. The TensorFlow track has the same names.

TensorBoard writes and reads its files through TensorFlow whenever it can import it, which would load a
second framework into every PyTorch notebook (seconds, and TensorFlow's start-up lines in the outputs).
Its own stand-in does the same for local files, so this module asks for the stand-in before
``torch.utils.tensorboard`` loads; a PyTorch-only install uses it anyway."""
from __future__ import annotations

import sys
import types

import numpy as np
import torch

# tensorboard.compat picks its stand-in for TensorFlow when a module named ``notf`` exists. Not where TensorFlow
# is loaded already (a process that uses both tracks, e.g. the tests): its tf.summary needs the real one.
if "tensorflow" not in sys.modules:
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
from torch.utils.tensorboard import SummaryWriter  # noqa: E402 - after the line above, or TensorFlow loads

from ..monitoring import MonitorBase  # noqa: E402


def grad_norm(gradients, /) -> float:
    """Global L2 norm of gradients: ``sqrt(sum of every entry squared)``, as ``clip_grad_norm_`` computes it.

    ``gradients``: a model or its ``parameters()`` (their ``.grad`` after ``backward()``), or gradient
    tensors (e.g. from ``torch.autograd.grad``). Parameters without a gradient are skipped."""
    items = gradients.parameters() if isinstance(gradients, torch.nn.Module) else gradients
    grads = [t.grad if isinstance(t, torch.nn.Parameter) else t for t in items]
    grads = [g.detach() for g in grads if g is not None]
    if not grads:
        raise ValueError("no gradients to measure: call loss.backward() before grad_norm(model)")
    # float64: a sum of many squares in float32 loses digits; the norm is for reading, not for training
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.double()) for g in grads])))


def learning_rate(optimizer) -> float:
    """The learning rate ``optimizer`` uses at its next step (a scheduler writes it into the optimizer)."""
    rates = {group["lr"] for group in optimizer.param_groups}
    if len(rates) != 1:
        raise ValueError(f"the optimizer's parameter groups have different learning rates {sorted(rates)}; "
                         f"log each one, e.g. optimizer.param_groups[0]['lr']")
    return float(rates.pop())


class Monitor(MonitorBase):
    """Log a training run to TensorBoard: ``Monitor(logdir, run=None)`` starts a fresh run folder
    ``run_dir`` under ``logdir`` (never an existing one), then ``scalar(tag, value, step)``,
    ``scalars({tag: value}, step)``, ``samples(images, step)``, ``flush()``, ``close()``; or use it
    as a context manager::

        with Monitor("logs") as mon:
            ...
            mon.scalars({"loss/d": d_loss, "loss/g": g_loss, "grad_norm/d": grad_norm(D)}, step)
    """

    def _open(self, run_dir) -> None:
        self._writer = SummaryWriter(log_dir=str(run_dir))

    def _to_numpy(self, x) -> np.ndarray:
        return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)

    def _write_scalar(self, tag: str, value: float, step: int) -> None:
        self._writer.add_scalar(tag, value, global_step=step)

    def _write_image(self, tag: str, grid: np.ndarray, step: int) -> None:
        self._writer.add_image(tag, grid, global_step=step, dataformats="HW")

    def _flush(self) -> None:
        self._writer.flush()

    def _close(self) -> None:
        self._writer.close()
