"""Critic-based GAN training for the TensorFlow track (lesson 05): the non-saturating GAN with an
optional R1 penalty, WGAN with weight clipping and WGAN-GP, in one loop with ``n_critic``
critic steps per generator step. Each step is compiled with ``tf.function``; the penalties'
inner tape sits inside the step's outer tape (nested tapes).

Batches come from :func:`course_lib.data.batch_indices`, noise and the interpolation weights
from NumPy (one generator per run), so both tracks see the same numbers for a given seed. The
PyTorch track has :func:`train_critic_gan` with the same signature.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import critic_fields as _fields
from .. import data
from ..history import RunningHistory
from ..progress import progress
from .penalties import clip_weights, gradient_norms, gradient_penalty, interpolation_weights, r1_penalty
from .train import to_numpy, to_tensor

VARIANTS = ("gan", "wgan-clip", "wgan-gp", "gan-r1")


def _optimizer(kind, lr, betas):
    if kind == "rmsprop":  # WGAN (Arjovsky et al. 2017): RMSprop, no momentum
        return keras.optimizers.RMSprop(learning_rate=lr, rho=0.9, epsilon=1e-7)
    return keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)


def train_critic_gan(G, D, x_train, variant: str, steps: int, batch_size: int, seed: int, lr: float = 1e-4,
                     betas=(0.5, 0.9), n_critic: int = 1, weight: float = 10.0, optimizer: str = "adam",
                     eval_every: int = 250, eval_fn=None, desc: str | None = None):
    """Train ``G`` against ``D`` for ``steps`` generator steps; returns a history dict.

    ``variant``: ``"gan"`` (non-saturating loss, no penalty), ``"gan-r1"`` (the same plus R1 on the
    reals, ``gamma = weight``), ``"wgan-clip"`` (Wasserstein loss, critic weights clipped to
    ``[-weight, weight]`` after every critic step) or ``"wgan-gp"`` (Wasserstein loss plus
    ``weight`` times the gradient penalty at interpolates). ``n_critic`` critic steps (each on a
    fresh batch) precede every generator step. ``optimizer``: ``"adam"`` (``lr``, ``betas``) or
    ``"rmsprop"``. History: ``step``, ``d_loss`` (the critic's loss without the penalty),
    ``penalty``, ``g_loss`` (means since the last record) and ``eval_fn(G)``'s keys.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    x_all = to_tensor(x_train)
    opt_g, opt_d = _optimizer(optimizer, lr, betas), _optimizer(optimizer, lr, betas)
    opt_g.build(G.trainable_variables)
    opt_d.build(D.trainable_variables)
    wasserstein = variant.startswith("wgan")

    @tf.function
    def critic_step(idx, z, u):
        real = tf.gather(x_all, idx)
        fake = tf.stop_gradient(G(z, training=True))
        with tf.GradientTape() as tape:
            d_real, d_fake = D(real, training=True), D(fake, training=True)
            # Wasserstein critic: maximise E[D(real)] - E[D(fake)]; GAN: real -> 1, fake -> 0 (logits)
            d_loss = (tf.reduce_mean(d_fake) - tf.reduce_mean(d_real) if wasserstein
                      else tf.reduce_mean(tf.nn.softplus(-d_real)) + tf.reduce_mean(tf.nn.softplus(d_fake)))
            if variant == "wgan-gp":
                pen = weight * gradient_penalty(D, real, fake, u)
            elif variant == "gan-r1":
                # a fresh tensor for the inner tape to watch: watching `real` itself, which the loss above
                # also uses, made the results vary from run to run (observed with TF 2.21 on CPU)
                pen = r1_penalty(D, tf.identity(real), weight)
            else:
                pen = tf.constant(0.0)
            total = d_loss + pen
        opt_d.apply_gradients(zip(tape.gradient(total, D.trainable_variables), D.trainable_variables))
        if variant == "wgan-clip":
            clip_weights(D, weight)
        return d_loss, pen

    @tf.function
    def generator_step(z):
        with tf.GradientTape() as tape:
            d_gen = D(G(z, training=True), training=True)
            g_loss = -tf.reduce_mean(d_gen) if wasserstein else tf.reduce_mean(tf.nn.softplus(-d_gen))
        opt_g.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
        return g_loss

    batches = data.batch_indices(len(x_train), batch_size, seed)
    rng = np.random.default_rng(seed + 1)
    no_u = tf.zeros((batch_size, 1))
    log = RunningHistory(["d_loss", "penalty", "g_loss"], steps, eval_every)
    bar = progress(range(1, steps + 1), desc=desc or variant)
    for step in bar:
        for _ in range(n_critic):
            idx = next(batches)
            z = to_tensor(data.noise(len(idx), G.z_dim, rng))
            u = to_tensor(interpolation_weights(len(idx), rng)) if variant == "wgan-gp" else no_u
            d_loss, pen = critic_step(tf.constant(idx), z, u)
        g_loss = generator_step(to_tensor(data.noise(batch_size, G.z_dim, rng)))
        if log.add(step, d_loss=float(d_loss), penalty=float(pen), g_loss=float(g_loss)):
            if eval_fn is not None:
                log.append(**eval_fn(G))
            bar.set_postfix(d=f"{log.last('d_loss'):.2f}", g=f"{log.last('g_loss'):.2f}")
    return log.history


def critic_values(D, x) -> np.ndarray:
    """The critic's scores on ``x`` (NumPy in, NumPy out; inference mode)."""
    return to_numpy(D(to_tensor(x), training=False))


def critic_field(D, lim: float = 3.0, n: int = 61):
    """``(xx, yy, values, grad_norms)`` of the critic on an ``n`` x ``n`` grid over ``[-lim, lim]^2``
    (for :func:`course_lib.critic_fields.plot_field`)."""
    xx, yy, pts = _fields.grid(lim, n)
    return xx, yy, critic_values(D, pts), gradient_norms(D, pts)
