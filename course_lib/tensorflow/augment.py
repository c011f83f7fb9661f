"""Data augmentation for GANs in the TensorFlow track (lesson 06): the differentiable translation,
the 2-D jitter, and :func:`train_augmented_gans`, which trains several runs (seeds x arms) at once
as one stacked network, each with its own arm (which inputs of the discriminator are augmented)
and, for ADA, its own adaptive probability ``p``.

The arms, as flags ``(reals, fakes in D's step, fakes in G's step)``: ``"none"`` (0, 0, 0),
``"reals only"`` (1, 0, 0), ``"D step only"`` (1, 1, 0), ``"DiffAugment"`` (1, 1, 1) and
``"ADA"`` (DiffAugment with ``p`` adjusted by ADA's rule). The random numbers come from NumPy
(:mod:`course_lib.techniques.augmentation`) in the order of the notebook's loop, so a run gives
the same draws alone or stacked, in either track. The PyTorch track has the same names.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import data
from ..progress import progress
from ..runs.stacking import check_runs
from ..techniques import augmentation as _aug
from .stacked import Stacked

ARMS = {"none": (0, 0, 0), "reals only": (1, 0, 0), "D step only": (1, 1, 0), "DiffAugment": (1, 1, 1),
        "ADA": (1, 1, 1)}
SIDE = _aug.SIDE


def translate(x, shifts):
    """Each image of ``x`` (``(..., 64)``) moved by its own integer ``shifts`` (``(..., 2)``: rows down,
    columns right) with zero fill: pixel ``(r, c)`` gathers ``(r - dy, c - dx)`` and is zeroed where
    that lies outside the frame. Differentiable with respect to ``x``; any leading axes."""
    shifts = tf.cast(shifts, tf.int32)
    r = tf.range(SIDE)
    rows, cols = r - shifts[..., :1], r - shifts[..., 1:]  # (..., 8) source rows and columns
    inside = (((rows >= 0) & (rows < SIDE))[..., :, None]) & (((cols >= 0) & (cols < SIDE))[..., None, :])
    index = tf.clip_by_value(rows, 0, SIDE - 1)[..., :, None] * SIDE + tf.clip_by_value(cols, 0, SIDE - 1)[..., None, :]
    lead = tf.shape(index)[:-2]
    out = tf.gather(x, tf.reshape(index, tf.concat([lead, [SIDE * SIDE]], 0)), batch_dims=len(x.shape) - 1)
    return out * tf.cast(tf.reshape(inside, tf.concat([lead, [SIDE * SIDE]], 0)), x.dtype)


def jitter(x, eps, sigma: float):
    """``x + sigma * eps``: the 2-D augmentation (differentiable with respect to ``x``)."""
    return x + sigma * tf.cast(eps, x.dtype)


def discriminator_loss(D, real, fake, augment):
    """DiffAugment's discriminator loss on logits, every input augmented:
    ``mean softplus(-D(augment(real))) + mean softplus(D(augment(fake)))``."""
    return (tf.reduce_mean(tf.nn.softplus(-D(augment(real), training=True)))
            + tf.reduce_mean(tf.nn.softplus(D(augment(fake), training=True))))


def _augment(kind, sigma):
    return translate if kind == "translate" else (lambda x, a: jitter(x, a, sigma))


def _draw(kind, n, rng, p, z_dim):
    """One step's draws in the notebook's order: the noise, then the augmentation's numbers."""
    z = data.noise(n, z_dim, rng)
    a = _aug.draw_shifts(n, rng, p).astype(np.int32) if kind == "translate" else _aug.draw_jitter(n, rng)
    return z, a


def _where(flag, augmented, x):
    return flag * augmented + (1.0 - flag) * x  # flags are 0 or 1: exactly one of the two


