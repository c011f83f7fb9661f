"""Training loops, losses and sampling for the TensorFlow track.

Each training step is one compiled ``tf.function``. The data set lives on the device as
one tensor and a step gathers its batch by index, so there is no per-step input pipeline.
Batch indices come from :func:`course_lib.data.batch_indices` and noise from NumPy, so
both tracks see the same batches and the same noise for a given seed.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import data
from ..exercises.gradient_check import Autodiff, NotATensor
from ..progress import progress
from ..runs.history import RunningHistory

DEVICE = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def to_numpy(t) -> np.ndarray:
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def to_tensor(a) -> tf.Tensor:
    return tf.convert_to_tensor(np.asarray(a, dtype=np.float32))


def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(logvar / 2): differentiable in mu and logvar."""
    return mu + tf.exp(0.5 * logvar) * eps


def negative_elbo(x, logits, mu, logvar):
    """Per example, in nats: Bernoulli reconstruction (summed over pixels) + KL(q(z|x) || N(0, I))."""
    rec = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=1)
    kl = -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mu) - tf.exp(logvar), axis=1)
    return rec + kl


def _vae_loss(model, x, eps, reparam, nelbo, training):
    mu, logvar = model.encode(x, training=training)
    return nelbo(x, model.decode(reparam(mu, logvar, eps), training=training), mu, logvar)


def test_negative_elbo(model, x, seed: int = 0, n_samples: int = 10) -> float:
    """Mean negative ELBO in nats over ``x``, averaged over ``n_samples`` noise draws."""
    x = to_tensor(x)
    rng = np.random.default_rng(seed)
    vals = [float(tf.reduce_mean(_vae_loss(model, x, to_tensor(data.noise(len(x), model.z_dim, rng)),
                                           reparameterize, negative_elbo, training=False)))
            for _ in range(n_samples)]
    return float(np.mean(vals))


def adam(lr, betas=(0.9, 0.999), **kwargs) -> keras.optimizers.Adam:
    # epsilon=1e-8 as in PyTorch (Keras' default is 1e-7), so both tracks match.
    return keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8, **kwargs)


def _apply(opt, tape, loss, variables):
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))


def train_vae(model, x_train, steps: int, batch_size: int, lr: float, seed: int, x_val=None,
              eval_every: int = 250, reparameterize_fn=None, negative_elbo_fn=None, optimizer=None,
              desc: str = "VAE", on_eval=None, record_lr: bool = False, penalty_fn=None):
    """Minimise the mean negative ELBO with Adam. Returns a history dict.

    ``history["step"]``, ``["loss"]`` (mean training nELBO since the last record) and, when
    ``x_val`` is given, ``["val_loss"]`` (validation nELBO). ``reparameterize_fn`` and
    ``negative_elbo_fn`` let a notebook train with the learner's own functions.
    A schedule travels inside ``optimizer`` (a ``LearningRateSchedule`` as its learning rate,
    evaluated at ``optimizer.iterations``); ``on_eval(history)`` runs after each record (e.g. to
    ``optimizer.learning_rate.assign(...)`` on a plateau); ``record_lr`` adds ``history["lr"]``.
    ``penalty_fn(model)``, when given, is added to the loss that is minimised (e.g. an L2 penalty);
    ``history["loss"]`` stays the nELBO alone.
    """
    reparam = reparameterize_fn or reparameterize
    nelbo = negative_elbo_fn or negative_elbo
    x_all = to_tensor(x_train)
    opt = optimizer or adam(lr)
    opt.build(model.trainable_variables)

    @tf.function
    def step(idx, eps):
        x = tf.gather(x_all, idx)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(_vae_loss(model, x, eps, reparam, nelbo, training=True))
            objective = loss if penalty_fn is None else loss + penalty_fn(model)
        _apply(opt, tape, objective, model.trainable_variables)
        return loss

    batches = data.batch_indices(len(x_train), batch_size, seed)
    rng = np.random.default_rng(seed + 1)
    log = RunningHistory(["loss"], steps, eval_every)
    bar = progress(range(1, steps + 1), desc=desc)
    for i in bar:
        loss = step(tf.constant(next(batches)), to_tensor(data.noise(batch_size, model.z_dim, rng)))
        if log.add(i, loss=float(loss)):
            if x_val is not None:
                log.append(val_loss=test_negative_elbo(model, x_val, seed=0, n_samples=1))
            if record_lr:
                log.append(lr=float(opt.learning_rate))  # a schedule: its value at opt.iterations
            if on_eval is not None:
                on_eval(log.history)
            bar.set_postfix(loss=f"{log.last('loss'):.1f}")
    return log.history


