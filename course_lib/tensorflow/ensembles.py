"""Ensembles in the TensorFlow track (lesson 09): a model's state for a moving average, GANs trained
stacked with moving averages of their generators riding along, mixtures of generators (sampled
uniformly, their outputs averaged, MGAN), and VAEs trained stacked with snapshots, scored by
importance sampling. The random numbers come from NumPy in the notebook's order, so a run draws
the same numbers alone or stacked, in either track; the PyTorch track has the same names."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import data
from ..progress import progress
from ..runs.stacking import check_runs
from ..techniques import ensembles as _ens
from .models import Generator
from .stacked import Stacked
from .train import to_tensor


def ema_update(average, current, decay: float, is_buffer):
    """The reference moving-average update (the exercise's answer): a copy of ``current`` on the first call
    (``average`` None), then ``decay * average + (1 - decay) * current`` for weights, buffers copied."""
    if average is None:
        return [tf.identity(w) for w in current]
    return [tf.identity(w) if buf else decay * a + (1.0 - decay) * w for a, w, buf in zip(average, current, is_buffer)]


def state(model):
    """``(tensors, is_buffer)``: the model's trainable weights, then its non-trainable ones (BatchNormalization's
    moving mean and variance), as tensors, and which of them are buffers (what a moving average copies)."""
    weights, buffers = list(model.trainable_weights), list(model.non_trainable_weights)
    return [tf.convert_to_tensor(w) for w in weights + buffers], [False] * len(weights) + [True] * len(buffers)


def load_state(model, tensors):
    """Write ``tensors`` (as :func:`state` lists them) into ``model``."""
    for target, value in zip(list(model.trainable_weights) + list(model.non_trainable_weights), tensors):
        target.assign(tf.cast(value, target.dtype))
    return model


def snapshot(model):
    """A copy of the model's state now, as :func:`state` lists it (later steps do not change it)."""
    return [tf.identity(t) for t in state(model)[0]]


def copy_with(model, tensors):
    """A fresh generator of ``model``'s architecture holding ``tensors``, as :func:`state` lists them: to
    sample from an average."""
    return load_state(_clone(model), tensors)


def recompute_bn(G, noises) -> None:
    """PyTorch's ``update_bn`` for a Keras generator: each BatchNormalization layer's moving mean and
    variance set to the average, over the ``noises`` batches, of its inputs' batch mean and variance."""
    layers = [layer for layer in G.net.layers]
    sums = {id(layer): [0.0, 0.0] for layer in layers if isinstance(layer, keras.layers.BatchNormalization)}
    for z in noises:
        h = to_tensor(z)
        for layer in layers:
            if id(layer) in sums:
                mean, var = tf.nn.moments(h, axes=[0])
                sums[id(layer)][0] += mean / len(noises)
                sums[id(layer)][1] += var / len(noises)
            h = layer(h, training=True)  # as update_bn: every layer normalises with the batch statistics
    for layer in layers:  # only after the pass: every layer normalised with its old statistics meanwhile
        if id(layer) in sums:
            layer.moving_mean.assign(sums[id(layer)][0]), layer.moving_variance.assign(sums[id(layer)][1])
    return G


def _denses(model):
    return [layer for layer in model.net.layers if type(layer) is keras.layers.Dense]


def _clone(G):
    """A fresh, built generator of ``G``'s architecture (its widths, output and normalization)."""
    widths = [int(d.kernel.shape[1]) for d in _denses(G)]
    clone = Generator(z_dim=G.z_dim, hidden=tuple(widths[:-1]), out_dim=widths[-1], output=G.output_kind,
                      norm=G.norm_kind)
    clone(tf.zeros((1, G.z_dim)))  # build the weights
    return clone


def _stacked_copies(Gs, tensors):
    """Copies of the generators ``Gs`` holding the stacked ``tensors`` (listed as ``Stacked.trainable_variables``:
    kernel, bias, kernel, bias, ...)."""
    copies = [_clone(G) for G in Gs]
    for i, model in enumerate(copies):
        for dense, W, b in zip(_denses(model), tensors[0::2], tensors[1::2]):
            dense.kernel.assign(W[i]), dense.bias.assign(b[i, 0])
    return copies


