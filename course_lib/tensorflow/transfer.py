"""Transfer learning for the TensorFlow track (lesson 07): the shipped pretrained weights loaded into the
course's models, freezing a network's lower layers, and fine-tuning several runs as one stacked network.

The PyTorch track's :mod:`course_lib.torch.transfer` has the same names. Weights travel as
``[(kernel, bias), ...]`` NumPy pairs with ``kernel`` of shape ``(inputs, outputs)``, a Dense layer's
own layout (:mod:`course_lib.pretrained`).
"""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from .. import pretrained as _pretrained
from ..progress import progress
from ..runs.draws import RunDraws
from ..runs.history import RunningHistories
from ..runs.stacking import check_runs
from .models import VAE, Critic, Generator, LayerNorm
from .stacked import Stacked
from .train import to_tensor

NORMS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization, LayerNorm)


def _layers(model) -> list:
    return list(model.layers if isinstance(model, keras.Sequential) else model.net.layers)


def dense_layers(model) -> list:
    """The model's ``Dense`` layers, input side first."""
    return [layer for layer in _layers(model) if isinstance(layer, keras.layers.Dense)]


def blocks(model) -> list[list]:
    """The model's layers as blocks, input side first: each ``Dense`` with the normalization layer
    that follows it, if any (what "the lower k layers" means when freezing)."""
    out = []
    for layer in _layers(model):
        if isinstance(layer, keras.layers.Dense):
            out.append([layer])
        elif isinstance(layer, NORMS) and out:
            out[-1].append(layer)
    return out


def load_layers(model, layers):
    """Copy ``[(kernel, bias), ...]`` into the model's Dense layers (``assign`` copies)."""
    denses = dense_layers(model)
    if len(denses) != len(layers):
        raise ValueError(f"the model has {len(denses)} Dense layers, the weights {len(layers)}")
    for dense, (kernel, bias) in zip(denses, layers):
        dense.kernel.assign(np.asarray(kernel, np.float32))
        dense.bias.assign(np.asarray(bias, np.float32))
    return model


