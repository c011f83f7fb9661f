"""Lesson 01 (TensorFlow/Keras 3): L2 in the loss vs decoupled weight decay, dropout, and a
discriminator with spectral normalization, plus the measurements of overfitting.

Only weight matrices (kernels, ``ndim >= 2``) are regularized, never biases: see
:mod:`course_lib.techniques.regularization`.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import metrics
from ..techniques import regularization as reg
from .models import VAE, Generator, dense
from .train import adam, sample_gan, test_negative_elbo, to_tensor, train_gan, train_vae

VARIANTS = ("none", "L2 in Adam", "AdamW", "dropout")


def l2_penalty(params, wd: float):
    """wd / 2 * sum of squared weight entries (biases, the 1-D tensors, are skipped)."""
    return wd / 2 * tf.add_n([tf.reduce_sum(tf.square(p)) for p in params if len(p.shape) >= 2])


def adamw(model, lr: float, wd: float, betas=(0.9, 0.999)) -> keras.optimizers.AdamW:
    """keras.optimizers.AdamW (decoupled) on the kernels only: biases are excluded from decay."""
    opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=wd, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if len(v.shape) < 2])
    return opt


def train_vae_variant(variant: str, x_train, x_val, cfg, seed: int, desc=None, x_test=None,
                      l2_penalty_fn=None) -> dict:
    """Train one VAE of lesson 01 and return its history and final numbers (see the PyTorch twin).

    ``L2 in Adam`` adds ``l2_penalty_fn(model.trainable_variables, cfg.wd_l2)`` to the loss (the
    notebook passes the learner's function as its checker returned it; this module's
    :func:`l2_penalty` by default). ``history["train_eval"]`` is the nELBO on the whole training
    subset with ``training=False`` (no dropout, one fixed noise draw), at the same steps as
    ``val_loss``. With ``x_test``, the result also holds ``"test"``, the test nELBO.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    keras.utils.set_random_seed(seed)
    model = VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden, dropout=cfg.dropout if variant == "dropout" else 0.0)
    model(to_tensor(x_train[:1]))  # build the variables
    optimizer = adamw(model, cfg.vae_lr, cfg.wd_adamw) if variant == "AdamW" else adam(cfg.vae_lr)
    l2 = l2_penalty_fn or l2_penalty
    penalty = (lambda m: l2(m.trainable_variables, cfg.wd_l2)) if variant == "L2 in Adam" else None
    history = train_vae(model, x_train, cfg.vae_steps, cfg.batch_size, cfg.vae_lr, seed, x_val=x_val,
                        eval_every=cfg.eval_every, optimizer=optimizer, penalty_fn=penalty,
                        on_eval=lambda h: h.setdefault("train_eval", []).append(
                            test_negative_elbo(model, x_train, seed=0, n_samples=1)),
                        desc=desc or f"VAE {variant}, seed {seed}")
    weights = [v for v in model.trainable_variables if len(v.shape) >= 2]
    out = {"history": history, "model": model,
           "train": test_negative_elbo(model, x_train, seed, cfg.elbo_samples),
           "val": test_negative_elbo(model, x_val, seed, cfg.elbo_samples),
           "weight_norm": float(tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(w)) for w in weights])))}
    if x_test is not None:
        out["test"] = test_negative_elbo(model, x_test, seed, cfg.elbo_samples)
    return out


class RegDiscriminator(keras.Model):
    """The baseline discriminator, optionally with dropout after each hidden layer and/or every
    Dense spectrally normalised with :class:`course_lib.tensorflow.models.SpectralDense` (PyTorch's
    algorithm: one power iteration per training call, gradients through sigma)."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), spectral: bool = False, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        layers = [keras.Input((in_dim,))]
        for i, width in enumerate((*hidden, 1)):
            last = i == len(hidden)
            layers.append(dense(width, spectral))
            if not last:
                layers.append(keras.layers.LeakyReLU(negative_slope=0.2))
                if dropout > 0:
                    layers.append(keras.layers.Dropout(dropout))
        self.net = keras.Sequential(layers, name="net")

    def call(self, x, training=False):
        return tf.squeeze(self.net(x, training=training), axis=1)


def real_score(D, x) -> tuple[float, float]:
    """(accuracy, mean sigmoid output) of D on real images ``x``, with ``training=False``."""
    logits = D(to_tensor(x), training=False)
    return float(tf.reduce_mean(tf.cast(logits > 0, tf.float32))), float(tf.reduce_mean(tf.sigmoid(logits)))


def d_logits(D, x) -> np.ndarray:
    """D's logits on images ``x`` as a NumPy array, with ``training=False`` (no power iteration)."""
    return np.asarray(D(to_tensor(x), training=False), dtype=np.float64)


