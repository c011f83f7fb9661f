"""Early stopping, checkpoints and a resumable VAE trainer for the TensorFlow track.

* :class:`FitVAE`: the course's VAE as a Keras model with its own ``train_step`` and
  ``test_step`` (keras-io ``vae.py`` style, a ``Mean`` tracker exposed through ``metrics``), so
  ``model.fit(x, validation_data=...)`` and ``keras.callbacks.EarlyStopping`` work on it.
* :class:`EarlyStopping`: the same rule for a custom loop: the framework-neutral
  :class:`course_lib.techniques.early_stopping.PatienceTracker` plus a copy of the best weights.
* :func:`save_checkpoint` / :func:`load_checkpoint`: model and optimizer variables, data
  position and noise state in one file, written atomically (temporary file, then ``os.replace``):
  arrays in an ``.npz`` archive, the rest as JSON (:mod:`course_lib.checkpoints`), never pickle.
* :class:`VAETrainer`: trains a VAE epoch by epoch on exactly the batches and noise of
  :func:`course_lib.tensorflow.train_vae`, with a state that a checkpoint can hold.
"""
from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

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
from .models import VAE
from .train import _apply, _vae_loss, adam, negative_elbo, reparameterize, test_negative_elbo, to_tensor


class FitVAE(VAE):
    """A VAE that trains with ``fit``: the negative ELBO is computed in ``train_step``/``test_step``.

    ``fit(x, validation_data=(x_val,))`` logs ``loss`` and ``val_loss`` (mean negative ELBO in
    nats), which ``keras.callbacks.EarlyStopping(monitor="val_loss")`` can watch.
    """

    def __init__(self, *args, seed: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]  # listed here, Keras resets it at the start of each epoch

    def _loss(self, data_, training):
        x = data_[0] if isinstance(data_, (tuple, list)) else data_
        mu, logvar = self.encode(x, training=training)
        eps = keras.random.normal(tf.shape(mu), seed=self.seed_generator)
        return tf.reduce_mean(negative_elbo(x, self.decode(reparameterize(mu, logvar, eps), training=training),
                                            mu, logvar))

    def train_step(self, data_):
        with tf.GradientTape() as tape:
            loss = self._loss(data_, training=True)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data_):
        self.loss_tracker.update_state(self._loss(data_, training=False))
        return {"loss": self.loss_tracker.result()}


