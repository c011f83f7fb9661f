"""Early stopping, checkpoints and a resumable VAE trainer for the PyTorch track.

* :class:`EarlyStopping`: the framework-neutral :class:`course_lib.techniques.early_stopping.PatienceTracker`
  plus a deep copy of the best ``state_dict``; ``restore(model)`` brings it back.
* :func:`save_checkpoint` / :func:`load_checkpoint`: one file, written atomically (a temporary
  file in the same folder, then ``os.replace``), refusing a file written by another run. Tensors
  go into an ``.npz`` archive, everything else into JSON (:mod:`course_lib.checkpoints`): no pickle,
  so loading a file never runs code from it.
* :class:`VAETrainer`: trains a VAE epoch by epoch on exactly the batches and noise of
  :func:`course_lib.torch.train_vae`, and stores model, optimizer, data position and noise
  state, so a resumed run ends with the same weights as an uninterrupted one.
"""
from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch

from .. import data
from ..techniques.early_stopping import (
    BatchStream,
    PatienceTracker,
    check_rng_state,
    load_state,
    require_fit,
    rng_state,
    save_state,
    set_rng_state,
)
from .train import DEVICE, _adam, _vae_loss, negative_elbo, reparameterize, test_negative_elbo, to_tensor


class EarlyStopping:
    """Patience on a monitored value, with the best weights kept in memory.

    ``stop = es.step(val_loss, model)`` after each evaluation; ``es.restore(model)`` at the
    end loads the weights of the best evaluation (a deep copy, so later training cannot
    change them).
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min", restore_best: bool = True):
        self.tracker = PatienceTracker(patience, min_delta, mode)
        self.restore_best = restore_best
        self.best_state = None

    def step(self, value: float, model: torch.nn.Module) -> bool:
        stop = self.tracker.update(value)
        if self.tracker.improved and self.restore_best:
            self.best_state = copy.deepcopy(model.state_dict())
        return stop

    def restore(self, model: torch.nn.Module) -> None:
        if self.best_state is None:
            raise RuntimeError("no best weights to restore: call step() at least once (with restore_best=True)")
        model.load_state_dict(self.best_state)

    @contextlib.contextmanager
    def restored(self, model: torch.nn.Module):
        """Load the best weights for a moment (e.g. to evaluate them), then put the current ones back."""
        current = copy.deepcopy(model.state_dict())
        self.restore(model)
        try:
            yield model
        finally:
            model.load_state_dict(current)

    best = property(lambda self: self.tracker.best)
    best_index = property(lambda self: self.tracker.best_index)
    wait = property(lambda self: self.tracker.wait)

    def state_dict(self) -> dict:
        return {"tracker": self.tracker.state_dict(), "best_state": self.best_state}

    def load_state_dict(self, state: dict) -> None:
        self.tracker.load_state_dict(state["tracker"])
        self.best_state = state["best_state"]

    def __repr__(self):
        return f"EarlyStopping({self.tracker!r})"


def _to_array(obj):
    return obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else None


def _to_tensor(arr):
    return torch.from_numpy(arr).to(DEVICE)


def save_checkpoint(path, state: dict, meta: dict | None = None):
    """Write ``{"meta": meta, **state}`` to ``path`` atomically: tensors as arrays in an npz archive,
    the rest (numbers, strings, RNG states, histories) as JSON. No pickle."""
    return save_state(path, state, meta, convert=_to_array)


def load_checkpoint(path, meta: dict | None = None) -> dict:
    """Read a checkpoint; with ``meta``, refuse one whose metadata differ (another seed, budget...)
    before reading any array. Tensors come back as tensors (on ``DEVICE``); nothing is unpickled."""
    return load_state(path, meta, restore=_to_tensor)


def _shape(t):
    if not isinstance(t, torch.Tensor):
        return (), "not a tensor"
    return tuple(t.shape), str(t.dtype).removeprefix("torch.")


def _model_entries(saved: dict, target: dict, prefix: str):
    """Saved tensors against the model's, by name (a name missing on either side is a misfit)."""
    for name in dict.fromkeys([*target, *saved]):
        yield (prefix + name, *(_shape(saved[name]) if name in saved else (None, None)),
               *(_shape(target[name]) if name in target else (None, None)))


