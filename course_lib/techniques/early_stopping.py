"""Early stopping and checkpoints, the framework-neutral part (imports neither framework).

* :class:`PatienceTracker`: the stopping rule. Feed it one validation value per evaluation;
  it remembers the best value, counts evaluations without an improvement of more than
  ``min_delta`` and says when that count reaches ``patience``. Keras'
  ``keras.callbacks.EarlyStopping`` follows the same rule.
* :func:`should_stop` and :func:`best_step`: the same rule as pure functions of a history.
* :func:`seed_criterion`: the seed document's rule, kept to show what goes wrong with it.
* :class:`BatchStream`: the minibatch order of :func:`course_lib.data.batch_indices`, with a
  state that a checkpoint can store, so a resumed run sees the same batches.
* :func:`atomic_write` and :func:`checkpoint_path`: write a checkpoint to a temporary file in
  the target's folder, then rename it over the target; name checkpoints by lesson, track and seed.
* :func:`save_state` / :func:`load_state`: the checkpoint file itself, arrays in an ``.npz`` archive
  and everything else as JSON, never pickle (:mod:`course_lib.checkpoints`); :func:`check_meta`
  refuses a file written by another run before any array is read.

The framework packages wrap these: ``course_lib.torch.early_stopping`` and
``course_lib.tensorflow.early_stopping`` (model weights, optimizer state, trainers).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..checkpoints import (  # noqa: F401  # noqa: F401
    CheckpointError,
    check_meta,
    load as load_state,
    remove_stale_temps,
    require_fit,
    save as save_state,
)
from ..files import atomic_write  # noqa: F401  (checkpoints are written through it; lesson 02 shows it)

MODES = ("min", "max")


def improves(value: float, best: float | None, min_delta: float, mode: str = "min") -> bool:
    """Does ``value`` beat ``best`` by more than ``min_delta`` (lower is better for ``"min"``)?
    The first value always does; a NaN never does. Early stopping and reduce-on-plateau share it."""
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


class PatienceTracker:
    """Stop after ``patience`` evaluations in a row without an improvement of more than ``min_delta``.

    ``update(value)`` returns True when training should stop. After each update,
    ``improved`` says whether that value became the new best (save the weights then),
    ``best`` and ``best_index`` (0-based, counting updates) name the best so far, and
    ``wait`` counts the evaluations since. A NaN never counts as an improvement.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min"):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        if not isinstance(min_delta, (int, float, np.floating)) or not min_delta >= 0:
            raise ValueError(f"min_delta must be a number >= 0 (an improvement threshold), got {min_delta!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be 'min' (a loss) or 'max' (e.g. an accuracy), got {mode!r}")
        self.patience, self.min_delta, self.mode = int(patience), float(min_delta), mode
        self.best: float | None = None
        self.best_index: int | None = None
        self.wait = 0
        self.count = 0
        self.improved = False
        self.stopped = False

    def is_improvement(self, value: float) -> bool:
        """Is ``value`` better than the best so far by more than ``min_delta``?"""
        return improves(float(value), self.best, self.min_delta, self.mode)

    def update(self, value: float) -> bool:
        """Record one evaluation; return True when training should stop."""
        self.improved = self.is_improvement(value)
        if self.improved:
            self.best, self.best_index, self.wait = float(value), self.count, 0
        else:
            self.wait += 1
        self.count += 1
        self.stopped = self.wait >= self.patience
        return self.stopped

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in
                ("patience", "min_delta", "mode", "best", "best_index", "wait", "count", "improved", "stopped")}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def __repr__(self):
        return (f"PatienceTracker(patience={self.patience}, min_delta={self.min_delta}, mode={self.mode!r}; "
                f"best={self.best} at {self.best_index}, wait={self.wait})")


def _run(values: Sequence[float], patience: int, min_delta: float) -> PatienceTracker:
    tracker = PatienceTracker(patience, min_delta)
    for v in values:
        tracker.update(v)
    return tracker


def should_stop(history: dict, patience: int, min_delta: float = 0.0) -> bool:
    """After the evaluations in ``history["val_loss"]`` (lower is better), stop now?

    True when the last ``patience`` validation values all failed to beat the best
    value before them by more than ``min_delta``.
    """
    return _run(history["val_loss"], patience, min_delta).stopped


