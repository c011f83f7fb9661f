"""Batch normalization in NumPy (lesson 04): the forward pass in training mode with the
running-statistics update in PyTorch's convention, LayerNorm, the momentum conventions of
PyTorch and Keras, and the exercises' truths and known mistakes. Imports no framework.

PyTorch's ``BatchNorm1d(momentum=m)`` updates ``running = (1 - m) * running + m * batch``: ``m``
is the weight of the *new* batch (default 0.1). Keras' ``BatchNormalization(momentum=k)``
updates ``moving = k * moving + (1 - k) * batch``: ``k`` is the weight of the *old* value
(default 0.99). The same behaviour is ``k = 1 - m``. Both normalise a training batch with its
*biased* variance; PyTorch stores the *unbiased* batch variance in ``running_var``, Keras the
biased one.
"""
from __future__ import annotations

import numpy as np


def batchnorm_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """BatchNorm1d in training mode, PyTorch's convention. ``x``: ``(n, features)``.

    Returns ``(y, new_running_mean, new_running_var)``: ``y`` normalised with the batch's mean
    and *biased* variance; the running variance is updated with the *unbiased* one.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0)
    y = gamma * (x - mean) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * np.asarray(running_mean) + momentum * mean
    new_var = (1 - momentum) * np.asarray(running_var) + momentum * var * n / (n - 1)
    return y, new_mean, new_var


def batchnorm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """BatchNorm in inference mode: normalise with the running statistics (no batch statistics)."""
    return gamma * (np.asarray(x, np.float64) - running_mean) / np.sqrt(running_var + eps) + beta


def layernorm(x, gamma, beta, eps=1e-5):
    """LayerNorm: each sample normalised over its own features (biased variance), then scaled."""
    x = np.asarray(x, dtype=np.float64)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def keras_momentum(torch_momentum: float) -> float:
    """The Keras ``momentum`` that behaves like PyTorch's ``momentum`` (and the reverse)."""
    return 1.0 - torch_momentum


torch_momentum = keras_momentum  # the conversion is its own inverse


def running_means(batch_means, momentum: float, start: float = 0.0, convention: str = "torch") -> np.ndarray:
    """The running mean after each batch, starting from ``start`` (both frameworks start at 0).
    ``convention="torch"``: ``momentum`` weighs the new batch; ``"keras"``: it weighs the old value."""
    if convention not in ("torch", "keras"):
        raise ValueError(f"convention must be 'torch' or 'keras', got {convention!r}")
    new_weight = momentum if convention == "torch" else 1.0 - momentum
    out, r = [], float(start)
    for m in np.asarray(batch_means, dtype=np.float64):
        r = (1.0 - new_weight) * r + new_weight * m
        out.append(r)
    return np.array(out)


def steps_to_converge(momentum: float, fraction: float = 0.99) -> int:
    """Batches until a running mean started at 0 has covered ``fraction`` of a constant target
    (PyTorch convention): the smallest k with ``1 - (1 - momentum)**k >= fraction``."""
    return int(np.ceil(np.log(1.0 - fraction) / np.log(1.0 - momentum)))


def momentum_batches(n_batches: int = 200, batch_size: int = 32, loc: float = 3.0, scale: float = 2.0,
                     seed: int = 0) -> np.ndarray:
    """Fixed data for the momentum table: ``n_batches`` batches of one feature, N(loc, scale^2)."""
    rng = np.random.default_rng(seed)
    return rng.normal(loc, scale, size=(n_batches, batch_size, 1)).astype(np.float32)
