"""Lesson 08 (multi-task learning): a shared trunk receives gradient from each head in both tracks; the
stacked networks compute what their members compute; the tracks' AC-GAN losses equal the NumPy truth;
every checker accepts the reference and rejects each known wrong answer with its diagnosis; the 2-D
metrics agree with their closed forms."""
import math
from importlib import import_module

import numpy as np
import pytest

from course_lib import data
from course_lib.classifier import digit_classifier
from course_lib.exercises import lesson08_multitask as L
from course_lib.techniques import multitask as M

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

TRACKS = ("torch", "tensorflow")


def _cond(track):
    return import_module(f"course_lib.{track}.conditional")


def _ex(track):
    return import_module(f"course_lib.{track}.exercises")


def _numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _trunk_grads(track, model, trunk, loss_fn):
    """Per trunk parameter: a non-zero gradient of loss_fn(model)?"""
    if track == "torch":
        model.zero_grad(set_to_none=True)
        loss_fn(model).backward()
        return [p.grad is not None and bool(p.grad.abs().sum() > 0) for p in trunk.parameters()]
    with tf.GradientTape() as tape:
        loss = loss_fn(model)
    return [g is not None and bool(tf.reduce_sum(tf.abs(g)) > 0)
            for g in tape.gradient(loss, trunk.trainable_variables)]


def _losses(track):
    if track == "torch":
        import torch.nn.functional as F
        return (lambda s: F.softplus(-s).mean()), (lambda c, y: F.cross_entropy(c, torch.as_tensor(y)))
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits
    return (lambda s: tf.reduce_mean(tf.nn.softplus(-s))), (lambda c, y: tf.reduce_mean(ce(y, c)))


@pytest.mark.parametrize("track", TRACKS)
def test_the_trunk_receives_gradient_from_each_head(track):
    cond = _cond(track)
    x, y = data.digits("train", with_labels=True)
    x, y = x[:16], y[:16]
    xt = torch.from_numpy(x) if track == "torch" else tf.constant(x)
    source, classes = _losses(track)
    D, other = cond.ACDiscriminator(64, (16, 8)), cond.ACDiscriminator(64, (16, 8))
    assert all(_trunk_grads(track, D, D.trunk, lambda m: source(m(xt)[0])))
    assert all(_trunk_grads(track, D, D.trunk, lambda m: classes(m(xt)[1], y)))
    assert not any(_trunk_grads(track, D, D.trunk, lambda m: classes(other(xt)[1], y)))
    # the VAE: the class head's loss alone reaches the encoder, which the ELBO trains too
    vae = cond.MultitaskVAE(z_dim=4, hidden=(16, 8))
    assert all(_trunk_grads(track, vae, vae.encoder, lambda m: classes(m.classify(xt), y)))


@pytest.mark.parametrize("track", TRACKS)
def test_stacked_networks_compute_what_their_members_compute(track):
    cond = _cond(track)
    rng = np.random.default_rng(0)
    z, yl = rng.normal(size=(3, 5, 4)).astype(np.float32), rng.integers(0, 3, (3, 5))
    Gs = [cond.ConditionalGenerator(4, (8, 6), 2, 3, "linear") for _ in range(3)]
    ACs = [cond.ACDiscriminator(2, (8, 6), 3) for _ in range(3)]
    Cs = [cond.ConcatDiscriminator(2, (8, 6), 3) for _ in range(3)]
    oh = np.eye(3, dtype=np.float32)[yl]
    as_t = torch.from_numpy if track == "torch" else tf.constant
    stacked_g = _numpy(cond.StackedNet(Gs)(as_t(np.concatenate([z, oh], -1))))
    for i, G in enumerate(Gs):
        np.testing.assert_allclose(stacked_g[i], _numpy(G(as_t(z[i]), as_t(yl[i]))), atol=1e-6)
        s, c = ACs[i](as_t(stacked_g[i]))
        out = _numpy(cond.StackedNet(ACs)(as_t(stacked_g)))[i]
        np.testing.assert_allclose(out[:, 0], _numpy(s), atol=1e-6)
        np.testing.assert_allclose(out[:, 1:], _numpy(c), atol=1e-6)
        out = _numpy(cond.StackedNet(Cs)(as_t(np.concatenate([stacked_g, oh], -1))))[i]
        np.testing.assert_allclose(out[:, 0], _numpy(Cs[i](as_t(stacked_g[i]), as_t(yl[i]))), atol=1e-6)