def train_gan(G, D, x_train, steps: int, batch_size: int, lr: float, seed: int, betas=(0.5, 0.999),
              lr_d: float | None = None, eval_every: int = 250, eval_fn=None, desc: str = "GAN"):
    """Non-saturating GAN: one discriminator step, then one generator step, per batch.

    Returns ``history`` with ``step``, ``d_loss``, ``g_loss`` (means since the last record)
    and, if ``eval_fn(G) -> dict`` is given, one list per key it returns.
    """
    x_all = to_tensor(x_train)
    opt_g, opt_d = adam(lr, betas), adam(lr_d or lr, betas)
    opt_g.build(G.trainable_variables)
    opt_d.build(D.trainable_variables)

    @tf.function
    def step(idx, z):
        real = tf.gather(x_all, idx)
        # Discriminator: real -> 1, fake -> 0, written with softplus on logits (stable BCE).
        with tf.GradientTape() as tape:
            fake = G(z, training=True)
            d_loss = (tf.reduce_mean(tf.nn.softplus(-D(real, training=True)))
                      + tf.reduce_mean(tf.nn.softplus(D(fake, training=True))))
        _apply(opt_d, tape, d_loss, D.trainable_variables)
        # Generator, non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z))).
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-D(G(z, training=True), training=True)))
        _apply(opt_g, tape, g_loss, G.trainable_variables)
        return d_loss, g_loss

    batches = data.batch_indices(len(x_train), batch_size, seed)
    rng = np.random.default_rng(seed + 1)
    log = RunningHistory(["d_loss", "g_loss"], steps, eval_every)
    bar = progress(range(1, steps + 1), desc=desc)
    for i in bar:
        d_loss, g_loss = step(tf.constant(next(batches)), to_tensor(data.noise(batch_size, G.z_dim, rng)))
        if log.add(i, d_loss=float(d_loss), g_loss=float(g_loss)):
            if eval_fn is not None:
                log.append(**eval_fn(G))
            bar.set_postfix(d=f"{log.last('d_loss'):.2f}", g=f"{log.last('g_loss'):.2f}")
    return log.history


def sample_gan(G, n: int, seed: int = 0) -> np.ndarray:
    """``n`` generator samples as a NumPy array, from NumPy noise with ``seed``."""
    return to_numpy(G(to_tensor(data.noise(n, G.z_dim, seed)), training=False))


def sample_vae(model, n: int, seed: int = 0) -> np.ndarray:
    """``n`` VAE samples: the decoder's pixel means sigmoid(logits) for z ~ N(0, I)."""
    return to_numpy(tf.sigmoid(model.decode(to_tensor(data.noise(n, model.z_dim, seed)), training=False)))


# --- the checkers' side: gradients of a learner's function ---------------------------------


def gradients(fn, args, adapt, wrt, output, weights) -> dict:
    """The gradient of ``sum(weights * out)`` w.r.t. the arguments at the indices ``wrt`` (a
    network's weight matrices, or the tensors themselves, each tensor of a list), where ``out``
    is ``fn``'s result on ``adapt`` of the NumPy ``args`` (its element ``output`` if not None):
    ``{index: [array or None per tensor]}`` (see :class:`course_lib.exercises.gradient_check.Autodiff`)."""
    args = [adapt(a) for a in args]
    sources = {}
    with tf.GradientTape() as tape:  # trainable variables are watched by themselves
        for i in wrt:
            a = args[i]
            if isinstance(a, keras.layers.Layer):  # a network, e.g. a critic: its weight matrices
                sources[i] = [v for v in a.trainable_variables if len(v.shape) > 1]
            else:
                sources[i] = list(a) if isinstance(a, (list, tuple)) else [a]
                for t in sources[i]:
                    tape.watch(t)
        out = fn(*args)
        out = out[output] if output is not None and isinstance(out, (tuple, list)) else out
        if not tf.is_tensor(out):
            raise NotATensor(out)
        total = tf.reduce_sum(tf.cast(weights, out.dtype) * out)
    grads = iter(tape.gradient(total, [t for i in wrt for t in sources[i]]))
    return {i: [None if g is None else to_numpy(g) for g in (next(grads) for _ in sources[i])] for i in wrt}


# The gradient check's words for how a TensorFlow graph gets cut (course_lib.exercises.gradient_check).
AUTODIFF = Autodiff(gradients, plain="float() or .numpy()",
                    cut="computed with tf.stop_gradient, through NumPy (.numpy(), then back to a tensor) or outside "
                        "the tape (under tape.stop_recording())")
