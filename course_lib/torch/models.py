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


class MLP(nn.Sequential):
    """Linear layers with an activation between them (none after the last)."""

    def __init__(self, sizes, activation=nn.ReLU):
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least input and output sizes, got {sizes!r}")
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)
        self.apply(init_weights)


class VAE(nn.Module):
    """Gaussian encoder q(z|x) and Bernoulli decoder p(x|z) that outputs logits."""

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden=(256, 128)):
        super().__init__()
        self.z_dim = z_dim
        self.encoder = MLP([x_dim, *hidden, 2 * z_dim])
        self.decoder = MLP([z_dim, *reversed(hidden), x_dim])

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.decoder(z)  # logits


class Generator(nn.Module):
    """Noise to data: a sigmoid output for images in [0, 1], linear for 2-D points."""

    def __init__(self, z_dim: int = 16, hidden=(128, 256), out_dim: int = 64, output: str = "sigmoid"):
        super().__init__()
        if output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {output!r}")
        self.z_dim, self.output = z_dim, output
        self.net = MLP([z_dim, *hidden, out_dim])

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
