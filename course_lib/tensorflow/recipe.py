"""The full recipe in the TensorFlow track (lesson 10): R1 on the augmented reals, TTUR (a faster
discriminator), DiffAugment or ADA with the translation of lesson 06, and a moving average of the
generator, trained as one stacked network over many runs, each with its own seed and its own
settings. :class:`RunAdam` is Adam with one learning rate per run (the stack's leading axis), so
runs with and without TTUR share one stack; it computes what ``keras.optimizers.Adam`` computes
for each run. The random numbers come from NumPy in the notebook's order, as in lesson 06, so a
run draws the same numbers alone or stacked, in either track; the PyTorch track has the same names.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .. import data
from ..progress import progress
from ..runs.stacking import check_runs
from ..techniques import augmentation as _aug, recipe as _recipe
from .augment import translate
from .stacked import Stacked

TRAINED, READOUTS, run_settings, select = _recipe.TRAINED, _recipe.READOUTS, _recipe.run_settings, _recipe.select


def recipe_d_loss(D, real, fake, augment, gamma: float):
    """The reference (the exercise's answer): the non-saturating discriminator loss on augmented
    reals and fakes plus R1, ``gamma / 2 * mean |grad_x D(x)|^2`` at the augmented reals. The inner
    tape's gradient is itself recorded by any outer tape, so that the penalty trains D."""
    x = augment(real)
    with tf.GradientTape() as inner:
        inner.watch(x)
        d_real = D(x, training=True)
    grad = inner.gradient(d_real, x)  # of the sum of the outputs: per-sample gradients
    r1 = 0.5 * gamma * tf.reduce_mean(tf.reduce_sum(tf.square(grad), -1))
    return (tf.reduce_mean(tf.nn.softplus(-d_real)) + tf.reduce_mean(tf.nn.softplus(D(augment(fake), training=True)))
            + r1)


class RunAdam:
    """Adam over stacked variables (leading axis: the run) with one learning rate per run, the
    update of ``keras.optimizers.Adam`` (``eps`` added to the uncorrected square root)."""

    def __init__(self, variables, lr, betas=(0.9, 0.999), eps: float = 1e-8):
        self.variables = list(variables)
        k = int(self.variables[0].shape[0])
        self.lr = tf.constant(np.broadcast_to(np.asarray(lr, np.float32), (k,)).copy())
        self.betas, self.eps = tuple(float(b) for b in betas), float(eps)
        self.t = tf.Variable(0.0, trainable=False)
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]

    def apply_gradients(self, grads) -> None:
        self.t.assign_add(1.0)
        b1, b2 = self.betas
        for var, g, m, v in zip(self.variables, grads, self.m, self.v):
            rate = tf.reshape(self.lr * tf.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t),
                              [-1] + [1] * (len(var.shape) - 1))  # one rate per run
            m.assign_add((g - m) * (1.0 - b1))
            v.assign_add((tf.square(g) - v) * (1.0 - b2))
            var.assign_sub(m * rate / (tf.sqrt(v) + self.eps))