def export_layers(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """The model's Dense layers as ``[(kernel, bias), ...]`` float32 NumPy copies."""
    return [(dense.kernel.numpy().copy(), dense.bias.numpy().copy()) for dense in dense_layers(model)]


def _arch(model: str, net: str) -> dict:
    return _pretrained.manifest()["models"][model]["architecture"][net]


def new_gan(seed: int | None = None):
    """A fresh (randomly initialised) generator and discriminator of the pretrained GAN's architecture
    (the discriminator is a :class:`Critic` without normalization: LeakyReLU(0.2), one logit)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    g, d = _arch("gan", "generator")["sizes"], _arch("gan", "discriminator")["sizes"]
    return (Generator(z_dim=g[0], hidden=tuple(g[1:-1]), out_dim=g[-1]),
            Critic(in_dim=d[0], hidden=tuple(d[1:-1])))


def pretrained_gan():
    """The shipped GAN, pretrained on printed digits: ``(generator, discriminator)``."""
    G, D = new_gan()
    weights = _pretrained.load("gan")
    return load_layers(G, weights["generator"]), load_layers(D, weights["discriminator"])


def new_vae(seed: int | None = None) -> VAE:
    """A fresh VAE of the pretrained VAE's architecture."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    enc = _arch("vae", "encoder")["sizes"]
    return VAE(x_dim=enc[0], z_dim=enc[-1] // 2, hidden=tuple(enc[1:-1]))


def pretrained_vae() -> VAE:
    """The shipped VAE, pretrained on printed digits."""
    vae, weights = new_vae(), _pretrained.load("vae")
    load_layers(vae.encoder, weights["encoder"])
    load_layers(vae.decoder, weights["decoder"])
    return vae


def freeze_lower(model, k: int) -> list:
    """Freeze the lower ``k`` blocks (``trainable = False``; a frozen BatchNormalization also runs in
    inference mode, so its moving statistics stay as they are) and return the variables that still
    train, for the optimizer."""
    for block in blocks(model)[:k]:
        for layer in block:
            layer.trainable = False
    return list(model.trainable_variables)


def fine_tune_gans(Gs, Ds, x, steps: int, batch_size: int, seeds, lr: float, betas=(0.5, 0.999),
                   freeze: int = 0, eval_fn=None, eval_every: int = 250, desc: str | None = None):
    """Non-saturating GAN training of run ``i`` (``Gs[i]`` against ``Ds[i]`` on ``x``, ``seeds[i]``), all
    runs as one :class:`~course_lib.tensorflow.stacked.Stacked` network, with the discriminator's lower
    ``freeze`` layers frozen (left out of its optimizer). One discriminator step on a fresh batch, then
    one generator step, Adam at ``lr`` for both. Draws as :class:`~course_lib.runs.draws.RunDraws`:
    indices, the fakes' noise, the generator step's noise. ``eval_fn(G)`` runs every ``eval_every``
    steps and at the end; returns one history per run with ``step``, ``d_loss``, ``g_loss``,
    ``seconds`` (training time so far) and ``eval_fn``'s keys."""
    Gs, Ds, seeds = list(Gs), list(Ds), list(seeds)
    check_runs(Gs, Ds, [x] * len(Gs), seeds)
    G, D = Stacked(Gs), Stacked(Ds)
    d_vars = [v for i, pair in enumerate(zip(D.weights, D.biases)) if i >= freeze for v in pair]
    g_vars = G.trainable_variables
    opt_g = keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt_d = keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    opt_g.build(g_vars)
    opt_d.build(d_vars)
    x_all = to_tensor(np.stack([x] * len(Gs)))
    mean = lambda t: tf.reduce_mean(t, axis=-1)  # noqa: E731  one value per run

    @tf.function
    def step(idx, z_d, z_g):
        real = tf.gather(x_all, idx, batch_dims=1)
        fake = G(z_d)
        with tf.GradientTape() as tape:
            d_loss = mean(tf.nn.softplus(-D(real))) + mean(tf.nn.softplus(D(fake)))
            d_total = tf.reduce_sum(d_loss)  # inside the tape: a sum taken after it is not recorded
        grads = tape.gradient(d_total, d_vars)
        with tf.control_dependencies(grads + [d_loss]):  # the update after the whole step is computed
            opt_d.apply_gradients(zip(grads, d_vars))
        with tf.GradientTape() as tape:
            g_loss = mean(tf.nn.softplus(-D(G(z_g))))
            g_total = tf.reduce_sum(g_loss)
        opt_g.apply_gradients(zip(tape.gradient(g_total, g_vars), g_vars))
        return d_loss, g_loss

    draws = RunDraws([len(x)] * len(Gs), batch_size, seeds, G.z_dim, stacked=True)
    logs = RunningHistories(len(Gs), ["d_loss", "g_loss"], steps, eval_every)
    clock, bar = 0.0, progress(total=steps, desc=desc or f"fine-tune x{len(Gs)}")
    for i in range(1, steps + 1):
        start = time.perf_counter()
        idx = draws.indices()
        z_d = to_tensor(draws.noise(idx.shape[1]))
        d_loss, g_loss = step(tf.constant(idx), z_d, to_tensor(draws.noise(batch_size)))
        d_loss, g_loss = d_loss.numpy(), g_loss.numpy()
        clock += time.perf_counter() - start
        bar.update()
        if logs.add(i, d_loss=d_loss.tolist(), g_loss=g_loss.tolist()):
            for log in logs.logs:
                log.append(seconds=clock)
            if eval_fn is not None:
                G.unstack_into(Gs)
                for log, member in zip(logs.logs, Gs):
                    log.append(**eval_fn(member))
    bar.close()
    G.unstack_into(Gs), D.unstack_into(Ds)
    return logs.histories


# --- the checkers' side (lesson 07's exercises): build, run and probe networks -------------------


def build_spec(spec):
    """The network a :class:`course_lib.exercises.lesson07_transfer.NetSpec` describes, freshly initialised."""
    from .models import MLP
    keras.utils.set_random_seed(spec.seed)
    sizes = list(spec.sizes)
    if spec.kind == "generator":
        return Generator(z_dim=sizes[0], hidden=tuple(sizes[1:-1]), out_dim=sizes[-1])
    if spec.kind == "critic":
        return Critic(in_dim=sizes[0], hidden=tuple(sizes[1:-1]), norm=spec.norm)
    return MLP(sizes)


def outputs(model, x) -> np.ndarray:
    """The model's outputs on the NumPy inputs ``x``, as NumPy."""
    return model(to_tensor(x), training=False).numpy()


def independent_check(fn) -> str | None:
    """The loaded model must hold the arrays' values in its own trainable variables."""
    from ..exercises.lesson07_transfer import load_cases
    spec, layers = load_cases()[0]
    kept = [(k.copy(), b.copy()) for k, b in layers]
    model = fn(build_spec(spec), layers)
    variables = list(model.trainable_variables)
    if len(variables) != 2 * len(layers):
        return ("the loaded weights are no longer the model's trainable variables: assign the arrays to the "
                "existing ones (dense.kernel.assign(kernel), dense.bias.assign(bias)).")
    for v in variables:
        v.assign_add(tf.ones_like(v))  # what training does to them
    if any(not (np.array_equal(k, k0) and np.array_equal(b, b0)) for (k, b), (k0, b0) in zip(layers, kept)):
        return "training the model changed the NumPy arrays you loaded from: assign copies of them."
    return None


def _block_state(blocks_):
    weights, stats = [], []
    for block in blocks_:
        moving = [v for layer in block if isinstance(layer, keras.layers.BatchNormalization)
                  for v in (layer.moving_mean, layer.moving_variance)]
        weights.append([v.numpy().copy() for layer in block for v in layer.weights
                        if not any(v is m for m in moving)])
        stats.append([v.numpy().copy() for v in moving])
    return weights, stats


def freeze_probe(fn, spec, k) -> np.ndarray:
    """Build ``spec``'s discriminator, call the learner's ``fn(D, k)``, give what it returned to Adam, take a
    few non-saturating steps with ``training=True`` and report what changed (see ``freeze_truth``)."""
    from ..exercises.lesson07_transfer import FREEZE_STEPS
    D = build_spec(spec)
    rng = np.random.default_rng(spec.seed)
    batches = [(rng.normal(size=(8, spec.sizes[0])), rng.normal(0.5, 1.0, size=(8, spec.sizes[0])))
               for _ in range(FREEZE_STEPS)]
    params = fn(D, k)
    if params is None:
        raise ValueError("it returned None: return the variables that still train, for the optimizer")
    params = list(params)
    trainable = list(D.trainable_variables)
    exact = len(params) == len(trainable) and {id(v) for v in params} == {id(v) for v in trainable}
    before = _block_state(blocks(D))
    opt = keras.optimizers.Adam(learning_rate=0.05)
    for real, fake in batches:
        with tf.GradientTape() as tape:
            loss = (tf.reduce_mean(tf.nn.softplus(-D(to_tensor(real), training=True)))
                    + tf.reduce_mean(tf.nn.softplus(D(to_tensor(fake), training=True))))
        grads = tape.gradient(loss, params)
        opt.apply_gradients([(g, v) for g, v in zip(grads, params) if g is not None])
    after = _block_state(blocks(D))
    changed = lambda a, b: float(any(not np.array_equal(x, y) for x, y in zip(a, b)))  # noqa: E731
    rows = [v for w0, s0, w1, s1 in zip(*before, *after) for v in (changed(w0, w1), changed(s0, s1))]
    return np.array(rows + [float(exact)])