class EarlyStopping:
    """Patience on a monitored value, with a copy of the best weights (for custom loops).

    ``stop = es.step(val_loss, model)`` after each evaluation; ``es.restore(model)`` at the end.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min", restore_best: bool = True):
        self.tracker = PatienceTracker(patience, min_delta, mode)
        self.restore_best = restore_best
        self.best_weights = None

    def step(self, value: float, model: keras.Model) -> bool:
        stop = self.tracker.update(value)
        if self.tracker.improved and self.restore_best:
            self.best_weights = model.get_weights()  # NumPy copies
        return stop

    def restore(self, model: keras.Model) -> None:
        if self.best_weights is None:
            raise RuntimeError("no best weights to restore: call step() at least once (with restore_best=True)")
        model.set_weights(self.best_weights)

    @contextlib.contextmanager
    def restored(self, model: keras.Model):
        """Load the best weights for a moment (e.g. to evaluate them), then put the current ones back."""
        current = model.get_weights()
        self.restore(model)
        try:
            yield model
        finally:
            model.set_weights(current)

    best = property(lambda self: self.tracker.best)
    best_index = property(lambda self: self.tracker.best_index)
    wait = property(lambda self: self.tracker.wait)

    def state_dict(self) -> dict:
        return {"tracker": self.tracker.state_dict(), "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.tracker.load_state_dict(state["tracker"])
        self.best_weights = state["best_weights"]

    def __repr__(self):
        return f"EarlyStopping({self.tracker!r})"


def _to_array(obj):
    return obj.numpy() if isinstance(obj, (tf.Tensor, tf.Variable, keras.Variable)) else None


def save_checkpoint(path, state: dict, meta: dict | None = None):
    """Write ``{"meta": meta, **state}`` to ``path`` atomically: arrays (and tensors, as arrays) in an
    npz archive, the rest (numbers, strings, RNG states, histories) as JSON. No pickle."""
    return save_state(path, state, meta, convert=_to_array)


def load_checkpoint(path, meta: dict | None = None) -> dict:
    """Read a checkpoint; with ``meta``, refuse one whose metadata differ (another seed, budget...)
    before reading any array. Arrays come back as NumPy arrays; nothing is unpickled."""
    return load_state(path, meta)


def _entries(saved, variables, prefix: str):
    """Saved arrays against variables, by position (Keras names carry global layer counters)."""
    saved = list(saved)
    for i in range(max(len(saved), len(variables))):
        s = (tuple(np.shape(saved[i])), str(np.asarray(saved[i]).dtype)) if i < len(saved) else (None, None)
        v = (tuple(variables[i].shape), str(variables[i].dtype)) if i < len(variables) else (None, None)
        name = f"{prefix}{i}" + (f" ({variables[i].path})" if i < len(variables) else "")
        yield (name, *s, *v)


class VAETrainer:
    """Train a VAE one epoch at a time, with a state that a checkpoint can hold.

    Batches and noise are those of :func:`course_lib.tensorflow.train_vae` with the same seed.
    """

    def __init__(self, model, x_train, batch_size: int, lr: float, seed: int):
        self.model = model
        self.x = to_tensor(x_train)
        self.optimizer = adam(lr)
        self.optimizer.build(model.trainable_variables)
        self.batches = BatchStream(len(x_train), batch_size, seed)
        self.noise_rng = np.random.default_rng(seed + 1)
        self.epoch = 0
        self.last_batch_loss = float("nan")

        @tf.function
        def step(idx, eps):
            x = tf.gather(self.x, idx)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(_vae_loss(model, x, eps, reparameterize, negative_elbo, training=True))
            _apply(self.optimizer, tape, loss, model.trainable_variables)
            return loss

        self._step = step

    def train_epoch(self) -> float:
        """One pass over the training set; returns the mean training loss of its batches."""
        losses = []
        for _ in range(self.batches.batches_per_epoch):
            idx = next(self.batches)
            eps = to_tensor(data.noise(len(idx), self.model.z_dim, self.noise_rng))
            losses.append(float(self._step(tf.constant(idx), eps)))
        self.epoch += 1
        self.last_batch_loss = losses[-1]
        return float(np.mean(losses))

    def evaluate(self, x, seed: int = 0, n_samples: int = 1) -> float:
        """Mean negative ELBO on ``x`` (fixed noise: the same weights give the same number)."""
        return test_negative_elbo(self.model, x, seed, n_samples)

    def state_dict(self) -> dict:
        return {"model": self.model.get_weights(),
                "optimizer": [v.numpy().copy() for v in self.optimizer.variables],
                "batches": self.batches.state_dict(), "noise_rng": rng_state(self.noise_rng),
                "epoch": self.epoch, "last_batch_loss": self.last_batch_loss}

    def check_state(self, state: dict, source: str = "the state", prefix: str = "") -> None:
        """Raise ValueError at the first entry of ``state`` that does not fit this trainer; changes nothing."""
        if not self.optimizer.built:
            self.optimizer.build(self.model.trainable_variables)
        require_fit(_entries(state["model"], self.model.weights, prefix + "model/"), source)
        require_fit(_entries(state["optimizer"], self.optimizer.variables, prefix + "optimizer/"), source)
        self.batches.check_state(state["batches"])
        check_rng_state(self.noise_rng, state["noise_rng"])

    def load_state_dict(self, state: dict, source: str = "the state", prefix: str = "") -> None:
        """Load a :meth:`state_dict`: every shape is checked first, so a misfit changes nothing."""
        self.check_state(state, source, prefix)
        self.model.set_weights(state["model"])
        for var, value in zip(self.optimizer.variables, state["optimizer"]):
            var.assign(value)
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