def train_augmented_gans(Gs, Ds, xs, seeds, arms, steps: int, batch_size: int, lr: float, betas, kind="translate",
                         sigma: float = 0.0, p: float = 1.0, ada_target: float = 0.6, ada_step: float = 0.0,
                         ada_interval: int = 4, ada_update=_aug.ada_update, desc: str = "runs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` (non-saturating GAN, Adam) on ``xs[i]`` with
    ``seeds[i]`` and arm ``arms[i]``, as the notebook's step would alone; all runs step together as
    one stacked network. ``kind``: ``"translate"`` (digits) or ``"jitter"`` (2-D, ``sigma``).
    ``p``: the probability of augmenting a sample, one for all runs or one per run. ADA runs start
    there and adapt it every ``ada_interval`` D steps with ``ada_update(p, r_t, ada_target,
    ada_step)``, the learner's function or the reference. Writes the weights back; returns
    ``{"step": [...], "p": (k, checks)}``, every run's p after each adjustment."""
    Gs, Ds, xs, seeds, arms = list(Gs), list(Ds), list(xs), list(seeds), list(arms)
    check_runs(Gs, Ds, xs, seeds)
    if len(arms) != len(Gs) or any(a not in ARMS for a in arms):
        raise ValueError(f"need one arm per run from {list(ARMS)}, got {arms}")
    G, D = Stacked(Gs), Stacked(Ds)
    flags = tf.constant([ARMS[a] for a in arms], tf.float32)[:, :, None, None]
    adaptive = np.array([a == "ADA" for a in arms])
    probs = np.broadcast_to(np.asarray(p, dtype=float), (len(arms),)).copy()  # one p per run, or one for all
    # epsilon 1e-8 as in PyTorch (Keras: 1e-7), so the tracks take the same steps
    opt_g = keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt_d = keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt_g.build(G.trainable_variables), opt_d.build(D.trainable_variables)
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    x_all, augment = tf.constant(np.stack(xs)), _augment(kind, sigma)
    history, signs = {"step": [], "p": []}, np.zeros(len(arms))

    @tf.function
    def d_step(idx, z, a):
        real = tf.gather(x_all, idx, batch_dims=1)
        fake = G(z)
        with tf.GradientTape() as tape:
            d_real = D(_where(flags[:, 0], augment(real, a), real))
            d_fake = D(_where(flags[:, 1], augment(fake, a), fake))
            d_loss = tf.reduce_mean(tf.nn.softplus(-d_real), -1) + tf.reduce_mean(tf.nn.softplus(d_fake), -1)
            total = tf.reduce_sum(d_loss)  # per-run means summed: each run gets its own gradient
        opt_d.apply_gradients(zip(tape.gradient(total, D.trainable_variables), D.trainable_variables))
        return tf.reduce_mean(tf.sign(d_real), -1)

    @tf.function
    def g_step(z, a):
        with tf.GradientTape() as tape:
            fake = G(z)
            g_loss = tf.reduce_mean(tf.nn.softplus(-D(_where(flags[:, 2], augment(fake, a), fake))), -1)
            total = tf.reduce_sum(g_loss)
        opt_g.apply_gradients(zip(tape.gradient(total, G.trainable_variables), G.trainable_variables))

    def draws(n):
        z, a = zip(*[_draw(kind, n, rng, probs[i], G.z_dim) for i, rng in enumerate(rngs)])
        return tf.constant(np.stack(z)), tf.constant(np.stack(a))

    for step in progress(range(1, steps + 1), desc=desc):
        idx = tf.constant(np.stack([next(b) for b in batches]))
        signs += d_step(idx, *draws(batch_size)).numpy()
        g_step(*draws(batch_size))
        if step % ada_interval == 0:
            _aug.ada_adjust(probs, signs, adaptive, ada_interval, ada_target, ada_step, ada_update)
            history["step"].append(step), history["p"].append(probs.copy())
    G.unstack_into(Gs), D.unstack_into(Ds)
    history["p"] = np.array(history["p"]).T.reshape(len(arms), -1)
    return history


def discriminator_gap(D, x_train, x_held_out) -> float:
    """The discriminator's overfitting gap: its mean probability "real" on training reals minus on
    held-out reals (no augmentation). Near 0: it cannot tell them apart; large: it memorised."""
    p = [float(tf.reduce_mean(tf.sigmoid(D(tf.constant(x), training=False)))) for x in (x_train, x_held_out)]
    return p[0] - p[1]


# --- the checkers' side -------------------------------------------------------------------


def adapt(a):
    """Checker argument conversion: a discriminator's NumPy weights -> a network, float arrays ->
    float32 tensors, integer arrays (offsets) -> int32 tensors, fixed offsets -> a function of ``x``."""
    from ..exercises.lesson06_augmentation import AugmentWith
    from ..techniques.penalties import CriticWeights
    from .penalties import critic_from_weights

    if isinstance(a, CriticWeights):
        return critic_from_weights(a)
    if isinstance(a, AugmentWith):
        shifts = tf.constant(np.asarray(a.shifts, np.int32))
        return lambda x: translate(x, shifts)
    if isinstance(a, np.ndarray):
        return tf.constant(a.astype(np.int32)) if a.dtype.kind in "iu" else tf.convert_to_tensor(a.astype(np.float32))
    return a
