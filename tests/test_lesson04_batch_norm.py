"""Lesson 04 (batch normalization): the NumPy reference against both frameworks' layers (with the
momentum conversion), the momentum helpers, the generator's optional norm, the track helpers, and
the checkers (the reference passes; each known mistake gets its own diagnosis)."""
from pathlib import Path

import numpy as np
import pytest

from course_lib.checks import CORRECT, NOT_ATTEMPTED, WRONG
from course_lib.exercises import lesson04_batch_norm as BX
from course_lib.techniques import batchnorm as B

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from course_lib.tensorflow import batchnorm as bn_tf, exercises as ex_tf  # noqa: E402
from course_lib.torch import batchnorm as bn_torch, exercises as ex_torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRACKS = {"torch": (ct_torch, bn_torch, ex_torch), "tensorflow": (ct_tf, bn_tf, ex_tf)}


def _batch(seed=0, n=16, d=5):
    rng = np.random.default_rng(seed)
    return (rng.normal(2.0, 1.5, size=(n, d)) + rng.normal(size=d)).astype(np.float32)


@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_numpy_batchnorm_matches_torch_batchnorm1d_in_training_mode(momentum):
    x = _batch()
    layer = torch.nn.BatchNorm1d(5, momentum=momentum, eps=1e-5).train()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(rng.uniform(0.5, 2, 5)))
        layer.bias.copy_(torch.as_tensor(rng.normal(size=5)))
        layer.running_mean.copy_(torch.as_tensor(rng.normal(size=5)))
        layer.running_var.copy_(torch.as_tensor(rng.uniform(0.5, 2, 5)))
        gamma, beta = layer.weight.numpy().copy(), layer.bias.numpy().copy()
        rm, rv = layer.running_mean.numpy().copy(), layer.running_var.numpy().copy()
        y = layer(torch.as_tensor(x)).numpy()
    y_np, m_np, v_np = B.batchnorm_train(x, gamma, beta, rm, rv, momentum, 1e-5)
    assert np.allclose(y, y_np, atol=1e-5)
    assert np.allclose(layer.running_mean.numpy(), m_np, atol=1e-6)
    assert np.allclose(layer.running_var.numpy(), v_np, atol=1e-5)
    layer.eval()
    with torch.no_grad():
        y_eval = layer(torch.as_tensor(x)).numpy()
    assert np.allclose(y_eval, B.batchnorm_eval(x, gamma, beta, m_np, v_np), atol=1e-5)


@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_numpy_batchnorm_matches_keras_with_converted_momentum(momentum):
    """Keras' momentum = 1 - PyTorch's; Keras' moving variance takes the *biased* batch variance."""
    x = _batch(2)
    layer = keras.layers.BatchNormalization(momentum=B.keras_momentum(momentum), epsilon=1e-5)
    layer.build((None, 5))
    y = layer(tf.constant(x), training=True).numpy()
    y_np, m_np, v_np = B.batchnorm_train(x, np.ones(5), np.zeros(5), np.zeros(5), np.ones(5), momentum, 1e-5)
    assert np.allclose(y, y_np, atol=1e-5)
    assert np.allclose(layer.moving_mean.numpy(), m_np, atol=1e-6)
    n = len(x)
    biased = (1 - momentum) * 1.0 + momentum * x.var(axis=0)
    assert np.allclose(layer.moving_variance.numpy(), biased, atol=1e-5)
    assert not np.allclose(layer.moving_variance.numpy(), v_np, atol=1e-5)  # torch keeps the unbiased one
    assert np.allclose((v_np - (1 - momentum)) * (n - 1) / n, biased - (1 - momentum), atol=1e-5)