def best_step(val_losses: Sequence[float], min_delta: float = 0.0) -> int:
    """Index of the evaluation whose weights restore-best brings back.

    The weights are saved each time the validation loss improves on the best so far by
    more than ``min_delta``, so this is the last such improvement (the same as Keras'
    ``best_epoch``); with ``min_delta=0`` it is the first minimum.
    """
    if len(val_losses) == 0:
        raise ValueError("no validation losses yet")
    return _run(val_losses, 1, min_delta).best_index


def seed_criterion(epoch: int, train_loader_loss: float, last_batch_loss: float, every: int = 10) -> bool:
    """The seed document's rule, for comparison only: do not use it.

    Every ``every`` epochs (including epoch 0) it recomputes the loss on the *training*
    loader and stops when that exceeds the loss of the last training batch. No validation
    data, no patience, no best weights: it compares two noisy estimates of the same thing.
    """
    return epoch % every == 0 and train_loader_loss > last_batch_loss


# --- resumable data order and checkpoint files ------------------------------------------


class BatchStream:
    """Endless minibatch indices, the same sequence as :func:`course_lib.data.batch_indices`.

    A fresh permutation each epoch, incomplete last batch dropped; unlike a generator its
    position can be saved (:meth:`state_dict`) and restored, so a resumed run continues
    with exactly the batches the uninterrupted run would have seen.
    """

    def __init__(self, n: int, batch_size: int, seed: int):
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the data set ({n} rows)")
        self.n, self.batch_size = int(n), int(batch_size)
        self.rng = np.random.default_rng(seed)
        self.perm = self.rng.permutation(self.n)
        self.pos = 0

    @property
    def batches_per_epoch(self) -> int:
        return self.n // self.batch_size

    def __iter__(self):
        return self

    def __next__(self) -> np.ndarray:
        if self.pos + self.batch_size > self.n:
            self.perm, self.pos = self.rng.permutation(self.n), 0
        out = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return out

    def state_dict(self) -> dict:
        return {"rng": copy.deepcopy(self.rng.bit_generator.state), "perm": self.perm.copy(), "pos": self.pos,
                "n": self.n, "batch_size": self.batch_size}

    def check_state(self, state: dict) -> None:
        """Raise ValueError unless ``state`` (from :meth:`state_dict`) fits this stream; changes nothing."""
        if (state["n"], state["batch_size"]) != (self.n, self.batch_size):
            raise ValueError(f"this stream has n={self.n}, batch_size={self.batch_size}; the state was saved with "
                             f"n={state['n']}, batch_size={state['batch_size']}")
        if np.shape(state["perm"]) != (self.n,) or not 0 <= int(state["pos"]) <= self.n:
            raise ValueError(f"the saved permutation/position do not fit a stream of n={self.n}")
        check_rng_state(self.rng, state["rng"])

    def load_state_dict(self, state: dict) -> None:
        self.check_state(state)
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])
        self.perm, self.pos = np.array(state["perm"]), int(state["pos"])


def rng_state(rng: np.random.Generator) -> dict:
    """The state of a NumPy generator, to store in a checkpoint."""
    return copy.deepcopy(rng.bit_generator.state)


def check_rng_state(rng: np.random.Generator, state: dict) -> None:
    """Raise ValueError unless ``state`` is a state of the same kind of generator as ``rng``."""
    kind = rng.bit_generator.state["bit_generator"]
    if not isinstance(state, dict) or state.get("bit_generator") != kind:
        saved = state.get("bit_generator") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"the saved random state is for {saved!r}, this generator is {kind!r}")


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    check_rng_state(rng, state)
    rng.bit_generator.state = copy.deepcopy(state)


def checkpoint_path(folder, lesson: str, track: str, seed: int, budget: str, tag: str = "run", suffix: str = ".ckpt"):
    """``folder/<lesson>-<track>-<budget>-seed<seed>-<tag><suffix>``: one file per run, never shared."""
    return Path(folder) / f"{lesson}-{track}-{budget}-seed{seed}-{tag}{suffix}"