def train_recipe_gans(Gs, Ds, xs, seeds, steps: int, batch_size: int, lr_g: float, lr_d, gamma, augmented, betas,
                      ema_decay: float, check_every: int, p=1.0, adaptive=False, ada_target: float = 0.6,
                      ada_step: float = 0.0, ada_interval: int = 4, ada_update=_aug.ada_update, desc: str = "runs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` on ``xs[i]`` with ``seeds[i]`` as the notebook's step
    would alone: D's rate ``lr_d[i]`` (G's ``lr_g``), R1 weight ``gamma[i]`` (0: none), ``augmented[i]``
    (1: every input of D translated, in both steps), ``p[i]`` the probability of translating a sample,
    adapted by ADA's rule where ``adaptive[i]``; after every G step a moving average of G with
    ``ema_decay``. All runs step together as one stacked network. Writes the weights back; returns
    ``{"step": checkpoints, "raw": [...], "ema": [...], "p": (runs, adjustments)}``: at every
    ``check_every``-th step, the stacked generator's weights and their average (lists of arrays)."""
    Gs, Ds, xs, seeds = list(Gs), list(Ds), list(xs), list(seeds)
    check_runs(Gs, Ds, xs, seeds)
    k = len(Gs)
    per_run = [np.broadcast_to(np.asarray(v, dtype=float), (k,)).copy() for v in (lr_d, gamma, augmented, p)]
    lr_d, gamma, augmented, probs = per_run
    adaptive = np.broadcast_to(np.asarray(adaptive, dtype=bool), (k,))
    G, D = Stacked(Gs), Stacked(Ds)
    opt_g, opt_d = RunAdam(G.trainable_variables, lr_g, betas), RunAdam(D.trainable_variables, lr_d, betas)
    gam, flag = tf.constant(gamma, tf.float32), tf.constant(augmented, tf.float32)[:, None, None]
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    x_all = tf.constant(np.stack(xs))
    ema = [tf.Variable(v) for v in G.trainable_variables]
    out, signs = {"step": [], "raw": [], "ema": [], "p": []}, np.zeros(k)

    def T(x, a):
        return flag * translate(x, a) + (1.0 - flag) * x  # flags are 0 or 1: exactly one of the two

    @tf.function
    def d_step(idx, z, a):
        real = tf.gather(x_all, idx, batch_dims=1)
        fake, x = G(z), T(real, a)
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                inner.watch(x)
                d_real = D(x)
            grad = inner.gradient(d_real, x)  # of the sum of the outputs: per-sample gradients
            d_loss = (tf.reduce_mean(tf.nn.softplus(-d_real), -1) + tf.reduce_mean(tf.nn.softplus(D(T(fake, a))), -1)
                      + 0.5 * gam * tf.reduce_mean(tf.reduce_sum(tf.square(grad), -1), -1))
            total = tf.reduce_sum(d_loss)  # per-run means summed: each run gets its own gradient
        opt_d.apply_gradients(tape.gradient(total, D.trainable_variables))
        return tf.reduce_mean(tf.sign(d_real), -1)

    @tf.function
    def g_step(z, a):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.reduce_mean(tf.nn.softplus(-D(T(G(z), a))), -1))
        opt_g.apply_gradients(tape.gradient(total, G.trainable_variables))
        for e, w in zip(ema, G.trainable_variables):
            e.assign(ema_decay * e + (1.0 - ema_decay) * w)

    def draws(n):  # per run: the noise, then the offsets, kept with the run's probability
        z, a = zip(*[(data.noise(n, G.z_dim, r), _aug.draw_shifts(n, r, probs[i])) for i, r in enumerate(rngs)])
        return tf.constant(np.stack(z)), tf.constant(np.stack(a).astype(np.int32))

    for step in progress(range(1, steps + 1), desc=desc):
        idx = tf.constant(np.stack([next(b) for b in batches]))
        signs += d_step(idx, *draws(batch_size)).numpy()
        g_step(*draws(batch_size))
        if step % ada_interval == 0:
            _aug.ada_adjust(probs, signs, adaptive, ada_interval, ada_target, ada_step, ada_update)
            out["p"].append(probs.copy())
        if step % check_every == 0 or step == steps:
            out["step"].append(step)
            out["raw"].append([v.numpy() for v in G.trainable_variables])
            out["ema"].append([e.numpy() for e in ema])
    G.unstack_into(Gs), D.unstack_into(Ds)
    out["p"] = np.array(out["p"]).T.reshape(k, -1)
    return out


_HOLDERS: dict = {}


def sample_stacked(Gs, weights, n: int, seeds) -> np.ndarray:
    """``(runs, n, 64)``: run ``i``'s generator with the stacked ``weights`` (a checkpoint of
    :func:`train_recipe_gans`) on the noise of ``seeds[i]``, as ``sample_gan`` would draw it."""
    key = tuple(map(id, Gs))
    if key not in _HOLDERS:  # one stacked holder per set of runs: building it makes every run's variables
        _HOLDERS.clear()
        _HOLDERS[key] = (list(Gs), Stacked(Gs))
    G = _HOLDERS[key][1]
    for v, w in zip(G.trainable_variables, weights):
        v.assign(w)
    return G(tf.constant(np.stack([data.noise(n, G.z_dim, s) for s in seeds]))).numpy()


def generators_at(Gs, weights):
    """Copies of the models ``Gs``, copy ``i`` holding run ``i``'s slice of the stacked ``weights`` (a
    checkpoint of :func:`train_recipe_gans`): to sample from, or to compare with a run trained alone."""
    from .ensembles import copy_with, state

    holder, copies = Stacked(Gs), [copy_with(G, state(G)[0]) for G in Gs]
    for v, w in zip(holder.trainable_variables, weights):
        v.assign(w)
    holder.unstack_into(copies)
    return copies