def test_numpy_layernorm_matches_both_frameworks():
    x = _batch(3, n=6, d=7)
    rng = np.random.default_rng(4)
    gamma, beta = rng.uniform(0.5, 2, 7).astype(np.float32), rng.normal(size=7).astype(np.float32)
    want = B.layernorm(x, gamma, beta, 1e-5)
    t = torch.nn.LayerNorm(7, eps=1e-5)
    with torch.no_grad():
        t.weight.copy_(torch.as_tensor(gamma)), t.bias.copy_(torch.as_tensor(beta))
        assert np.allclose(t(torch.as_tensor(x)).numpy(), want, atol=1e-5)
    k = keras.layers.LayerNormalization(epsilon=1e-5)
    k.build((None, 7))
    k.gamma.assign(gamma), k.beta.assign(beta)
    assert np.allclose(k(tf.constant(x)).numpy(), want, atol=1e-5)
    # per sample: changing the other rows does not change row 0
    x2 = x.copy()
    x2[1:] += 5.0
    assert np.allclose(B.layernorm(x2, gamma, beta)[0], want[0])


def test_momentum_helpers():
    assert B.keras_momentum(0.1) == pytest.approx(0.9) and B.torch_momentum(0.99) == pytest.approx(0.01)
    means = np.full(50, 3.0)
    r = B.running_means(means, 0.1)
    assert np.allclose(r, 3.0 * (1 - 0.9 ** np.arange(1, 51)))
    assert np.allclose(B.running_means(means, 0.9, convention="keras"), r)
    for m in (0.5, 0.1, 0.01):
        k = B.steps_to_converge(m)
        assert 1 - (1 - m) ** k >= 0.99 > 1 - (1 - m) ** (k - 1)
    with pytest.raises(ValueError):
        B.running_means(means, 0.1, convention="jax")
    batches = B.momentum_batches(30)
    assert batches.shape == (30, 32, 1) and np.array_equal(batches, B.momentum_batches(30))


@pytest.mark.parametrize("m", [0.5, 0.1, 0.01])
def test_framework_running_mean_traces_follow_the_formula(m):
    batches = B.momentum_batches(40)
    want = B.running_means(batches.mean(axis=(1, 2)), m)
    assert np.allclose(bn_torch.running_mean_trace(batches, m)[:, 0], want, atol=1e-5)
    assert np.allclose(bn_tf.running_mean_trace(batches, B.keras_momentum(m))[:, 0], want, atol=1e-5)


# --- models and track helpers -------------------------------------------------------------

def test_generator_default_is_unchanged_and_norm_adds_layers():
    g = ct_torch.Generator()
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.LayerNorm)) for m in g.modules())
    assert [type(m).__name__ for m in g.net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    gb = ct_torch.Generator(norm="batch")
    assert [type(m).__name__ for m in gb.net] == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU",
                                                  "Linear"]
    assert sum(isinstance(m, torch.nn.LayerNorm) for m in ct_torch.Generator(norm="layer").modules()) == 2
    k = ct_tf.Generator()
    assert [type(layer).__name__ for layer in k.net.layers] == ["Dense", "Dense", "Dense"]
    kb = ct_tf.Generator(norm="batch")
    assert [type(layer).__name__ for layer in kb.net.layers] == [
        "Dense", "BatchNormalization", "Activation", "Dense", "BatchNormalization", "Activation", "Dense"]
    bns = bn_tf.bn_layers(kb)
    assert len(bns) == 2 and all(b.momentum == pytest.approx(0.9) and b.epsilon == pytest.approx(1e-5) for b in bns)
    for mod in (ct_torch, ct_tf):
        with pytest.raises(ValueError):
            mod.Generator(norm="group")


def test_generator_default_weights_match_lesson_00():
    """Same seed, same weights: the norm keyword must not change how a default generator is built."""
    ct_torch.seed_everything(3)
    a = ct_torch.Generator()
    ct_torch.seed_everything(3)
    b = ct_torch.Generator(norm=None)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    ct_torch.seed_everything(3)
    c = ct_torch.Generator(norm="batch")
    lin = [p for n, p in c.named_parameters() if p.dim() == 2]
    assert all(torch.equal(p, q) for p, q in zip([p for p in a.parameters() if p.dim() == 2], lin))