def train_gan_variant(variant: str, x_train, x_val, cfg, seed: int, desc=None) -> dict:
    """Train one GAN of lesson 01 (``none``, ``spectral norm`` or ``dropout`` in D) and watch
    D's accuracy and mean output on training reals versus held-out reals. Returns the history,
    the networks ``G`` and ``D``, and :func:`gan_measures` (samples, FCD with precision and recall,
    D's gap, mean outputs and AUCs)."""
    keras.utils.set_random_seed(seed)
    G = Generator(z_dim=cfg.gan_z_dim, hidden=cfg.gan_hidden)
    D = RegDiscriminator(spectral=variant == "spectral norm", dropout=cfg.d_dropout if variant == "dropout" else 0.0)

    def watch(_G):
        acc_train, p_train = real_score(D, x_train)
        acc_val, p_val = real_score(D, x_val)
        return {"acc_train": acc_train, "acc_val": acc_val, "p_train": p_train, "p_val": p_val}

    history = train_gan(G, D, x_train, cfg.gan_steps, cfg.batch_size, cfg.gan_lr, seed, cfg.gan_betas,
                        eval_every=cfg.gan_eval_every, eval_fn=watch, desc=desc or f"GAN {variant}, seed {seed}")
    return {"history": history, "G": G, "D": D, **gan_measures(G, D, x_train, x_val, history, seed)}


def gan_measures(G, D, x_train, x_val, history: dict, seed: int) -> dict:
    """What lesson 01 measures on a trained GAN (see the PyTorch twin and
    :func:`course_lib.techniques.regularization.discriminator_report`)."""
    samples = sample_gan(G, metrics.n_eval(), seed)
    fakes = sample_gan(G, len(x_val), seed + 10_000)
    return {"samples": samples, **reg.discriminator_report(samples, d_logits(D, x_train), d_logits(D, x_val),
                                                            d_logits(D, fakes), history)}


def largest_singular_value(kernel) -> float:
    """Largest singular value of a kernel (a Dense layer's ``kernel``)."""
    return float(np.linalg.norm(np.asarray(kernel), ord=2))


RECIPES = ("keras.optimizers.AdamW(weight_decay=wd)", "keras.optimizers.Adam(weight_decay=wd)",
           "Adam, wd/2 * sum(w^2) in the loss")


def one_step(recipe: str, w, grad, lr: float, wd: float) -> np.ndarray:
    """One optimizer step from a fresh state on a weight ``w`` whose loss has gradient ``grad``
    (the loss is ``sum(grad * w)``), following one of :data:`RECIPES`. Returns the new weight."""
    var = tf.Variable(np.asarray(w, dtype=np.float32))
    if recipe == RECIPES[0]:
        opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=wd, epsilon=1e-8)
    elif recipe == RECIPES[1]:
        opt = keras.optimizers.Adam(learning_rate=lr, weight_decay=wd, epsilon=1e-8)
    elif recipe == RECIPES[2]:
        opt = keras.optimizers.Adam(learning_rate=lr, epsilon=1e-8)
    else:
        raise ValueError(f"unknown recipe {recipe!r}; expected one of {RECIPES}")
    g = tf.constant(np.asarray(grad, dtype=np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(g * var)
        if recipe == RECIPES[2]:
            loss = loss + wd / 2 * tf.reduce_sum(tf.square(var))
    opt.apply_gradients([(tape.gradient(loss, var), var)])
    return var.numpy()