@pytest.mark.parametrize("track", TRACKS)
def test_the_tracks_losses_equal_the_numpy_truth(track):
    cond = _cond(track)
    adapt = cond.adapt
    for case in L._ac_cases():
        got = _numpy(cond.acgan_d_loss(*[adapt(a) for a in case]))
        np.testing.assert_allclose(got, M.acgan_d_loss(*case), rtol=1e-5)
        g_case = (case[3], case[4], case[5], case[6])
        np.testing.assert_allclose(_numpy(cond.acgan_g_loss(*[adapt(a) for a in g_case])), M.acgan_g_loss(*g_case),
                                   rtol=1e-5)


# --- the checkers ----------------------------------------------------------------------------


def _as_learner(track, impl, name):
    """A learner's function that makes the NumPy mistake ``impl`` on the track's tensors."""
    train = import_module(f"course_lib.{track}.train")

    def fn(*args):
        if name == "multitask_loss":
            return train.to_tensor(impl(L.Losses(tuple(float(_numpy(v)) for v in args[0])), args[1]))
        return train.to_tensor(impl(*[_numpy(a) if not isinstance(a, float) else a for a in args]))
    return fn


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("name", ["acgan_d_loss", "acgan_g_loss", "multitask_loss"])
def test_checkers_accept_the_reference_and_reject_each_known_mistake(track, name):
    exercise = getattr(_ex(track), name)
    assert exercise.verdict(exercise.fallback).passed
    assert len(exercise.mistakes) >= 5
    for mistake in exercise.mistakes:
        v = exercise.verdict(_as_learner(track, mistake.impl, name))
        assert not v.passed and mistake.message in v.message, (mistake.name, v.message)
        assert v.use is exercise.fallback


@pytest.mark.parametrize("track", TRACKS)
def test_the_named_mistakes_written_in_the_framework(track):
    ex = _ex(track)
    if track == "torch":
        import torch.nn.functional as F
        sp, ce, mean = F.softplus, F.cross_entropy, torch.mean
    else:
        sp, mean = tf.nn.softplus, tf.reduce_mean

        def ce(c, y):
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, c))

    def real_labels(sr, cr, yr, sf, cf, yf, w):
        return mean(sp(-sr)) + mean(sp(sf)) + w * (ce(cr, yr) + ce(cf, yr))

    def no_class_g(sf, cf, yf, w):
        return mean(sp(-sf))

    def minus_class_g(sf, cf, yf, w):
        return mean(sp(-sf)) - w * ce(cf, yf)

    def plain_sum(losses, weights):
        return sum(w * loss for w, loss in zip(weights, losses))

    def dropped(losses, weights):
        return sum(w * loss for w, loss in zip(weights[:-1], losses[:-1])) / sum(weights)

    for exercise, fn, words in ((ex.acgan_d_loss, real_labels, "uses the real batch's labels"),
                                (ex.acgan_g_loss, no_class_g, "the class term is missing"),
                                (ex.acgan_g_loss, minus_class_g, "the class term is subtracted"),
                                (ex.multitask_loss, plain_sum, "not divided by the sum of the weights"),
                                (ex.multitask_loss, dropped, "last head's loss is missing")):
        v = exercise.verdict(fn)
        assert not v.passed and words in v.message, v.message


@pytest.mark.parametrize("track", TRACKS)
def test_a_loss_that_cuts_the_graph_is_rejected(track):
    ex = _ex(track)
    if track == "torch":
        def cut(losses, weights):
            return torch.tensor(float(sum(w * loss.item() for w, loss in zip(weights, losses)) / sum(weights)))
    else:
        def cut(losses, weights):
            return tf.constant(sum(w * float(loss) for w, loss in zip(weights, losses)) / sum(weights))
    v = ex.multitask_loss.verdict(cut)
    assert not v.passed and "no gradient reaches" in v.message


# --- the framework-neutral part: closed forms and metrics -----------------------------------