def _adam(lr, betas):
    return keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)  # PyTorch's epsilon


def _gan_draws(xs, seeds, batch_size, z_dim):
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    return batches, (lambda n: tf.constant(np.stack([data.noise(n, z_dim, r) for r in rngs])))


def train_gans(Gs, Ds, xs, seeds, steps: int, batch_size: int, lr: float, betas, decays=(), ema_update=None,
               desc: str = "GANs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` on ``xs[i]`` with ``seeds[i]`` (non-saturating GAN, Adam,
    one D step then one G step), all runs stacked, as the notebook's step would alone. After every G step,
    ``ema_update(average, current, decay, is_buffer)`` updates one moving average of the generators' weights
    per decay in ``decays``. Writes the weights back; returns ``{decay: copies of Gs holding the averages}``."""
    Gs, Ds, xs, seeds = list(Gs), list(Ds), list(xs), list(seeds)
    check_runs(Gs, Ds, xs, seeds)
    G, D = Stacked(Gs), Stacked(Ds)
    opt_g, opt_d = _adam(lr, betas), _adam(lr, betas)
    opt_g.build(G.trainable_variables), opt_d.build(D.trainable_variables)
    batches, noise = _gan_draws(xs, seeds, batch_size, G.z_dim)
    x_all = tf.constant(np.stack(xs))

    @tf.function
    def step(idx, z_d, z_g):
        real, fake = tf.gather(x_all, idx, batch_dims=1), G(z_d)
        with tf.GradientTape() as tape:
            d_loss = tf.reduce_mean(tf.nn.softplus(-D(real)), -1) + tf.reduce_mean(tf.nn.softplus(D(fake)), -1)
            total = tf.reduce_sum(d_loss)  # per-run means summed: each run gets its own gradient
        opt_d.apply_gradients(zip(tape.gradient(total, D.trainable_variables), D.trainable_variables))
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.reduce_mean(tf.nn.softplus(-D(G(z_g))), -1))
        opt_g.apply_gradients(zip(tape.gradient(total, G.trainable_variables), G.trainable_variables))

    flags = [False] * len(G.trainable_variables)
    averages = {d: ema_update(None, list(G.trainable_variables), d, flags) for d in decays}
    for _ in progress(range(steps), desc=desc):
        idx = tf.constant(np.stack([next(b) for b in batches]))
        step(idx, noise(batch_size), noise(batch_size))
        current = [tf.convert_to_tensor(v) for v in G.trainable_variables]
        averages = {d: ema_update(a, current, d, flags) for d, a in averages.items()}
    G.unstack_into(Gs), D.unstack_into(Ds)
    return {d: _stacked_copies(Gs, a) for d, a in averages.items()}


# --- mixtures of generators ---------------------------------------------------------------------


def sample_mixture(Gs, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the uniform mixture of the generators ``Gs``: member ``k`` makes its share
    (:func:`course_lib.techniques.ensembles.member_counts`) from the noise of ``seed``."""
    z = to_tensor(data.noise(n, Gs[0].z_dim, seed))
    cuts = np.cumsum([0] + _ens.member_counts(n, len(Gs)))
    return np.concatenate([G(z[a:b], training=False).numpy() for G, a, b in zip(Gs, cuts[:-1], cuts[1:])])


def sample_averaged(Gs, n: int, seed: int) -> np.ndarray:
    """The naive "ensemble": the mean of the generators' outputs for the same noise."""
    z = to_tensor(data.noise(n, Gs[0].z_dim, seed))
    return tf.reduce_mean(tf.stack([G(z, training=False) for G in Gs]), 0).numpy()


def classifier(k: int, hidden, seed: int):
    """MGAN's classifier: 2-D points to ``k`` logits (which generator made the point), an MLP built as a
    linear-output :class:`Generator` so that :class:`Stacked` can batch it."""
    keras.utils.set_random_seed(seed)
    return Generator(z_dim=2, hidden=hidden, out_dim=k, output="linear")


