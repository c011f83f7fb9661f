"""Baseline networks: small MLPs for 8x8 digits (64 values) and 2-D points.

Keras' defaults (Glorot-uniform weights, zero biases) match the PyTorch track's init.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def _check_norm(norm) -> None:
    if norm not in (None, "batch", "layer") and not (callable(norm) and not isinstance(norm, str)):
        raise ValueError(f"norm must be None, 'batch', 'layer' or a callable that builds a layer from the "
                         f"number of features, got {norm!r}")


def norm_layer(norm, features: int) -> keras.layers.Layer:
    """The normalization layer for ``features`` units, with PyTorch's defaults: ``"batch"``
    (BatchNormalization, momentum 0.9 = torch's 0.1, epsilon 1e-5), ``"layer"`` (:class:`LayerNorm`),
    or ``norm(features)`` for a callable (lesson 04 builds its generator on the learner's own layer)."""
    if norm == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    if norm == "layer":
        return LayerNorm(epsilon=1e-5)
    return norm(features)


def MLP(sizes, activation="relu", name=None, dropout: float = 0.0, norm: str | None = None) -> keras.Sequential:
    """Dense layers with an activation between them (none after the last), and optionally
    dropout after each hidden activation (none is added at ``dropout=0``). ``norm`` (lesson 04):
    None, ``"batch"``, ``"layer"`` or a callable that builds a layer from the number of features,
    between each hidden Dense and its activation (see :func:`norm_layer`)."""
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least input and output sizes, got {sizes!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    _check_norm(norm)
    layers = [keras.Input((sizes[0],))]
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        if norm is not None and not last:
            layers.append(keras.layers.Dense(width))
            layers.append(norm_layer(norm, width))
            layers.append(keras.layers.Activation(activation) if isinstance(activation, str) else activation)
            if dropout > 0:
                layers.append(keras.layers.Dropout(dropout))
            continue
        layers.append(keras.layers.Dense(width, activation=None if last else activation))
        if dropout > 0 and not last:
            layers.append(keras.layers.Dropout(dropout))
    return keras.Sequential(layers, name=name)


class VAE(keras.Model):
    """Gaussian encoder q(z|x) and Bernoulli decoder p(x|z) that outputs logits."""

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden=(256, 128), dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.z_dim = z_dim
        self.encoder = MLP([x_dim, *hidden, 2 * z_dim], name="encoder", dropout=dropout)
        self.decoder = MLP([z_dim, *reversed(hidden), x_dim], name="decoder", dropout=dropout)

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

    def __init__(self, z_dim: int = 16, hidden=(128, 256), out_dim: int = 64, output: str = "sigmoid",
                 norm: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {output!r}")
        self.z_dim, self.output_kind = z_dim, output
        # norm (lesson 04): None, "batch", "layer" or a callable(features) -> layer after each hidden
        # Dense, before the ReLU
        self.norm_kind = norm
        self.net = MLP([z_dim, *hidden, out_dim], name="net", norm=norm)

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


# --- layer normalization with exact second derivatives -----------------------------------


class LayerNorm(keras.layers.Layer):
    """Layer normalization over the last axis with a learned scale and shift, as
    ``torch.nn.LayerNorm``. Keras' ``LayerNormalization`` computes the variance around a
    ``stop_gradient`` of the mean (``tf.nn.moments``): exact for gradients, but not for gradients
    of gradients, which a gradient penalty takes. On a digits critic its penalty gradients were
    off by up to 2% (measured against finite differences, where PyTorch's agree); this layer
    differentiates the plain formula and is exact at every order."""

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, x):
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        var = tf.reduce_mean(tf.square(x - mean), axis=-1, keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + self.epsilon) * self.gamma + self.beta


# --- spectral normalization, as PyTorch does it ------------------------------------------


class SpectralDense(keras.layers.Layer):
    """A Dense layer that uses ``W / sigma(W)``, ``sigma`` its largest singular value.

    Same algorithm as PyTorch's ``parametrizations.spectral_norm``: the trained variable is the
    raw kernel, ``sigma`` comes from vectors ``u, v`` refined by one power iteration per call
    with ``training=True`` (15 at build time) and held constant in the gradient, so gradients
    flow through ``sigma``; inference reuses the stored estimate. ``keras.layers.
    SpectralNormalization`` differs: it *overwrites* the kernel with ``W / sigma`` on each
    training call, so no gradient flows through ``sigma`` and the optimizer updates an already
    normalised matrix. With it, the two tracks of lesson 01 trained different discriminators.
    """

    def __init__(self, units: int, power_iterations: int = 1, eps: float = 1e-12, **kwargs):
        super().__init__(**kwargs)
        self.units, self.power_iterations, self.eps = int(units), int(power_iterations), eps

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(n_in, self.units), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.u = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=False, name="u")
        self.v = self.add_weight(shape=(n_in,), initializer="random_normal", trainable=False, name="v")
        self.u.assign(tf.math.l2_normalize(self.u, epsilon=self.eps))
        self._power_iteration(15)

    def _power_iteration(self, n: int) -> None:
        # With W of shape (in, out) = PyTorch's weight transposed: v = W u, u = W^T v, normalised.
        u = self.u.value
        v = self.v.value
        for _ in range(n):
            v = tf.math.l2_normalize(tf.linalg.matvec(self.kernel, u), epsilon=self.eps)
            u = tf.math.l2_normalize(tf.linalg.matvec(self.kernel, v, transpose_a=True), epsilon=self.eps)
        self.u.assign(u)
        self.v.assign(v)

    def sigma(self):
        u, v = tf.stop_gradient(self.u.value), tf.stop_gradient(self.v.value)
        return tf.tensordot(v, tf.linalg.matvec(self.kernel, u), axes=1)

    def normalized_kernel(self):
        return self.kernel / self.sigma()

    def call(self, x, training=False):
        if training and self.power_iterations:
            self._power_iteration(self.power_iterations)
        return tf.matmul(x, self.normalized_kernel()) + self.bias


def dense(units: int, spectral: bool = False) -> keras.layers.Layer:
    """A Dense layer, spectrally normalised the PyTorch way when ``spectral``."""
    return SpectralDense(units) if spectral else keras.layers.Dense(units)


# --- lessons 04/05: a critic with optional normalization layers and spectral norm ---------


class Critic(keras.Model):
    """Data to one score (a WGAN critic or a GAN discriminator's logit), shape ``(n,)``.

    ``norm``: None, ``"batch"`` (BatchNormalization), ``"layer"`` (:class:`LayerNorm`) or a callable
    that builds a layer from the number of features (:func:`norm_layer`), after each hidden Dense,
    before the LeakyReLU; epsilon and momentum match PyTorch's defaults. With
    a gradient penalty use ``"layer"`` (or None): BatchNorm in training mode mixes the samples of
    a batch, so the per-sample input gradients the penalty constrains are no longer per sample.
    ``spectral=True`` uses :class:`SpectralDense` layers (PyTorch's spectral norm algorithm).
    """

    def __init__(self, in_dim: int = 2, hidden=(128, 128), norm: str | None = None, spectral: bool = False,
                 negative_slope: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        _check_norm(norm)
        self.norm_kind, self.spectral = norm, spectral
        sizes = [in_dim, *hidden, 1]
        layers = [keras.Input((in_dim,))]
        for i, width in enumerate(sizes[1:]):
            layers.append(dense(width, spectral))
            if i < len(sizes) - 2:
                if norm is not None:
                    layers.append(norm_layer(norm, width))
                layers.append(keras.layers.LeakyReLU(negative_slope=negative_slope))
        self.net = keras.Sequential(layers, name="net")

    def call(self, x, training=False):
        return tf.squeeze(self.net(x, training=training), axis=1)