def test_the_true_overlap_share_and_the_2d_metrics_agree_with_closed_forms():
    assert M.true_overlap_share() == pytest.approx(0.5 * math.erf(1.5 / math.sqrt(2)), abs=1e-12)
    assert M.true_overlap_share() == pytest.approx(0.43319, abs=1e-5)
    x, y = M.two_classes(100_000, seed=3)
    g = M.class_geometry(x, y)
    assert g["gap"] == pytest.approx(1.5, abs=0.02)
    assert g["sd0"] == pytest.approx(1.0, abs=0.01) and g["sd1"] == pytest.approx(1.0, abs=0.01)
    assert g["overlap"] == pytest.approx(M.true_overlap_share(), abs=0.005)
    # two classes moved apart and shrunk: a larger gap, smaller spreads, an emptier middle
    squeezed = np.where(y[:, None] == 0, (x - [0, 0]) * 0.6 - [0.5, 0], (x - [1.5, 0]) * 0.6 + [2.0, 0])
    h = M.class_geometry(squeezed, y)
    assert h["gap"] == pytest.approx(2.5, abs=0.02) and h["sd0"] < 0.7 and h["overlap"] < g["overlap"]
    t = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(M.density(t, 0.0), np.exp(-t ** 2 / 2) / np.sqrt(2 * np.pi))


def test_the_losses_truths():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(M.cross_entropy(logits, labels), -np.log(p[np.arange(5), labels]))
    assert M.multitask_loss([2.0, 4.0], [1.0, 3.0]) == pytest.approx(3.5)
    assert M.multitask_loss([2.0, 4.0], [10.0, 30.0]) == pytest.approx(3.5)  # shares, not sizes
    assert M.combine([2.0, 4.0], [1.0, 3.0]) == pytest.approx(3.5)
    s = rng.normal(size=5)
    assert M.acgan_g_loss(s, logits, labels, 0.0) == pytest.approx(float(np.log1p(np.exp(-s)).mean()))


def test_class_control_and_diversity_on_real_digits():
    clf = digit_classifier()
    x, y = data.digits("test", with_labels=True)
    assert M.class_control(y, y) == 1.0
    assert M.class_control((y + 1) % 10, y) == 0.0
    feats = clf.features(x)
    real = M.within_class_diversity(feats, y)
    assert real.shape == (10,) and (real > 0).all()
    # real digits against themselves (all of them agreed on): 1 where the classifier is right on every digit
    assert M.diversity_ratio(feats, y, y, real) == pytest.approx(1.0)
    # one digit repeated: no variety at all
    same = np.repeat(feats[:1], 20, axis=0)
    assert M.diversity_ratio(same, np.repeat(np.arange(10), 2), np.repeat(np.arange(10), 2), real) == 0.0
    assert M.mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)


def test_latent_space_helpers():
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(3), 50)
    z = rng.normal(size=(150, 4)) + 5.0 * np.eye(4)[y]
    assert M.logistic_probe(z[::2], y[::2], z[1::2], y[1::2]) == 1.0
    assert M.between_within_ratio(z, y) > M.between_within_ratio(rng.normal(size=(150, 4)), y)
    xy = M.pca_2d(z)
    assert xy.shape == (150, 2) and abs(xy.mean()) < 1e-9
    assert set(M.few_labels(np.tile(np.arange(10), 20), 3).tolist()) == set(range(30))


@pytest.mark.parametrize("kind", ["ACDiscriminator", "ConcatDiscriminator"])
def test_the_tracks_stacked_runs_agree_from_the_same_weights(kind):
    """Started from the same weights with the same draws, the two tracks' stacked runs train alike (up to
    float32 round-off, which Adam's first steps amplify on near-zero gradients): any difference between
    the tracks' numbers is the seed's initial weights."""
    cond_t, cond_f = _cond("torch"), _cond("tensorflow")
    sets = [M.two_classes(200, s) for s in (0, 1)]
    nets = {}
    for name, cond in (("t", cond_t), ("f", cond_f)):
        nets[name] = ([cond.ConditionalGenerator(2, (16, 16), 2, 2, "linear") for _ in sets],
                      [getattr(cond, kind)(2, (16, 16), 2) for _ in sets])
    for a, b in zip(nets["t"][0] + nets["t"][1], nets["f"][0] + nets["f"][1]):
        for (lins, _), (denses, _) in zip(a.plan(), b.plan()):
            for lin, dense in zip(lins, denses):
                dense.kernel.assign(lin.weight.detach().numpy().T), dense.bias.assign(lin.bias.detach().numpy())
    for cond, (Gs, Ds) in ((cond_t, nets["t"]), (cond_f, nets["f"])):
        cond.train_conditional_gans(Gs, Ds, [x for x, _ in sets], [y for _, y in sets], [0, 1], [0.3, 1.0], 10, 64,
                                    1e-3, (0.5, 0.999))
    labels = M.balanced_labels(50, 2)
    for Gt, Gf in zip(nets["t"][0], nets["f"][0]):
        np.testing.assert_allclose(cond_t.sample(Gt, labels, 3), cond_f.sample(Gf, labels, 3), atol=2e-3)
