"""Gradient penalties for the TensorFlow track (lessons 04 and 05): WGAN-GP, R1, gradient-norm
fields, WGAN weight clipping, and the checkers' TensorFlow side (critics built from NumPy
weights, the gradient check's wording and the check that a penalty's gradient stays finite).

The NumPy truths and the interpolation weights live in :mod:`course_lib.techniques.penalties`; the
PyTorch track has the same functions with the same signatures. Call the penalties inside the
training step's ``tf.GradientTape``: the inner tape here records the input gradient, the outer
one differentiates the penalty w.r.t. the critic's weights (nested tapes).
"""
from __future__ import annotations

import copy

import keras
import numpy as np
import tensorflow as tf

from ..exercises import lesson05_gradient_penalty as _messages
from ..exercises.gradient_check import Autodiff, NotATensor
from ..techniques import penalties as _shared
from .train import gradients, to_numpy, to_tensor

interpolation_weights = _shared.interpolation_weights  # NumPy U(0, 1), shape (n, 1): same draws in both tracks


def interpolate(real, fake, u):
    """``u * real + (1 - u) * fake`` with ``u`` of shape ``(n, 1)`` (a NumPy array or a tensor)."""
    u = tf.cast(u, real.dtype)
    return u * real + (1.0 - u) * fake


def _input_gradient(critic, x, training: bool = True):
    """Per-sample ``grad_x critic(x)``, the shape of ``x``: the gradient of the sum of the outputs.
    Recorded by any enclosing tape, so the result is differentiable w.r.t. the critic's weights.
    ``x`` is ``(n, d)``, or ``(k, n, d)`` for a stacked critic."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = critic(x, training=training)
    return tape.gradient(out, x)


def gradient_penalty(critic, real, fake, u, target: float = 1.0, eps: float = 1e-12):
    """WGAN-GP: mean over samples of ``(sqrt(|grad_x critic(x_hat)|^2 + eps) - target)^2`` at
    ``x_hat = u * real + (1 - u) * fake``. Differentiable w.r.t. the critic's weights when called
    inside a tape; ``eps`` keeps the gradient finite where the input gradient is 0. Inputs
    ``(n, d)`` give a number; a stacked critic's ``(k, n, d)`` give one per member."""
    x_hat = interpolate(tf.stop_gradient(real), tf.stop_gradient(fake), u)
    g = _input_gradient(critic, x_hat)
    norms = tf.sqrt(tf.reduce_sum(tf.square(g), axis=-1) + eps)
    return tf.reduce_mean(tf.square(norms - target), axis=-1)


def r1_penalty(critic, real, gamma: float):
    """R1: ``gamma / 2 * mean over samples of |grad_x critic(x_real)|^2``, differentiable w.r.t.
    the critic's weights when called inside a tape. One per member for a stacked critic."""
    g = _input_gradient(critic, real)
    return 0.5 * gamma * tf.reduce_mean(tf.reduce_sum(tf.square(g), axis=-1), axis=-1)


def gradient_norms(critic, x) -> np.ndarray:
    """Per-sample ``|grad_x critic(x)|`` as a NumPy array (for the gradient-norm field pictures;
    the critic runs in inference mode)."""
    x = x if tf.is_tensor(x) else to_tensor(x)
    g = _input_gradient(critic, x, training=False)
    return to_numpy(tf.sqrt(tf.reduce_sum(tf.square(g), axis=-1)))


def clip_weights(model, c: float) -> None:
    """WGAN (Arjovsky et al. 2017): clip every trainable weight to ``[-c, c]`` after each critic step."""
    for v in model.trainable_variables:
        v.assign(tf.clip_by_value(v, -c, c))


# --- the checkers' side -------------------------------------------------------------------


def critic_from_weights(spec: _shared.CriticWeights) -> keras.Sequential:
    """The Keras network described by :class:`course_lib.techniques.penalties.CriticWeights` (float32)."""
    layers = [keras.Input((spec.in_dim,))]
    for i, (W, _) in enumerate(spec.layers):
        last = i == len(spec.layers) - 1
        layers.append(keras.layers.Dense(np.shape(W)[1], activation=None if last else spec.activation))
    model = keras.Sequential(layers)
    for layer, (W, b) in zip(model.layers, spec.layers):
        layer.set_weights([np.asarray(W, np.float32), np.asarray(b, np.float32).reshape(-1)])
    return model


def adapt(a):
    """Checker argument conversion: weights -> a critic, arrays -> float32 tensors, numbers unchanged."""
    if isinstance(a, _shared.CriticWeights):
        return critic_from_weights(a)
    if isinstance(a, np.ndarray):
        return to_tensor(a)
    return a


# The gradient check (course_lib.exercises.gradient_check) differentiates the penalty w.r.t. the
# critic's weight matrices; a cut graph here often comes from the input gradient itself.
AUTODIFF = Autodiff(gradients, plain="float() or .numpy()",
                    cut="computed with tf.stop_gradient, through NumPy (.numpy(), then back to a tensor) or outside "
                        "the training step's tape (the inner tape that takes the input gradient must run inside it)")


def finite_at_zero_gradient_check(case):
    """An extra check: no NaN/inf in the parameter gradients where the critic's input gradient is 0."""
    def check(fn):
        try:
            grads = gradients(fn, copy.deepcopy(case), adapt, (0,), None, np.float32(1.0))[0]
        except NotATensor:
            return None  # the gradient check says so
        return _messages.NAN_AT_ZERO if any(g is not None and not np.all(np.isfinite(g)) for g in grads) else None
    return check


def result_to_numpy(t) -> np.ndarray:
    """Checker result conversion: tensors and plain numbers alike."""
    return to_numpy(t)
