"""Critic-based GAN training for the TensorFlow track (lesson 05): the non-saturating GAN with an
optional R1 penalty, WGAN with weight clipping and WGAN-GP, in one loop with ``n_critic``
critic steps per generator step. Each step is compiled with ``tf.function``; the penalties'
inner tape sits inside the step's outer tape (nested tapes). :func:`train_critic_gans` trains
several runs (seeds, mixtures) at once as one stacked network.

Batches, noise and the interpolation weights come from NumPy (:class:`course_lib.runs.draws.RunDraws`),
so both tracks, and a run alone or stacked, see the same numbers for a given seed. The
PyTorch track has :func:`train_critic_gan` with the same signature.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..progress import progress
from ..runs.draws import RunDraws
from ..runs.history import RunningHistories, RunningHistory
from ..runs.stacking import check_runs
from ..techniques import critic_fields as _fields
from .penalties import clip_weights, gradient_norms, gradient_penalty, r1_penalty
from .stacked import Stacked
from .train import to_numpy, to_tensor

VARIANTS = ("gan", "wgan-clip", "wgan-gp", "gan-r1")


class _RMSprop(keras.optimizers.RMSprop):
    """RMSprop with PyTorch's update, ``lr * g / (sqrt(v) + eps)``: Keras divides by ``sqrt(v + eps)``.
    Where gradients are tiny, as a clipped critic's are (``v`` far below ``eps``), Keras' steps come
    out orders of magnitude smaller than PyTorch's, so the two tracks would train different models."""

    def update_step(self, gradient, variable, learning_rate):
        lr, gradient = tf.cast(learning_rate, variable.dtype), tf.cast(gradient, variable.dtype)
        velocity = self._velocities[self._get_variable_index(variable)]
        self.assign(velocity, self.rho * velocity + (1 - self.rho) * tf.square(gradient))
        self.assign_sub(variable, lr * gradient / (tf.sqrt(velocity) + self.epsilon))


def _optimizer(kind, lr, betas):
    if kind == "rmsprop":  # WGAN (Arjovsky et al. 2017): RMSprop, no momentum; PyTorch's update
        return _RMSprop(learning_rate=lr, rho=0.9, epsilon=1e-7, name="rmsprop")  # a valid scope name
    return keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)