def train_mgan(Gs, Ds, Cs, xs, seeds, k: int, steps: int, batch_size: int, lr: float, betas, beta: float,
               desc: str = "MGAN"):
    """MGAN (Hoang et al. 2018), small: run ``s`` trains the ``k`` generators ``Gs[s*k:(s+1)*k]`` against one
    discriminator ``Ds[s]`` and one classifier ``Cs[s]`` on ``xs[s]``. Each generator makes ``batch_size // k``
    fakes a step; D sees the mixture, C learns which generator made each fake, and the generators minimise
    the non-saturating loss plus ``beta`` times C's cross-entropy (they want to be told apart)."""
    Gs, Ds, Cs, xs, seeds = list(Gs), list(Ds), list(Cs), list(xs), list(seeds)
    check_runs(Ds, Cs, xs, seeds)
    S, m = len(seeds), batch_size // k
    G, D, C = Stacked(Gs), Stacked(Ds), Stacked(Cs)
    opts = [_adam(lr, betas) for _ in range(3)]
    for opt, M in zip(opts, (G, D, C)):
        opt.build(M.trainable_variables)
    batches, noise = _gan_draws(xs, seeds, k * m, G.z_dim)
    x_all = tf.constant(np.stack(xs))
    labels = tf.tile(tf.repeat(tf.range(k), m), [S])  # which generator made each fake

    def fakes(z):  # (S, k*m, 2): each seed's k generators, m fakes each, from that seed's noise
        return tf.reshape(G(tf.reshape(z, (S * k, m, -1))), (S, k * m, -1))

    def ce(fake):  # C's cross-entropy per seed, averaged over its fakes
        logits = tf.reshape(C(fake), (S * k * m, k))
        per = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return tf.reduce_mean(tf.reshape(per, (S, -1)), -1)

    def apply(opt, tape, total, M):
        opt.apply_gradients(zip(tape.gradient(total, M.trainable_variables), M.trainable_variables))

    @tf.function
    def step(idx, z_d, z_g):
        real, fake = tf.gather(x_all, idx, batch_dims=1), fakes(z_d)
        with tf.GradientTape(persistent=True) as tape:
            d_loss = tf.reduce_mean(tf.nn.softplus(-D(real)), -1) + tf.reduce_mean(tf.nn.softplus(D(fake)), -1)
            d_total, c_total = tf.reduce_sum(d_loss), tf.reduce_sum(ce(fake))  # per-run means summed
        apply(opts[1], tape, d_total, D), apply(opts[2], tape, c_total, C)
        with tf.GradientTape() as tape:
            fake = fakes(z_g)
            g_total = tf.reduce_sum(tf.reduce_mean(tf.nn.softplus(-D(fake)), -1) + beta * ce(fake))
        apply(opts[0], tape, g_total, G)

    for _ in progress(range(steps), desc=desc):
        step(tf.constant(np.stack([next(b) for b in batches])), noise(k * m), noise(k * m))
    G.unstack_into(Gs), D.unstack_into(Ds), C.unstack_into(Cs)


# --- VAE ensembles ---------------------------------------------------------------------------------


def new_vae(seed: int, hidden, z_dim: int, x_dim: int = 64):
    """A VAE as two MLPs (lesson 00's shapes, so :class:`Stacked` can batch them): an encoder to
    ``(mu, logvar)`` and a decoder to Bernoulli logits, initialised from ``seed``."""
    keras.utils.set_random_seed(seed)
    encoder = Generator(z_dim=x_dim, hidden=hidden, out_dim=2 * z_dim, output="linear")
    return encoder, Generator(z_dim=z_dim, hidden=tuple(reversed(hidden)), out_dim=x_dim, output="linear")


def _log_weights(enc, dec, x, eps):
    """Importance weights ``log p(x|z) + log p(z) - log q(z|x)`` for ``z = mu + sigma eps``; stacked
    members: ``x`` (k, n, 64), ``eps`` (k, S, n, z) -> (k, S, n)."""
    mu, logvar = tf.split(enc(x), 2, axis=-1)
    z = mu[:, None] + tf.exp(0.5 * logvar)[:, None] * eps
    k, S, n, d = z.shape
    logits = tf.reshape(dec(tf.reshape(z, (k, S * n, d))), (k, S, n, -1))
    target = tf.broadcast_to(x[:, None], logits.shape)
    log_px = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits), -1)
    log_pz = -0.5 * tf.reduce_sum(z ** 2 + np.log(2 * np.pi), -1)
    log_qz = -0.5 * tf.reduce_sum(eps ** 2 + np.log(2 * np.pi) + logvar[:, None], -1)
    return log_px + log_pz - log_qz


