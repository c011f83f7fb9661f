"""Baseline networks: small MLPs for 8x8 digits (64 values) and 2-D points.

Keras' defaults (Glorot-uniform weights, zero biases) match the PyTorch track's init.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def MLP(sizes, activation="relu", name=None) -> keras.Sequential:
    """Dense layers with an activation between them (none after the last)."""
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least input and output sizes, got {sizes!r}")
    layers = [keras.Input((sizes[0],))]
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        layers.append(keras.layers.Dense(width, activation=None if last else activation))
    return keras.Sequential(layers, name=name)


class VAE(keras.Model):
    """Gaussian encoder q(z|x) and Bernoulli decoder p(x|z) that outputs logits."""

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden=(256, 128), **kwargs):
        super().__init__(**kwargs)
        self.z_dim = z_dim
        self.encoder = MLP([x_dim, *hidden, 2 * z_dim], name="encoder")
        self.decoder = MLP([z_dim, *reversed(hidden), x_dim], name="decoder")

    def encode(self, x, training=False):
        mu, logvar = tf.split(self.encoder(x, training=training), 2, axis=1)
        return mu, logvar

    def decode(self, z, training=False):
        return self.decoder(z, training=training)  # logits

    def call(self, x, training=False):
        mu, _ = self.encode(x, training)
        return self.decode(mu, training)


class Generator(keras.Model):
    """Noise to data: a sigmoid output for images in [0, 1], linear for 2-D points."""

    def __init__(self, z_dim: int = 16, hidden=(128, 256), out_dim: int = 64, output: str = "sigmoid", **kwargs):
        super().__init__(**kwargs)
        if output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {output!r}")
        self.z_dim, self.output_kind = z_dim, output
        self.net = MLP([z_dim, *hidden, out_dim], name="net")

    def call(self, z, training=False):
        out = self.net(z, training=training)
        return tf.sigmoid(out) if self.output_kind == "sigmoid" else out


class Discriminator(keras.Model):
    """Data to one logit (no sigmoid: the loss takes logits, which is numerically stable)."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), **kwargs):
        super().__init__(**kwargs)
        self.net = MLP([in_dim, *hidden, 1], activation=keras.layers.LeakyReLU(negative_slope=0.2), name="net")

    def call(self, x, training=False):
        return tf.squeeze(self.net(x, training=training), axis=1)
