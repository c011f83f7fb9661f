"""Ensembles of generative models (lesson 09), framework-neutral NumPy truths: the exponential
moving average of a model's state (and its closed form), the log-mean-exp that combines
ensemble members' log-likelihoods, and what mixtures of generators need (which member makes
which sample). Both tracks' code is tested against these."""
from __future__ import annotations

import numpy as np


def ema_update(average, current, decay: float, is_buffer):
    """One update of a moving average of a model's state. ``current``: the model's arrays now
    (weights and buffers); ``is_buffer[i]``: True where ``current[i]`` is a buffer (BatchNorm's
    running statistics), which is copied, not averaged; ``average``: the previous average, or
    None before the first update, when the average starts as a copy of ``current``."""
    if average is None:
        return tuple(np.array(w, dtype=np.float64) for w in current)
    return tuple(np.array(w, dtype=np.float64) if buf else decay * np.asarray(a, np.float64)
                 + (1.0 - decay) * np.asarray(w, np.float64) for a, w, buf in zip(average, current, is_buffer))


def ema_closed_form(w0, weights, decay: float):
    """The average after ``len(weights)`` updates that started from ``w0`` (the copy made at the
    first call): ``decay^n w0 + sum_t (1 - decay) decay^(n - t) weights[t - 1]``. For constant
    weights ``w`` this is ``w + decay^n (w0 - w)``."""
    weights = np.asarray(weights, dtype=np.float64)
    n = len(weights)
    coef = (1.0 - decay) * decay ** np.arange(n - 1, -1, -1)  # weights[t - 1] counts (1 - decay) decay^(n - t)
    return decay ** n * np.asarray(w0, np.float64) + np.tensordot(coef, weights, axes=1)


def log_mean_exp(values, axis: int = 0):
    """``log(mean(exp(values)))`` along ``axis`` without overflow or underflow: the largest value is
    taken out first, so at -1000 nats it is still exact."""
    values = np.asarray(values, dtype=np.float64)
    top = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.mean(np.exp(values - top), axis=axis))


def ensemble_log_likelihood(member_log_likelihoods):
    """The log-likelihood of an equal-weight ensemble of K models, per example: ``member_log_likelihoods``
    is ``(K, n)``, ``log p_k(x_i)``; the ensemble's density is the mean of the members' densities, so
    its log is ``logsumexp_k - log K``."""
    return log_mean_exp(member_log_likelihoods, axis=0)


def member_counts(n: int, k: int) -> list[int]:
    """How many of ``n`` samples each of ``k`` mixture members makes, as equal as possible (the first
    ``n % k`` members make one more): a uniform mixture, sampled without the noise of a draw per sample."""
    return [n // k + (i < n % k) for i in range(k)]


def cosine_restarts(step: int, cycle: int, lr: float) -> float:
    """Snapshot ensembles' rate (Huang et al. 2017): cosine from ``lr`` to 0 within each cycle of
    ``cycle`` steps, restarting at ``lr``; ``step`` counts from 0. A snapshot is taken at each cycle's end."""
    t = (step % cycle) / cycle
    return 0.5 * lr * (1.0 + np.cos(np.pi * t))
