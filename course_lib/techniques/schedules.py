"""Learning-rate schedules as closed forms: pure NumPy functions of the step (imports neither framework).

Every function takes the step (an int, or an array of steps) and returns the learning rate
used *for* that step, counting from 0. Both tracks' framework schedules are unit-tested
against these (``tests/test_lesson03_lr_schedules.py``):

==================  =========================================  ============================================
closed form         PyTorch (``torch.optim.lr_scheduler``)      Keras 3 (``keras.optimizers.schedules``)
==================  =========================================  ============================================
``constant``        none (or ``ConstantLR(factor=1)``)          a float ``learning_rate``
``step_decay``      ``StepLR(step_size, gamma)``                ``ExponentialDecay(staircase=True)``
``multistep``       ``MultiStepLR(milestones, gamma)``          ``PiecewiseConstantDecay(boundaries - 1)``
``cosine``          ``CosineAnnealingLR(T_max, eta_min)``       ``CosineDecay(alpha=min_lr / base_lr)``
``warmup_cosine``   ``LambdaLR`` or ``SequentialLR(LinearLR,    ``CosineDecay(0, warmup_target=base_lr,
                    CosineAnnealingLR)``                        warmup_steps=...)`` or a subclass
==================  =========================================  ============================================

:class:`ReduceOnPlateau` is the reduce-on-plateau rule as a small state machine that either
track drives from a custom loop. :func:`seed_compounding` reproduces the seed document's
schedule, which halves the *current* rate every epoch and so compounds towards zero.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .early_stopping import improves


def _steps(step):
    return np.asarray(step, dtype=np.float64)


def _out(step, value):
    value = np.asarray(value, dtype=np.float64)
    return float(value) if np.ndim(step) == 0 else value


def constant(step, base_lr: float):
    """The same rate at every step."""
    return _out(step, np.full(np.shape(step), float(base_lr)))


def step_decay(step, base_lr: float, step_size: int, gamma: float = 0.1):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``base_lr * gamma ** (step // step_size)``."""
    return _out(step, base_lr * gamma ** np.floor_divide(_steps(step), step_size))


def multistep(step, base_lr: float, milestones: Sequence[int], gamma: float = 0.1):
    """Multiply the rate by ``gamma`` at each milestone: from step ``m`` on, one more factor ``gamma``."""
    s = _steps(step)
    n = sum((s >= m).astype(np.float64) for m in milestones)
    return _out(step, base_lr * gamma ** n)


def cosine(step, base_lr: float, total_steps: int, min_lr: float = 0.0):
    """Half a cosine from ``base_lr`` at step 0 to ``min_lr`` at ``total_steps``, then ``min_lr``."""
    progress = np.minimum(_steps(step), total_steps) / total_steps
    return _out(step, min_lr + (base_lr - min_lr) * 0.5 * (1.0 + np.cos(np.pi * progress)))


def warmup_cosine(step, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
    """Linear warmup from 0 (step 0) to ``base_lr`` (step ``warmup_steps``), then half a cosine
    down to ``min_lr`` at ``total_steps`` (warmup included), then ``min_lr``."""
    s = _steps(step)
    warm = base_lr * s / max(warmup_steps, 1)
    progress = np.clip(s - warmup_steps, 0, total_steps - warmup_steps) / (total_steps - warmup_steps)
    decay = min_lr + (base_lr - min_lr) * 0.5 * (1.0 + np.cos(np.pi * progress))
    return _out(step, np.where(s < warmup_steps, warm, decay))


# --- the seed document's schedule and what it meant ----------------------------------------


def seed_rule(epoch: int, lr: float) -> float:
    """The seed's ``lr_schedule(epoch, lr)``: returns lr, lr / 2 or lr / 4 by epoch (correct if
    ``lr`` is the *base* rate; the seed passes the *current* rate)."""
    if epoch < 50:
        return lr
    if epoch < 75:
        return lr / 2
    return lr / 4


def seed_intended(epoch, base_lr: float):
    """What the seed meant: the base rate until epoch 50, half of it until 75, a quarter after."""
    return multistep(epoch, base_lr, (50, 75), 0.5)


def seed_compounding(n_epochs: int, base_lr: float) -> np.ndarray:
    """The rate used in each of ``n_epochs`` epochs by the seed's loop: after every epoch it
    sets ``lr = lr_schedule(epoch, lr)`` with the *current* rate, so the factors multiply."""
    rates, lr = [], float(base_lr)
    for epoch in range(n_epochs):
        rates.append(lr)
        lr = seed_rule(epoch, lr)
    return np.array(rates)


# --- reduce on plateau --------------------------------------------------------------------


class ReduceOnPlateau:
    """Multiply the rate by ``factor`` when ``patience`` evaluations in a row failed to improve.

    Call ``step(value)`` once per evaluation with the monitored value (a validation loss by
    default, ``mode="max"`` for e.g. an accuracy); it returns the rate to use from now on.
    An improvement beats the best value so far by more than ``min_delta``. After a
    reduction, the next ``cooldown`` evaluations are not counted. The rate never goes below
    ``min_lr``. A NaN is never an improvement.

    Conventions differ by one between the frameworks: this rule equals PyTorch's
    ``ReduceLROnPlateau(patience=patience - 1, cooldown=cooldown, threshold=min_delta,
    threshold_mode="abs", eps=0)`` (PyTorch reduces when the count *exceeds* its patience, and skips
    cuts smaller than ``eps=1e-8`` by default) and, without
    cooldown, Keras' ``keras.callbacks.ReduceLROnPlateau(patience=patience, min_delta=min_delta)``.
    """

    def __init__(self, base_lr: float, factor: float = 0.5, patience: int = 2, min_delta: float = 0.0,
                 cooldown: int = 0, min_lr: float = 0.0, mode: str = "min"):
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be between 0 and 1 (the rate is multiplied by it), got {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        if cooldown < 0 or min_delta < 0 or min_lr < 0:
            raise ValueError("cooldown, min_delta and min_lr must be >= 0")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.lr, self.factor, self.patience = float(base_lr), float(factor), int(patience)
        self.min_delta, self.cooldown, self.min_lr, self.mode = float(min_delta), int(cooldown), float(min_lr), mode
        self.best: float | None = None
        self.wait = 0             # evaluations since the last improvement (outside cooldown)
        self.cooldown_left = 0
        self.reductions: list[int] = []  # evaluation indices (0-based) at which the rate was cut
        self._n = 0

    def step(self, value) -> float:
        value = float(value)
        if improves(value, self.best, self.min_delta, self.mode):
            self.best, self.wait = value, 0
        else:
            self.wait += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.wait >= self.patience:
            new = max(self.lr * self.factor, self.min_lr)
            if self.lr - new > 1e-12:
                self.lr = new
                self.reductions.append(self._n)
            self.cooldown_left, self.wait = self.cooldown, 0
        self._n += 1
        return self.lr


def table(schedules: dict, steps: Sequence[int], fmt: str = "{:9.2e}") -> str:
    """A text table: one row per schedule (``name -> fn(step)``), one column per step."""
    name_w = max(len(n) for n in schedules) + 2
    head = " " * name_w + "".join(f"{'step ' + str(s):>11s}" for s in steps)
    rows = [head]
    for name, fn in schedules.items():
        rows.append(f"{name:<{name_w}s}" + "".join(f"{fmt.format(float(fn(s))):>11s}" for s in steps))
    return "\n".join(rows)
