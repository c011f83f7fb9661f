"""Gradient penalties for the PyTorch track (lessons 04 and 05): WGAN-GP, R1, gradient-norm
fields, WGAN weight clipping, and the checkers' PyTorch side (critics built from NumPy weights,
the gradient check's wording and the check that a penalty's gradient stays finite).

The NumPy truths and the interpolation weights live in :mod:`course_lib.techniques.penalties`; the
TensorFlow track has the same functions with the same signatures.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..exercises import lesson05_gradient_penalty as _messages
from ..exercises.gradient_check import Autodiff, NotATensor
from ..techniques import penalties as _shared
from .train import DEVICE, gradients, to_numpy, to_tensor

interpolation_weights = _shared.interpolation_weights  # NumPy U(0, 1), shape (n, 1): same draws in both tracks


def interpolate(real, fake, u):
    """``u * real + (1 - u) * fake`` with ``u`` of shape ``(n, 1)`` (a NumPy array or a tensor)."""
    u = torch.as_tensor(u, dtype=real.dtype, device=real.device)
    return u * real + (1.0 - u) * fake


def _input_gradient(critic, x, create_graph: bool = True):
    """Per-sample ``grad_x critic(x)``, the shape of ``x``: the gradient of the *sum* of the outputs
    (sample i's output depends only on sample i unless the critic mixes samples, e.g. BatchNorm in
    training mode). ``x`` is ``(n, d)``, or ``(k, n, d)`` for a stacked critic."""
    x = x.detach().requires_grad_(True)
    out = critic(x)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=create_graph)
    return g


def gradient_penalty(critic, real, fake, u, target: float = 1.0, eps: float = 1e-12):
    """WGAN-GP: mean over samples of ``(sqrt(|grad_x critic(x_hat)|^2 + eps) - target)^2`` at
    ``x_hat = u * real + (1 - u) * fake``. Differentiable w.r.t. the critic's parameters
    (``create_graph=True``); ``eps`` keeps the gradient finite where the input gradient is 0.
    Inputs ``(n, d)`` give a number; a stacked critic's ``(k, n, d)`` give one per member."""
    x_hat = interpolate(real.detach(), fake.detach(), u)
    g = _input_gradient(critic, x_hat)
    norms = torch.sqrt((g ** 2).sum(dim=-1) + eps)
    return ((norms - target) ** 2).mean(dim=-1)


def r1_penalty(critic, real, gamma: float):
    """R1: ``gamma / 2 * mean over samples of |grad_x critic(x_real)|^2``, differentiable w.r.t.
    the critic's parameters. One per member for a stacked critic's ``(k, n, d)`` inputs."""
    g = _input_gradient(critic, real)
    return 0.5 * gamma * (g ** 2).sum(dim=-1).mean(dim=-1)


def gradient_norms(critic, x) -> np.ndarray:
    """Per-sample ``|grad_x critic(x)|`` as a NumPy array (for the gradient-norm field pictures;
    the critic runs in eval mode, as in the TensorFlow track, and its mode is restored)."""
    x = x if torch.is_tensor(x) else to_tensor(x)
    was_training = critic.training
    critic.eval()
    try:
        return to_numpy(torch.sqrt((_input_gradient(critic, x, create_graph=False) ** 2).sum(dim=-1)))
    finally:
        critic.train(was_training)


@torch.no_grad()
def clip_weights(model: nn.Module, c: float) -> None:
    """WGAN (Arjovsky et al. 2017): clamp every parameter to ``[-c, c]`` after each critic step."""
    for p in model.parameters():
        p.clamp_(-c, c)


# --- the checkers' side -------------------------------------------------------------------


def critic_from_weights(spec: _shared.CriticWeights) -> nn.Module:
    """The PyTorch network described by :class:`course_lib.techniques.penalties.CriticWeights` (float32)."""
    layers = []
    for i, (W, b) in enumerate(spec.layers):
        W = np.asarray(W, np.float32)
        lin = nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(np.asarray(b, np.float32).reshape(-1)))
        layers.append(lin)
        if i < len(spec.layers) - 1:
            layers.append(nn.Tanh() if spec.activation == "tanh" else nn.ReLU())
    return nn.Sequential(*layers).to(DEVICE)


def adapt(a):
    """Checker argument conversion: weights -> a critic, arrays -> float32 tensors, numbers unchanged."""
    if isinstance(a, _shared.CriticWeights):
        return critic_from_weights(a)
    if isinstance(a, np.ndarray):
        return to_tensor(a)
    return a


# The gradient check (course_lib.exercises.gradient_check) differentiates the penalty w.r.t. the
# critic's weight matrices; a cut graph here often comes from the input gradient itself.
AUTODIFF = Autodiff(gradients, plain=".item(), float() or .numpy()",
                    cut="computed without create_graph=True in torch.autograd.grad (the input gradient must itself "
                        "be differentiable), under torch.no_grad(), with .detach() or through NumPy (.numpy(), then "
                        "back to a tensor)")


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
    """Checker result conversion: tensors (with or without a graph) and plain numbers alike."""
    return to_numpy(t) if torch.is_tensor(t) else np.asarray(t)