@pytest.mark.parametrize("track", list(TRACKS))
def test_generate_modes_and_running_stats_are_left_alone(track):
    ct, bn, _ = TRACKS[track]
    ct.seed_everything(0)
    G = ct.Generator(norm="batch")
    bn.warm_up(G, 3, 32)
    before = [np.array(s) for layer in bn.bn_layers(G) for s in _stats(track, layer)]
    z = np.random.default_rng(0).normal(size=(16, 16)).astype(np.float32)
    train, evalm = bn.generate(G, z, True), bn.generate(G, z, False)
    assert train.shape == evalm.shape == (16, 64) and not np.allclose(train, evalm, atol=1e-4)
    same = bn.generate(G, np.repeat(z[:1], 8, 0), True)
    other = bn.generate(G, np.repeat(z[1:2], 8, 0), True)
    assert np.allclose(same, other, atol=1e-5)  # identical z in train mode: output independent of z
    assert np.allclose(bn.generate(G, z[:1], False), evalm[:1], atol=1e-5)  # eval mode: per sample
    after = [np.array(s) for layer in bn.bn_layers(G) for s in _stats(track, layer)]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    fresh = bn.with_fresh_running_stats(G, momentum=0.01)
    for layer in bn.bn_layers(fresh):
        m, v = _stats(track, layer)
        assert np.allclose(m, 0) and np.allclose(v, 1)
        assert (layer.momentum if track == "torch" else 1 - layer.momentum) == pytest.approx(0.01)
    assert np.allclose(bn.generate(fresh, z, True), train, atol=1e-5)  # same weights


def _stats(track, layer):
    if track == "torch":
        return layer.running_mean.numpy().copy(), layer.running_var.numpy().copy()
    return layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()


@pytest.mark.parametrize("track", list(TRACKS))
def test_cross_sample_gradients_and_separate_batches(track):
    ct, bn, _ = TRACKS[track]
    x = np.random.default_rng(5).normal(size=(6, 2)).astype(np.float32)
    for norm, coupled in ((None, False), ("layer", False), ("batch", True)):
        ct.seed_everything(0)
        M = bn.cross_sample_gradients(ct.Critic(2, (16, 16), norm=norm), x)
        off = M[~np.eye(6, dtype=bool)]
        assert M.shape == (6, 6) and np.all(np.diag(M) > 0)
        assert bool(np.any(off > 1e-4)) == coupled, norm
        if norm == "batch":
            M_eval = bn.cross_sample_gradients(ct.Critic(2, (16, 16), norm=norm), x, train_mode=False)
            assert np.all(M_eval[~np.eye(6, dtype=bool)] < 1e-6)
    ct.seed_everything(0)
    D = ct.Critic(64, (32, 16), norm="batch")
    real = np.random.default_rng(6).uniform(size=(32, 64)).astype(np.float32)
    r, f = bn.d_scores(D, real, real + 0.3, mixed=False)
    assert np.allclose(r, f, atol=1e-4)  # a shift of the whole batch vanishes in its own normalisation
    r, f = bn.d_scores(D, real, real + 0.3, mixed=True)
    assert not np.allclose(r, f, atol=1e-3)


# --- checkers -----------------------------------------------------------------------------

def _as_numpy_args(f):
    return lambda *a: f(*[np.asarray(x) if hasattr(x, "shape") else x for x in a])


@pytest.mark.parametrize("track", list(TRACKS))
def test_checkers_pass_the_reference_and_flag_every_known_mistake(track):
    ex = TRACKS[track][2]
    for exercise, mistakes in ((ex.batchnorm_train, BX.BATCHNORM_MISTAKES), (ex.layernorm, BX.LAYERNORM_MISTAKES)):
        assert exercise.verdict(exercise.fallback).status == CORRECT
        # NumPy computes the right values but nothing can be trained through them (PyTorch even refuses
        # to hand NumPy a tensor that records gradients)
        v = exercise.verdict(_as_numpy_args(exercise.truth))
        why = "Can't call numpy() on Tensor that requires grad" if track == "torch" else "returned a NumPy array"
        assert v.status == WRONG and "the values are right" in v.message and why in v.message, v.message
        for m in mistakes:
            v = exercise.verdict(_as_numpy_args(m.impl))
            assert v.status == WRONG and m.message in v.message, m.name

        def stub(*args):
            raise NotImplementedError
        assert exercise.verdict(stub).status == NOT_ATTEMPTED
        assert exercise.verdict(None).status == NOT_ATTEMPTED