def train_vaes(encs, decs, x, seeds, steps: int, batch_size: int, lr: float, cycle: int, desc: str = "VAEs"):
    """Member ``i`` (``encs[i]``, ``decs[i]``) minimises the negative ELBO on ``x`` with ``seeds[i]``'s batches
    and noise, Adam at the snapshot ensembles' cosine-with-restarts rate (cycles of ``cycle`` steps); all
    members stacked. Returns the snapshots: per cycle end, copies of every member's ``(encoder, decoder)``."""
    encs, decs, seeds = list(encs), list(decs), list(seeds)
    check_runs(encs, decs, [x] * len(seeds), seeds)
    E, Dd = Stacked(encs), Stacked(decs)
    variables = E.trainable_variables + Dd.trainable_variables
    opt = keras.optimizers.Adam(lr, epsilon=1e-8)  # PyTorch's epsilon; the rate is set every step
    opt.build(variables)
    batches, noise = _gan_draws([x] * len(seeds), seeds, batch_size, Dd.z_dim)
    x_all, snapshots = tf.constant(x), []

    @tf.function
    def step(idx, eps):
        xb = tf.gather(x_all, idx)
        with tf.GradientTape() as tape:
            mu, logvar = tf.split(E(xb), 2, axis=-1)
            logits = Dd(mu + tf.exp(0.5 * logvar) * eps)
            rec = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=xb, logits=logits), -1)
            kl = -0.5 * tf.reduce_sum(1.0 + logvar - mu ** 2 - tf.exp(logvar), -1)
            total = tf.reduce_sum(tf.reduce_mean(rec + kl, -1))  # per-member means summed
        opt.apply_gradients(zip(tape.gradient(total, variables), variables))

    for i in progress(range(steps), desc=desc):
        opt.learning_rate.assign(_ens.cosine_restarts(i, cycle, lr))
        step(tf.constant(np.stack([next(b) for b in batches])), noise(batch_size))
        if (i + 1) % cycle == 0:
            snapshots.append(list(zip(_stacked_copies(encs, E.trainable_variables),
                                      _stacked_copies(decs, Dd.trainable_variables))))
    E.unstack_into(encs), Dd.unstack_into(decs)
    return snapshots


def log_likelihoods(members, x, n_samples: int, seed: int, chunk: int = 10):
    """Per member and test example: the importance-sampled estimate of ``log p(x)`` with ``n_samples``
    samples of ``q(z|x)`` (the IWAE bound, Burda et al. 2016) and the ELBO (its one-sample average),
    ``(K, n)`` each. ``members``: ``(encoder, decoder)`` pairs of one architecture; noise from ``seed``."""
    E, Dd = Stacked([m[0] for m in members]), Stacked([m[1] for m in members])
    k = len(members)
    xk = tf.tile(to_tensor(x)[None], [k, 1, 1])
    rng, logw = np.random.default_rng(seed), []
    for start in range(0, n_samples, chunk):
        s = min(chunk, n_samples - start)
        eps = to_tensor(rng.standard_normal((s, len(x), Dd.z_dim), dtype=np.float32))
        logw.append(_log_weights(E, Dd, xk, tf.tile(eps[None], [k, 1, 1, 1])))
    logw = tf.cast(tf.concat(logw, 1), tf.float64)
    iwae = tf.reduce_logsumexp(logw, 1) - np.log(n_samples)
    return iwae.numpy(), tf.reduce_mean(logw, 1).numpy()


def ensemble_log_likelihood(member_log_likelihoods):
    """The reference (the exercise's answer): log-mean-exp over the members, ``(K, n) -> (n,)``."""
    x = tf.convert_to_tensor(member_log_likelihoods)
    return tf.reduce_logsumexp(x, 0) - tf.math.log(tf.cast(tf.shape(x)[0], x.dtype))


def adapt(a):
    """Checker argument conversion: arrays (and lists of them) -> float32 tensors;
    None, numbers and flags as they are."""
    if isinstance(a, np.ndarray):
        return to_tensor(a)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return [to_tensor(x) for x in a]
    return a
