"""Conditional generative models for lesson 08 (multi-task learning), TensorFlow track: a generator
conditioned on a label, the two discriminators of the comparison (the label concatenated to the input,
or AC-GAN's shared trunk with a source head and a class head), a VAE whose encoder also feeds a class
head, and :func:`train_conditional_gans`, which trains several runs (seeds, auxiliary weights) as one
stacked network, making the updates of the notebook's ``d_step`` and ``g_step`` run after run.

The random numbers come from NumPy (:mod:`course_lib.techniques.multitask`) in the order of the
notebook's loop: the batch indices, then for D's step the noise and the fakes' labels, then for G's
step the same. The PyTorch track has the same names.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import data
from ..progress import progress
from ..techniques import multitask as _mt
from .models import MLP, VAE
from .train import to_tensor


def one_hot(y, n_classes: int = _mt.N_CLASSES):
    return tf.one_hot(tf.cast(y, tf.int32), n_classes)


def _dense(units, in_dim):
    layer = keras.layers.Dense(units)  # Glorot-uniform weights, zero biases, as the PyTorch track
    layer.build((None, in_dim))
    return layer


class ConditionalGenerator(keras.Model):
    """Noise and a label to data: the label's one-hot code is concatenated to the noise."""

    def __init__(self, z_dim: int = 16, hidden=(128, 256), out_dim: int = 64, n_classes: int = _mt.N_CLASSES,
                 output: str = "sigmoid", **kwargs):
        super().__init__(**kwargs)
        self.z_dim, self.n_classes, self.output_kind = z_dim, n_classes, output
        self.net = MLP([z_dim + n_classes, *hidden, out_dim], name="net")

    def call(self, z, y, training=False):
        out = self.net(tf.concat([z, one_hot(y, self.n_classes)], -1), training=training)
        return tf.sigmoid(out) if self.output_kind == "sigmoid" else out

    def plan(self):
        denses = [layer for layer in self.net.layers if isinstance(layer, keras.layers.Dense)]
        return [([d], "relu") for d in denses[:-1]] + [([denses[-1]], self.output_kind)]


def _trunk(sizes):
    layers = [keras.Input((sizes[0],))]
    for width in sizes[1:]:
        layers += [keras.layers.Dense(width), keras.layers.LeakyReLU(negative_slope=0.2)]  # Keras' default: 0.3
    return keras.Sequential(layers, name="trunk")


def _trunk_plan(trunk):
    return [([d], "leaky") for d in trunk.layers if isinstance(d, keras.layers.Dense)]


class ConcatDiscriminator(keras.Model):
    """(data, label) to one logit: the label's one-hot code is concatenated to the input."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), n_classes: int = _mt.N_CLASSES, **kwargs):
        super().__init__(**kwargs)
        self.n_classes = n_classes
        self.trunk, self.source = _trunk([in_dim + n_classes, *hidden]), _dense(1, hidden[-1])

    def call(self, x, y, training=False):
        h = self.trunk(tf.concat([x, one_hot(y, self.n_classes)], -1), training=training)
        return tf.squeeze(self.source(h), -1)

    def plan(self):
        return _trunk_plan(self.trunk) + [([self.source], "linear")]


class ACDiscriminator(keras.Model):
    """AC-GAN's discriminator: one shared trunk, two heads. Data to (source logit ``(n,)``, class
    logits ``(n, n_classes)``); the label is not an input."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), n_classes: int = _mt.N_CLASSES, **kwargs):
        super().__init__(**kwargs)
        self.trunk = _trunk([in_dim, *hidden])
        self.source, self.classes = _dense(1, hidden[-1]), _dense(n_classes, hidden[-1])

    def call(self, x, training=False):
        h = self.trunk(x, training=training)
        return tf.squeeze(self.source(h), -1), self.classes(h)

    def plan(self):  # the two heads side by side: one (hidden, 1 + n_classes) layer in the stack
        return _trunk_plan(self.trunk) + [([self.source, self.classes], "linear")]


class MultitaskVAE(VAE):
    """A VAE whose encoder's mean also feeds a linear class head: one encoder, two tasks."""

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden=(256, 128), n_classes: int = _mt.N_CLASSES, **kwargs):
        super().__init__(x_dim, z_dim, hidden, **kwargs)
        self.head = _dense(n_classes, z_dim)

    def classify(self, x, training=False):
        return self.head(self.encode(x, training=training)[0])