def _optimizer_entries(saved: dict, optimizer, prefix: str):
    """Adam's per-parameter state against the parameters it belongs to (a fresh optimizer has no state)."""
    groups, params = optimizer.param_groups, [p for g in optimizer.param_groups for p in g["params"]]
    saved_groups = saved["param_groups"]
    if len(saved_groups) != len(groups) or any(len(a["params"]) != len(b["params"])
                                               for a, b in zip(saved_groups, groups)):
        yield (prefix + "param_groups", [len(g["params"]) for g in saved_groups], "parameters per group",
               [len(g["params"]) for g in groups], "parameters per group")
    for index, entry in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params):
            yield (f"{prefix}state/{index}", (), "", None, None)
        for name, value in entry.items():
            shape = () if name == "step" else tuple(params[index].shape)
            dtype = _shape(value)[1] if name == "step" else str(params[index].dtype).removeprefix("torch.")
            yield (f"{prefix}state/{index}/{name}", *_shape(value), shape, dtype)


class VAETrainer:
    """Train a VAE one epoch at a time, with a state that a checkpoint can hold.

    Batches and noise are those of :func:`course_lib.torch.train_vae` with the same seed.
    """

    def __init__(self, model, x_train, batch_size: int, lr: float, seed: int):
        self.model = model.to(DEVICE)
        self.x = to_tensor(x_train)
        self.optimizer = _adam(model.parameters(), lr)
        self.batches = BatchStream(len(x_train), batch_size, seed)
        self.noise_rng = np.random.default_rng(seed + 1)
        self.epoch = 0
        self.last_batch_loss = float("nan")

    def train_epoch(self) -> float:
        """One pass over the training set; returns the mean training loss of its batches."""
        self.model.train()
        losses = []
        for _ in range(self.batches.batches_per_epoch):
            x = self.x[torch.from_numpy(next(self.batches)).to(DEVICE)]
            eps = to_tensor(data.noise(len(x), self.model.z_dim, self.noise_rng))
            loss = _vae_loss(self.model, x, eps, reparameterize, negative_elbo).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        self.model.eval()
        self.epoch += 1
        self.last_batch_loss = losses[-1]
        return float(np.mean(losses))

    def evaluate(self, x, seed: int = 0, n_samples: int = 1) -> float:
        """Mean negative ELBO on ``x`` (fixed noise: the same weights give the same number)."""
        return test_negative_elbo(self.model, x, seed, n_samples)

    def state_dict(self) -> dict:
        return {"model": copy.deepcopy(self.model.state_dict()),
                "optimizer": copy.deepcopy(self.optimizer.state_dict()),
                "batches": self.batches.state_dict(), "noise_rng": rng_state(self.noise_rng),
                "epoch": self.epoch, "last_batch_loss": self.last_batch_loss}

    def check_state(self, state: dict, source: str = "the state", prefix: str = "") -> None:
        """Raise ValueError at the first entry of ``state`` that does not fit this trainer; changes nothing."""
        require_fit(_model_entries(state["model"], self.model.state_dict(), prefix + "model/"), source)
        require_fit(_optimizer_entries(state["optimizer"], self.optimizer, prefix + "optimizer/"), source)
        self.batches.check_state(state["batches"])
        check_rng_state(self.noise_rng, state["noise_rng"])

    def load_state_dict(self, state: dict, source: str = "the state", prefix: str = "") -> None:
        """Load a :meth:`state_dict`: every shape is checked first, so a misfit changes nothing."""
        self.check_state(state, source, prefix)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        set_rng_state(self.noise_rng, state["noise_rng"])
        self.epoch, self.last_batch_loss = state["epoch"], state["last_batch_loss"]

    def save(self, path, meta: dict | None = None, **extra):
        """Checkpoint the trainer (and e.g. ``early_stopping=es.state_dict()``, ``history=...``)."""
        return save_checkpoint(path, {"trainer": self.state_dict(), **extra}, meta)

    def load(self, path, meta: dict | None = None) -> dict:
        """Resume from ``path``; returns the extras saved with it."""
        state = load_checkpoint(path, meta)
        self.load_state_dict(state.pop("trainer"), source=f"checkpoint {path}", prefix="trainer/")
        return state
