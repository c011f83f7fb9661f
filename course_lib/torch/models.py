"""Baseline networks: small MLPs for 8x8 digits (64 values) and 2-D points.

Weights use Glorot-uniform and zero biases, as Keras does by default, so the two tracks
start from the same distribution of networks.
"""
from __future__ import annotations

import torch
from torch import nn


def init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def _check_norm(norm) -> None:
    if norm not in (None, "batch", "layer") and not (callable(norm) and not isinstance(norm, str)):
        raise ValueError(f"norm must be None, 'batch', 'layer' or a callable that builds a layer from the "
                         f"number of features, got {norm!r}")


def norm_layer(norm, features: int) -> nn.Module:
    """The normalization layer for ``features`` units: ``"batch"`` (BatchNorm1d), ``"layer"`` (LayerNorm),
    or ``norm(features)`` for a callable (lesson 04 builds its generator on the learner's own layer)."""
    if norm == "batch":
        return nn.BatchNorm1d(features)
    if norm == "layer":
        return nn.LayerNorm(features)
    return norm(features)


class MLP(nn.Sequential):
    """Linear layers with an activation between them (none after the last)."""

    def __init__(self, sizes, activation=nn.ReLU, dropout: float = 0.0, norm: str | None = None):
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least input and output sizes, got {sizes!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        _check_norm(norm)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                if norm is not None:  # lesson 04: between each hidden Linear and its activation
                    layers.append(norm_layer(norm, b))
                layers.append(activation())
                if dropout > 0:  # after each hidden activation; none is added at 0 (lesson 00's nets)
                    layers.append(nn.Dropout(dropout))
        super().__init__(*layers)
        self.apply(init_weights)


class VAE(nn.Module):
    """Gaussian encoder q(z|x) and Bernoulli decoder p(x|z) that outputs logits."""

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden=(256, 128), dropout: float = 0.0):
        super().__init__()
        self.z_dim = z_dim
        self.encoder = MLP([x_dim, *hidden, 2 * z_dim], dropout=dropout)
        self.decoder = MLP([z_dim, *reversed(hidden), x_dim], dropout=dropout)

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.decoder(z)  # logits


class Generator(nn.Module):
    """Noise to data: a sigmoid output for images in [0, 1], linear for 2-D points."""

    def __init__(self, z_dim: int = 16, hidden=(128, 256), out_dim: int = 64, output: str = "sigmoid",
                 norm: str | None = None):
        super().__init__()
        if output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {output!r}")
        self.z_dim, self.output = z_dim, output
        # norm (lesson 04): None, "batch", "layer" or a callable(features) -> layer after each hidden
        # Linear, before the ReLU
        self.norm = norm
        self.net = MLP([z_dim, *hidden, out_dim], norm=norm)

    def forward(self, z):
        out = self.net(z)
        return torch.sigmoid(out) if self.output == "sigmoid" else out


class Discriminator(nn.Module):
    """Data to one logit (no sigmoid: the loss takes logits, which is numerically stable)."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128)):
        super().__init__()
        self.net = MLP([in_dim, *hidden, 1], activation=lambda: nn.LeakyReLU(0.2))

    def forward(self, x):
        return self.net(x).squeeze(1)


# --- lessons 04/05: a critic with optional normalization layers and spectral norm ---------


class Critic(nn.Module):
    """Data to one score (a WGAN critic or a GAN discriminator's logit), shape ``(n,)``.

    ``norm``: None, ``"batch"`` (BatchNorm1d), ``"layer"`` (LayerNorm) or a callable that builds
    a layer from the number of features, after each hidden Linear, before the LeakyReLU. With a
    gradient penalty use ``"layer"`` (or None): BatchNorm in training mode mixes the samples of a
    batch, so the per-sample input gradients the penalty constrains are no longer per sample.
    ``spectral=True`` wraps every Linear in ``torch.nn.utils.parametrizations.spectral_norm``
    (largest singular value ~1 per layer).
    Weights are initialised as in :class:`MLP` (Glorot-uniform, zero biases).
    """

    def __init__(self, in_dim: int = 2, hidden=(128, 128), norm: str | None = None, spectral: bool = False,
                 negative_slope: float = 0.2):
        super().__init__()
        _check_norm(norm)
        self.norm, self.spectral = norm, spectral
        sizes = [in_dim, *hidden, 1]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(a, b)
            init_weights(lin)
            layers.append(nn.utils.parametrizations.spectral_norm(lin) if spectral else lin)
            if i < len(sizes) - 2:
                if norm is not None:
                    layers.append(norm_layer(norm, b))
                layers.append(nn.LeakyReLU(negative_slope))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(1)
