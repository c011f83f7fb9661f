"""Batch normalization helpers for the TensorFlow track (lesson 04): reference layers for the
exercises, sampling a generator with ``training=True`` or ``False`` without touching its
moving statistics, moving-mean traces, per-sample gradient coupling, and discriminator scores
on real and fake batches fed separately or mixed. The PyTorch track has the same functions."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .train import to_numpy, to_tensor


def batchnorm_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """Batch normalization's training-mode forward pass and running-statistics update, written
    out in *PyTorch's* convention (``momentum`` weighs the new batch; the running variance gets
    the unbiased batch variance). Returns ``(y, new_running_mean, new_running_var)``."""
    n = tf.cast(tf.shape(x)[0], x.dtype)
    mean, var = tf.reduce_mean(x, axis=0), tf.math.reduce_variance(x, axis=0)
    y = gamma * (x - mean) / tf.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return y, new_mean, new_var


def layernorm(x, gamma, beta, eps=1e-5):
    """LayerNorm written out: each sample over its own features."""
    mean = tf.reduce_mean(x, axis=1, keepdims=True)
    var = tf.math.reduce_variance(x, axis=1, keepdims=True)
    return gamma * (x - mean) / tf.sqrt(var + eps) + beta


def is_batchnorm(layer) -> bool:
    """A BatchNorm layer: Keras' ``BatchNormalization``, or any layer that keeps ``running_mean`` and
    ``running_var`` variables and a ``momentum`` in *PyTorch's* convention, as lesson 04's layer built
    on the learner's ``batchnorm_train`` does."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return True
    return all(hasattr(layer, name) for name in ("running_mean", "running_var", "momentum"))


def bn_layers(model) -> list:
    return [layer for layer in _all_layers(model) if is_batchnorm(layer)]


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _all_layers(layer)


def statistics(layer) -> tuple:
    """A BatchNorm layer's (mean, variance) variables: Keras' moving ones, or ``running_mean`` and
    ``running_var``."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return layer.moving_mean, layer.moving_variance
    return layer.running_mean, layer.running_var


def _moving(model):
    return [statistics(bn) for bn in bn_layers(model)]


class _KeepMoving:
    """Restore the BatchNormalization layers' moving statistics on exit (a ``training=True``
    call updates them)."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = [(m.numpy(), v.numpy()) for m, v in _moving(self.model)]
        return self

    def __exit__(self, *exc):
        for (m, v), (sm, sv) in zip(_moving(self.model), self.saved):
            m.assign(sm), v.assign(sv)
        return False


def generate(G, z, train_mode: bool) -> np.ndarray:
    """``G(z, training=train_mode)``: batch statistics (True) or moving statistics (False), without
    changing G's moving statistics."""
    with _KeepMoving(G):
        return to_numpy(G(to_tensor(z), training=train_mode))


def with_fresh_running_stats(G, momentum: float | None = None):
    """A copy of ``G`` whose BatchNorm layers have moving statistics reset to (mean 0, var 1), as
    in a freshly built model, and optionally a new momentum given in *PyTorch's* convention (a Keras
    ``BatchNormalization``'s momentum is set to ``1 - momentum``)."""
    g = G.__class__(z_dim=G.z_dim, hidden=tuple(layer.units for layer in G.net.layers
                                                if isinstance(layer, keras.layers.Dense))[:-1],
                    out_dim=G.net.layers[-1].units, output=G.output_kind, norm=getattr(G, "norm_kind", "batch"))
    g(tf.zeros((1, G.z_dim)))
    g.set_weights(G.get_weights())
    for bn in bn_layers(g):
        mean, var = statistics(bn)
        mean.assign(tf.zeros_like(mean))
        var.assign(tf.ones_like(var))
        if momentum is not None:
            bn.momentum = (1.0 - momentum) if isinstance(bn, keras.layers.BatchNormalization) else momentum
    return g


def warm_up(G, n_batches: int, batch_size: int, seed: int = 0):
    """Run ``n_batches`` forward passes of noise through ``G`` with ``training=True`` (no
    gradients): this is how moving statistics are (re)estimated. Returns ``G``."""
    rng = np.random.default_rng(seed)
    step = tf.function(lambda z: G(z, training=True))
    for _ in range(n_batches):
        step(to_tensor(rng.standard_normal((batch_size, G.z_dim))))
    return G


def running_mean_trace(batches, keras_momentum: float) -> np.ndarray:
    """``keras.layers.BatchNormalization(momentum=keras_momentum)``'s moving mean after each of
    ``batches`` (n_batches, n, features)."""
    bn = keras.layers.BatchNormalization(momentum=keras_momentum, epsilon=1e-5)
    bn.build((None, batches.shape[-1]))
    out = []
    for b in batches:
        bn(tf.constant(b), training=True)
        out.append(bn.moving_mean.numpy().copy())
    return np.array(out)


def cross_sample_gradients(critic, x, train_mode: bool = True) -> np.ndarray:
    """``M[i, j] = |d critic(x)[i] / d x[j]|``: how much sample i's score moves with sample j.
    A per-sample network has ``M`` diagonal; BatchNorm with ``training=True`` fills the off-diagonal."""
    xt = to_tensor(x)
    with _KeepMoving(critic):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = tf.reshape(critic(xt, training=train_mode), (-1,))
        jac = tape.jacobian(out, xt)  # (n, n, d)
    return to_numpy(tf.norm(jac, axis=2))


def d_scores(D, real, fake, mixed: bool) -> tuple[np.ndarray, np.ndarray]:
    """A discriminator's ``training=True`` scores for ``real`` and ``fake`` batches, fed as two
    separate calls (``mixed=False``: each batch normalised by its own statistics) or as one
    concatenated batch (``mixed=True``). D's moving statistics do not move."""
    r, f = to_tensor(real), to_tensor(fake)
    with _KeepMoving(D):
        if mixed:
            s = to_numpy(tf.reshape(D(tf.concat([r, f], 0), training=True), (-1,)))
            return s[: len(real)], s[len(real):]
        return (to_numpy(tf.reshape(D(r, training=True), (-1,))), to_numpy(tf.reshape(D(f, training=True), (-1,))))