# --- several runs as one stacked network ------------------------------------------------------


class StackedNet(tf.Module):
    """``k`` models of one architecture (their ``plan()``: layers side by side, then an activation) as
    one callable over inputs ``(k, n, d)``, with batched matrix products. Each member keeps its own
    weights; with per-member mean losses summed, each gets the gradient (and the Adam step) of a
    separate run."""

    def __init__(self, members):
        super().__init__()
        plans = [m.plan() for m in members]
        self.acts = [act for _, act in plans[0]]
        self.weights = [tf.Variable(tf.stack([tf.concat([tf.convert_to_tensor(d.kernel) for d in p[i][0]], 1)
                                              for p in plans]), name=f"kernel_{i}") for i in range(len(self.acts))]
        self.biases = [tf.Variable(tf.stack([tf.concat([tf.convert_to_tensor(d.bias) for d in p[i][0]], 0)[None]
                                             for p in plans]), name=f"bias_{i}") for i in range(len(self.acts))]

    @property
    def trainable_variables(self):
        return [v for pair in zip(self.weights, self.biases) for v in pair]

    def __call__(self, x):
        for W, b, act in zip(self.weights, self.biases, self.acts):
            x = tf.matmul(x, W) + b
            if act == "relu":
                x = tf.nn.relu(x)
            elif act == "leaky":
                x = tf.nn.leaky_relu(x, alpha=0.2)
            elif act == "sigmoid":
                x = tf.sigmoid(x)
        return x

    def unstack_into(self, members) -> None:
        for i, model in enumerate(members):
            for (denses, _), W, b in zip(model.plan(), self.weights, self.biases):
                start = 0
                for d in denses:
                    width = d.kernel.shape[1]
                    d.kernel.assign(W[i, :, start:start + width])
                    d.bias.assign(b[i, 0, start:start + width])
                    start += width


def _ce(logits, y):  # per-sample cross-entropy over the last axis, any leading axes
    return tf.reduce_logsumexp(logits, -1) - tf.gather(logits, y, batch_dims=len(y.shape))