def _train(G, D, x_all, draws, variant, steps, batch_size, lr, betas, n_critic, weight, optimizer, lr_d):
    """The loop both entry points share: an iterator of ``(step, d_loss, penalty, g_loss)`` after each
    generator step, one value per run (0-d for one model, ``(k,)`` for a stack). Losses are means
    over each run's samples (the last axis), summed over runs, so each run gets its own gradient."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    opt_g, opt_d = _optimizer(optimizer, lr, betas), _optimizer(optimizer, lr if lr_d is None else lr_d, betas)
    opt_g.build(G.trainable_variables)
    opt_d.build(D.trainable_variables)
    wasserstein = variant.startswith("wgan")
    mean = lambda t: tf.reduce_mean(t, axis=-1)  # noqa: E731  per run: () for one model, (k,) for a stack

    @tf.function
    def critic_step(idx, z, u):
        real = tf.gather(x_all, idx, batch_dims=len(idx.shape) - 1)
        fake = tf.stop_gradient(G(z, training=True))
        with tf.GradientTape() as tape:
            d_real, d_fake = D(real, training=True), D(fake, training=True)
            # Wasserstein critic: maximise E[D(real)] - E[D(fake)]; GAN: real -> 1, fake -> 0 (logits)
            d_loss = (mean(d_fake) - mean(d_real) if wasserstein
                      else mean(tf.nn.softplus(-d_real)) + mean(tf.nn.softplus(d_fake)))
            if variant == "wgan-gp":
                pen = weight * gradient_penalty(D, real, fake, u)
            elif variant == "gan-r1":
                # a fresh tensor for the inner tape to watch: watching `real` itself, which the loss above
                # also uses, made the results vary from run to run (observed with TF 2.21 on CPU)
                pen = r1_penalty(D, tf.identity(real), weight)
            else:
                pen = tf.zeros_like(d_loss)
            total = tf.reduce_sum(d_loss + pen)
        grads = tape.gradient(total, D.trainable_variables)
        # Update once everything else in the step is computed: without this, stacked R1 runs varied from
        # run to run at round-off level, then chaotically (TF 2.21 on CPU; not with one inter-op thread)
        with tf.control_dependencies(grads + [d_loss, pen]):
            opt_d.apply_gradients(zip(grads, D.trainable_variables))
        if variant == "wgan-clip":
            clip_weights(D, weight)
        return d_loss, pen

    @tf.function
    def generator_step(z):
        with tf.GradientTape() as tape:
            d_gen = D(G(z, training=True), training=True)
            g_loss = -mean(d_gen) if wasserstein else mean(tf.nn.softplus(-d_gen))
            total = tf.reduce_sum(g_loss)
        opt_g.apply_gradients(zip(tape.gradient(total, G.trainable_variables), G.trainable_variables))
        return g_loss

    def loop():  # a generator inside: bad arguments fail at the call, not at the first step
        no_u = None  # the critic step's u where no interpolation weights are drawn
        for step in range(1, steps + 1):
            for _ in range(n_critic):
                idx = draws.indices()
                n = idx.shape[-1]
                z = to_tensor(draws.noise(n))
                # the weights are drawn only where they are used, as in the PyTorch loop
                if variant == "wgan-gp":
                    u = to_tensor(draws.weights(n))
                else:
                    no_u = tf.zeros(idx.shape + (1,)) if no_u is None else no_u
                    u = no_u
                d_loss, pen = critic_step(tf.constant(idx), z, u)
            g_loss = generator_step(to_tensor(draws.noise(batch_size)))
            yield step, d_loss, pen, g_loss

    return loop()


def train_critic_gan(G, D, x_train, variant: str, steps: int, batch_size: int, seed: int, lr: float = 1e-4,
                     betas=(0.5, 0.9), n_critic: int = 1, weight: float = 10.0, optimizer: str = "adam",
                     lr_d: float | None = None, eval_every: int = 250, eval_fn=None, desc: str | None = None):
    """Train ``G`` against ``D`` for ``steps`` generator steps; returns a history dict.

    ``variant``: ``"gan"`` (non-saturating loss, no penalty), ``"gan-r1"`` (the same plus R1 on the
    reals, ``gamma = weight``), ``"wgan-clip"`` (Wasserstein loss, critic weights clipped to
    ``[-weight, weight]`` after every critic step) or ``"wgan-gp"`` (Wasserstein loss plus
    ``weight`` times the gradient penalty at interpolates). ``n_critic`` critic steps (each on a
    fresh batch) precede every generator step. ``optimizer``: ``"adam"`` (``lr``, ``betas``) or
    ``"rmsprop"``; ``lr_d``: the critic's rate when it differs from the generator's (TTUR).
    History: ``step``, ``d_loss`` (the critic's loss without the penalty), ``penalty``,
    ``g_loss`` (means since the last record) and ``eval_fn(G)``'s keys.
    """
    draws = RunDraws([len(x_train)], batch_size, [seed], G.z_dim, stacked=False)
    log = RunningHistory(["d_loss", "penalty", "g_loss"], steps, eval_every)
    loop = _train(G, D, to_tensor(x_train), draws, variant, steps, batch_size, lr, betas, n_critic, weight,
                  optimizer, lr_d)
    bar = progress(total=steps, desc=desc or variant)
    for step, d_loss, pen, g_loss in loop:
        bar.update()
        if log.add(step, d_loss=float(d_loss), penalty=float(pen), g_loss=float(g_loss)):
            if eval_fn is not None:
                log.append(**eval_fn(G))
            bar.set_postfix(d=f"{log.last('d_loss'):.2f}", g=f"{log.last('g_loss'):.2f}")
    bar.close()
    return log.history


def train_critic_gans(Gs, Ds, xs, variant: str, steps: int, batch_size: int, seeds, lr: float = 1e-4,
                      betas=(0.5, 0.9), n_critic: int = 1, weight: float = 10.0, optimizer: str = "adam",
                      lr_d: float | None = None, eval_every: int = 250, desc: str | None = None):
    """:func:`train_critic_gan` for several runs at once: run ``i`` trains ``Gs[i]`` against
    ``Ds[i]`` on ``xs[i]`` with ``seeds[i]``, as it would alone, but all runs step together as one
    :class:`~course_lib.tensorflow.stacked.Stacked` network (much faster for tiny models on a CPU).
    The trained weights are written back into ``Gs`` and ``Ds``; returns one history per run.
    Every ``xs[i]`` must have the same number of points; no ``eval_fn`` (evaluate afterwards)."""
    Gs, Ds, xs, seeds = list(Gs), list(Ds), list(xs), list(seeds)
    check_runs(Gs, Ds, xs, seeds)
    G, D = Stacked(Gs), Stacked(Ds)
    draws = RunDraws([len(x) for x in xs], batch_size, seeds, G.z_dim, stacked=True)
    logs = RunningHistories(len(Gs), ["d_loss", "penalty", "g_loss"], steps, eval_every)
    loop = _train(G, D, to_tensor(np.stack(xs)), draws, variant, steps, batch_size, lr, betas, n_critic, weight,
                  optimizer, lr_d)
    bar = progress(total=steps, desc=desc or f"{variant} x{len(Gs)}")
    for step, d_loss, pen, g_loss in loop:
        bar.update()
        if logs.add(step, d_loss=d_loss.numpy(), penalty=pen.numpy(), g_loss=g_loss.numpy()):
            bar.set_postfix(d=f"{logs.mean_last('d_loss'):.2f}", g=f"{logs.mean_last('g_loss'):.2f}")
    bar.close()
    G.unstack_into(Gs), D.unstack_into(Ds)
    return logs.histories


def critic_values(D, x) -> np.ndarray:
    """The critic's scores on ``x`` (NumPy in, NumPy out; inference mode)."""
    return to_numpy(D(to_tensor(x), training=False))


def critic_field(D, lim: float = 3.0, n: int = 61):
    """``(xx, yy, values, grad_norms)`` of the critic on an ``n`` x ``n`` grid over ``[-lim, lim]^2``
    (for :func:`course_lib.techniques.critic_fields.plot_field`)."""
    xx, yy, pts = _fields.grid(lim, n)
    return xx, yy, critic_values(D, pts), gradient_norms(D, pts)
