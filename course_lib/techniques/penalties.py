"""Gradient penalties (lessons 04 and 05), the framework-neutral part: NumPy truths, the known
mistakes and the exercise definitions. Imports neither PyTorch nor TensorFlow.

WGAN-GP (Gulrajani et al. 2017) keeps the critic approximately 1-Lipschitz by penalising
``(|grad_x D(x_hat)| - 1)^2`` at points ``x_hat = u * real + (1 - u) * fake`` on the segments
between real and fake samples, with ``u ~ U(0, 1)`` drawn once per sample. It is a *constraint
on the critic* (the Wasserstein dual needs a 1-Lipschitz critic), not a cure for exploding
gradients. R1 (Mescheder et al. 2018) penalises ``gamma / 2 * E[|grad_x D(x_real)|^2]``:
the critic should be flat on the data.

A generic critic's input gradient cannot be computed in NumPy, so the checkers use small
critics described by NumPy weights (:class:`CriticWeights`) whose input gradient is known in
closed form; each track builds the same network in its framework from these weights
(``course_lib.<track>.penalties.critic_from_weights``).

The exercises:

- ``sample_interpolation_weights(n, rng)`` draws the weights ``u`` (NumPy, shape ``(n, 1)``,
  float32). It is checked statistically (range, uniformity, shape, dtype, and that it uses
  the ``rng`` it is given), which catches weights drawn from a normal distribution.
- ``gradient_penalty(critic, real, fake, u)`` gets ``u`` as an argument, so its output is
  deterministic and compared with the truth; mistakes in the values (norm over the batch,
  penalty at the reals, squared norm, ...) get their own diagnosis, and the tracks add extra
  checks for what values cannot show: whether the penalty reaches the critic's parameters
  and whether it stays finite where the critic's input gradient is exactly zero.
- ``r1_penalty(critic, real, gamma)``, checked the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --- the NumPy helpers used by both tracks ------------------------------------------------


def interpolation_weights(n: int, seed_or_rng=None) -> np.ndarray:
    """``u ~ U(0, 1)``, one weight per sample: shape ``(n, 1)``, float32 (broadcasts over features)."""
    rng = seed_or_rng if isinstance(seed_or_rng, np.random.Generator) else np.random.default_rng(seed_or_rng)
    return rng.uniform(0.0, 1.0, size=(int(n), 1)).astype(np.float32)


def interpolate(real, fake, u):
    """``u * real + (1 - u) * fake``: with ``u`` in [0, 1] a point on the segment from fake to real."""
    return u * real + (1.0 - u) * fake


@dataclass(frozen=True, eq=False)
class CriticWeights:
    """A small critic given by NumPy weights: ``layers`` is a tuple of ``(W, b)`` with ``W`` of
    shape ``(in, out)`` (the Keras layout; PyTorch stores ``W.T``), ``activation`` ("tanh" or
    "relu") between them and none after the last layer, whose output size is 1."""
    layers: tuple
    activation: str = "tanh"

    def __post_init__(self):
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {self.activation!r}")
        if not self.layers or np.shape(self.layers[-1][0])[1] != 1:
            raise ValueError("the last layer must have one output")

    @property
    def in_dim(self) -> int:
        return int(np.shape(self.layers[0][0])[0])

    def __repr__(self) -> str:
        sizes = [self.in_dim] + [int(np.shape(W)[1]) for W, _ in self.layers]
        return f"CriticWeights(sizes={sizes}, activation={self.activation!r})"


def linear_critic(w, b: float = 0.0) -> CriticWeights:
    """``f(x) = x @ w + b``: its input gradient is ``w`` everywhere, so the gradient penalty is
    exactly ``(|w| - 1)^2`` wherever it is evaluated."""
    w = np.asarray(w, dtype=np.float64).reshape(-1, 1)
    return CriticWeights(((w, np.array([float(b)])),), activation="tanh")


def _act(h, activation):
    return np.tanh(h) if activation == "tanh" else np.maximum(h, 0.0)


def _act_grad(h, activation):
    return 1.0 - np.tanh(h) ** 2 if activation == "tanh" else (h > 0).astype(np.float64)


def critic_forward(critic: CriticWeights, x) -> np.ndarray:
    """The critic's outputs, shape ``(n,)``."""
    h = np.asarray(x, dtype=np.float64)
    for i, (W, b) in enumerate(critic.layers):
        h = h @ W + b
        if i < len(critic.layers) - 1:
            h = _act(h, critic.activation)
    return h[:, 0]


def critic_input_gradient(critic: CriticWeights, x) -> np.ndarray:
    """``grad_x f(x)`` for each sample (shape of ``x``), by hand-written backpropagation."""
    h, pre = np.asarray(x, dtype=np.float64), []
    for W, b in critic.layers[:-1]:
        z = h @ W + b
        pre.append(z)
        h = _act(z, critic.activation)
    g = np.broadcast_to(critic.layers[-1][0][:, 0], h.shape)
    for (W, _), z in zip(reversed(critic.layers[:-1]), reversed(pre)):
        g = (g * _act_grad(z, critic.activation)) @ W.T
    return np.array(g)


def gradient_penalty_truth(critic: CriticWeights, real, fake, u, target: float = 1.0, eps: float = 1e-12) -> float:
    """Mean over samples of ``(sqrt(|grad_x f(x_hat)|^2 + eps) - target)^2`` at the interpolates."""
    g = critic_input_gradient(critic, interpolate(np.asarray(real, np.float64), np.asarray(fake, np.float64),
                                                  np.asarray(u, np.float64)))
    norms = np.sqrt((g ** 2).sum(axis=1) + eps)
    return float(np.mean((norms - target) ** 2))


def r1_truth(critic: CriticWeights, real, gamma: float) -> float:
    """``gamma / 2 * mean over samples of |grad_x f(x_real)|^2``."""
    g = critic_input_gradient(critic, real)
    return float(0.5 * gamma * np.mean((g ** 2).sum(axis=1)))