def train_conditional_gans(Gs, Ds, xs, ys, seeds, weights, steps: int, batch_size: int, lr: float, betas,
                           eval_fn=None, eval_every: int = 0, desc: str = "runs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` on ``(xs[i], ys[i])`` with ``seeds[i]`` (Adam, one D
    step then one G step per batch), as the notebook's step would alone; all runs step together. All
    discriminators are :class:`ConcatDiscriminator` (``weights`` unused) or all :class:`ACDiscriminator`
    (``weights[i]``: run i's auxiliary weight, 0 = no class loss). Writes the weights back. With
    ``eval_fn(G, i)``, every ``eval_every`` steps: returns ``{"step": [...], "values": (runs, evaluations)}``."""
    Gs, Ds = list(Gs), list(Ds)
    ac = isinstance(Ds[0], ACDiscriminator)
    if any(isinstance(D, ACDiscriminator) != ac for D in Ds) or len({len(Gs), len(Ds), len(xs), len(seeds)}) != 1:
        raise ValueError("need one generator, discriminator (all of one kind), data set and seed per run")
    G, D = StackedNet(Gs), StackedNet(Ds)
    k, n_classes = len(Gs), Gs[0].n_classes
    w = tf.constant(np.broadcast_to(np.asarray(weights, np.float32), (k,)).copy())
    # epsilon 1e-8 as in PyTorch (Keras: 1e-7), so the tracks take the same steps
    opt_g = keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt_d = keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt_g.build(G.trainable_variables), opt_d.build(D.trainable_variables)
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    x_all, y_all = tf.constant(np.stack(xs)), tf.constant(np.stack(ys).astype(np.int32))

    def judge(x, y):  # (source logits (k, n), class logits or None)
        out = D(x) if ac else D(tf.concat([x, one_hot(y, n_classes)], -1))
        return out[..., 0], (out[..., 1:] if ac else None)

    @tf.function
    def d_step(idx, z, y_fake):
        real, y_real = tf.gather(x_all, idx, batch_dims=1), tf.gather(y_all, idx, batch_dims=1)
        fake = G(tf.concat([z, one_hot(y_fake, n_classes)], -1))
        with tf.GradientTape() as tape:
            (s_r, c_r), (s_f, c_f) = judge(real, y_real), judge(fake, y_fake)
            d_loss = tf.reduce_mean(tf.nn.softplus(-s_r), -1) + tf.reduce_mean(tf.nn.softplus(s_f), -1)
            if ac:
                d_loss += w * (tf.reduce_mean(_ce(c_r, y_real), -1) + tf.reduce_mean(_ce(c_f, y_fake), -1))
            total = tf.reduce_sum(d_loss)  # per-run means summed: each run gets its own gradient
        opt_d.apply_gradients(zip(tape.gradient(total, D.trainable_variables), D.trainable_variables))

    @tf.function
    def g_step(z, y_fake):
        with tf.GradientTape() as tape:
            s_f, c_f = judge(G(tf.concat([z, one_hot(y_fake, n_classes)], -1)), y_fake)
            g_loss = tf.reduce_mean(tf.nn.softplus(-s_f), -1)
            if ac:
                g_loss += w * tf.reduce_mean(_ce(c_f, y_fake), -1)
            total = tf.reduce_sum(g_loss)
        opt_g.apply_gradients(zip(tape.gradient(total, G.trainable_variables), G.trainable_variables))

    def draws(n):
        z, y = zip(*[_mt.draw_fakes(n, Gs[0].z_dim, rng, n_classes) for rng in rngs])
        return tf.constant(np.stack(z)), tf.constant(np.stack(y).astype(np.int32))

    history = {"step": [], "values": []}
    for step in progress(range(1, steps + 1), desc=desc):
        d_step(tf.constant(np.stack([next(b) for b in batches])), *draws(batch_size))
        g_step(*draws(batch_size))
        if eval_fn is not None and step % eval_every == 0:
            G.unstack_into(Gs)
            history["step"].append(step), history["values"].append([eval_fn(g, i) for i, g in enumerate(Gs)])
    G.unstack_into(Gs), D.unstack_into(Ds)
    history["values"] = np.array(history["values"], dtype=float).T.reshape(len(Gs), -1)
    return history


def sample(G, labels, seed: int = 0) -> np.ndarray:
    """Samples of ``G`` for the requested ``labels``, from NumPy noise with ``seed``."""
    z = to_tensor(data.noise(len(labels), G.z_dim, seed))
    return G(z, tf.constant(np.asarray(labels), tf.int32), training=False).numpy()


def latent_means(vae, x) -> np.ndarray:
    return vae.encode(to_tensor(x), training=False)[0].numpy()


def acgan_d_loss(src_real, cls_real, y_real, src_fake, cls_fake, y_fake, weight):
    """AC-GAN's discriminator loss on its two heads' outputs
    (see :func:`course_lib.techniques.multitask.acgan_d_loss`)."""
    source = tf.reduce_mean(tf.nn.softplus(-src_real)) + tf.reduce_mean(tf.nn.softplus(src_fake))
    return source + weight * (tf.reduce_mean(_ce(cls_real, y_real)) + tf.reduce_mean(_ce(cls_fake, y_fake)))


def acgan_g_loss(src_fake, cls_fake, y_fake, weight):
    """AC-GAN's generator loss: fakes judged real and classified as the label they were made for."""
    return tf.reduce_mean(tf.nn.softplus(-src_fake)) + weight * tf.reduce_mean(_ce(cls_fake, y_fake))


# --- the checkers' side ----------------------------------------------------------------------


def adapt(a):
    """Checker argument conversion: float arrays -> float32 tensors, integer arrays (labels) -> int32
    tensors, a :class:`~course_lib.exercises.lesson08_multitask.Losses` -> a list of scalar tensors."""
    from ..exercises.lesson08_multitask import Losses

    if isinstance(a, Losses):
        return [to_tensor(v) for v in a.values]
    if isinstance(a, np.ndarray):
        return tf.constant(a.astype(np.int32)) if a.dtype.kind in "iu" else to_tensor(a)
    return a