def test_learner_style_mistakes_get_their_diagnosis():
    """Mistakes written the way a learner would, in each framework's own ops."""
    def torch_default_var(x, gamma, beta, rm, rv, momentum, eps):  # torch's var() is unbiased by default
        mean, var = x.mean(0), x.var(0)
        y = gamma * (x - mean) / torch.sqrt(var + eps) + beta
        return y, (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var
    v = ex_torch.batchnorm_train.verdict(torch_default_var)
    assert v.status == WRONG and "normalised with the unbiased variance" in v.message

    def keras_convention(x, gamma, beta, rm, rv, momentum, eps):
        n = tf.cast(tf.shape(x)[0], x.dtype)
        mean, var = tf.reduce_mean(x, 0), tf.math.reduce_variance(x, 0)
        y = gamma * (x - mean) / tf.sqrt(var + eps) + beta
        return y, momentum * rm + (1 - momentum) * mean, momentum * rv + (1 - momentum) * var * n / (n - 1)
    v = ex_tf.batchnorm_train.verdict(keras_convention)
    assert v.status == WRONG and "Keras convention" in v.message

    def tf_biased_running(x, gamma, beta, rm, rv, momentum, eps):
        mean, var = tf.reduce_mean(x, 0), tf.math.reduce_variance(x, 0)
        y = gamma * (x - mean) / tf.sqrt(var + eps) + beta
        return y, (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var
    v = ex_tf.batchnorm_train.verdict(tf_biased_running)
    assert v.status == WRONG and "unbiased* one (divide by n - 1) in running_var" in v.message

    def torch_layernorm_over_batch(x, gamma, beta, eps):
        return gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + beta
    v = ex_torch.layernorm.verdict(torch_layernorm_over_batch)
    assert v.status == WRONG and "that is BatchNorm" in v.message


def test_norm_can_be_a_callable_that_builds_the_layer():
    """Lesson 04's short run builds its generator on the learner's layer: ``norm`` may be a callable, called
    with each hidden width, in the generator and the critic of both tracks; other values are refused."""
    widths = []

    def torch_layer(features):
        widths.append(features)
        return torch.nn.Identity()

    g = ct_torch.Generator(norm=torch_layer)
    assert widths == [128, 256] and g.norm is torch_layer
    assert [type(m).__name__ for m in g.net] == ["Linear", "Identity", "ReLU", "Linear", "Identity", "ReLU", "Linear"]
    c = ct_torch.Critic(64, (32, 16), norm=torch_layer)
    assert widths == [128, 256, 32, 16] and sum(isinstance(m, torch.nn.Identity) for m in c.modules()) == 2

    def keras_layer(features):
        widths.append(features)
        return keras.layers.Identity()

    widths.clear()
    k = ct_tf.Generator(norm=keras_layer)
    assert widths == [128, 256] and k.norm_kind is keras_layer
    assert [type(layer).__name__ for layer in k.net.layers] == [
        "Dense", "Identity", "Activation", "Dense", "Identity", "Activation", "Dense"]
    ct_tf.Critic(64, (32, 16), norm=keras_layer)
    assert widths == [128, 256, 32, 16]
    for mod in (ct_torch, ct_tf):
        for bad in ("group", 3):
            with pytest.raises(ValueError):
                mod.Generator(norm=bad)
            with pytest.raises(ValueError):
                mod.Critic(norm=bad)
