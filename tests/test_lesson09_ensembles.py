"""Lesson 09's library: the moving average against its closed form, log-mean-exp against a direct
float64 computation (and stable at -1000 nats), the ensemble's bounds, mixtures' sampling, the
recomputed BatchNorm statistics, and the checkers, which pass the references of both tracks and
reject each known wrong answer with its own diagnosis."""
import numpy as np
import pytest

from course_lib import data
from course_lib.exercises import lesson09_ensembles as l09
from course_lib.techniques import ensembles as ens

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import ensembles as ens_tf, exercises as ex_tf  # noqa: E402
from course_lib.torch import ensembles as ens_torch, exercises as ex_torch  # noqa: E402

TRACKS = {"pytorch": (ens_torch, ex_torch, torch.tensor), "tensorflow": (ens_tf, ex_tf, tf.constant)}


def _run_ema(update, to_tensor, w0, weights, decay):
    average = update(None, [to_tensor(w0)], decay, [False])
    for w in weights:
        average = update(average, [to_tensor(w)], decay, [False])
    return np.asarray(average[0], dtype=np.float64)


@pytest.mark.parametrize("track", TRACKS)
def test_ema_matches_its_closed_form(track):
    ensembles, _, to_tensor = TRACKS[track]
    rng = np.random.default_rng(0)
    w0, w = rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    for decay, n in ((0.9, 10), (0.99, 50)):
        got = _run_ema(ensembles.ema_update, to_tensor, w0, [w] * n, decay)
        np.testing.assert_allclose(got, w + decay ** n * (w0 - w), rtol=1e-5, atol=1e-6)
    weights = rng.normal(size=(7, 4)).astype(np.float32)  # a sequence: the explicit weighted sum
    w0_64, weights_64 = w0.astype(np.float64), weights.astype(np.float64)
    explicit = 0.8 ** 7 * w0_64 + sum((1 - 0.8) * 0.8 ** (7 - t) * weights_64[t - 1] for t in range(1, 8))
    np.testing.assert_allclose(_run_ema(ensembles.ema_update, to_tensor, w0, weights, 0.8), explicit,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ens.ema_closed_form(w0, weights, 0.8), explicit, rtol=1e-12)
    np.testing.assert_allclose(_run_ema(ens.ema_update, np.asarray, w0, weights, 0.8), explicit, rtol=1e-6)


@pytest.mark.parametrize("track", TRACKS)
def test_ema_copies_buffers_and_makes_copies(track):
    ensembles, _, to_tensor = TRACKS[track]
    weight, buffer = to_tensor(np.ones(3, np.float32)), to_tensor(np.full(3, 5.0, np.float32))
    average = ensembles.ema_update(None, [weight, buffer], 0.9, [False, True])
    new = [to_tensor(np.zeros(3, np.float32)), to_tensor(np.full(3, 7.0, np.float32))]
    average = ensembles.ema_update(average, new, 0.9, [False, True])
    np.testing.assert_allclose(np.asarray(average[0]), 0.9, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(average[1]), 7.0)
    if track == "pytorch":  # a copy, not the tensor itself: an in-place step must not move the average
        p = torch.ones(2)
        first = ensembles.ema_update(None, [p], 0.9, [False])
        p.add_(1.0)
        np.testing.assert_allclose(first[0].numpy(), 1.0)


@pytest.mark.parametrize("track", TRACKS)
def test_log_mean_exp_against_float64_and_stable_far_out(track):
    ensembles, _, to_tensor = TRACKS[track]
    rng = np.random.default_rng(1)
    x = rng.normal(-5.0, 2.0, (4, 9))
    direct = np.log(np.mean(np.exp(x), axis=0))  # fine in float64 at a few nats
    np.testing.assert_allclose(ens.ensemble_log_likelihood(x), direct, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ensembles.ensemble_log_likelihood(to_tensor(x))), direct, rtol=1e-10)
    far = np.array([[-1000.0, -300.0], [-1002.0, -310.0], [-1001.0, -305.0]])
    want = far.max(0) + np.log(np.mean(np.exp(far - far.max(0)), axis=0))
    tracked = np.asarray(ensembles.ensemble_log_likelihood(to_tensor(far.astype(np.float32))))
    for got in (ens.log_mean_exp(far), tracked):
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_the_bounds_hold():
    x = np.random.default_rng(2).normal(-300.0, 30.0, (5, 200))
    e = ens.ensemble_log_likelihood(x)
    assert np.all(x.mean(0) <= e + 1e-9) and np.all(e <= x.max(0) + 1e-9)
    assert np.all(e <= x.max(0) - 0.0) and np.all(e >= x.max(0) - np.log(len(x)) - 1e-9)  # within log K of the max


@pytest.mark.parametrize("track", TRACKS)
def test_mixture_sampling_and_averaged_outputs(track):
    ensembles, _, _ = TRACKS[track]
    ct = ct_torch if track == "pytorch" else ct_tf
    Gs = []
    for s in range(3):
        ct.seed_everything(s)
        Gs.append(ct.Generator(z_dim=4, hidden=(8,), out_dim=2, output="linear"))
    assert ens.member_counts(10, 3) == [4, 3, 3]
    mixed, averaged = ensembles.sample_mixture(Gs, 10, 0), ensembles.sample_averaged(Gs, 10, 0)
    each = [ct.sample_gan(G, 10, 0) for G in Gs]  # every generator on the same noise
    np.testing.assert_allclose(mixed, np.concatenate([each[0][:4], each[1][4:7], each[2][7:]]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(averaged, np.mean(each, axis=0), rtol=1e-5, atol=1e-6)


def test_cosine_restarts():
    lrs = [ens.cosine_restarts(s, 4, 1.0) for s in range(8)]
    np.testing.assert_allclose(lrs, [1.0, 0.8535534, 0.5, 0.1464466] * 2, rtol=1e-6)


def test_recompute_bn_sets_the_statistics_of_the_batches():
    ct_tf.seed_everything(0)
    G = ct_tf.Generator(z_dim=4, hidden=(8,), out_dim=3, norm="batch")
    noises = [data.noise(32, 4, s) for s in range(3)]
    ens_tf.recompute_bn(G, noises)
    dense, bn = G.net.layers[0], G.net.layers[1]
    h = [np.asarray(dense(tf.constant(z))) for z in noises]
    np.testing.assert_allclose(np.asarray(bn.moving_mean), np.mean([a.mean(0) for a in h], 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), np.mean([a.var(0) for a in h], 0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("track", TRACKS)
def test_checkers_pass_the_references(track):
    ensembles, ex, _ = TRACKS[track]
    assert ex.ema_update.verdict(ensembles.ema_update).passed
    assert ex.ensemble_log_likelihood.verdict(ensembles.ensemble_log_likelihood).passed


def _as_learner(impl):
    """A known mistake, run on the learner's side (tensors in, arrays out)."""
    def fn(*args):
        args = [[np.asarray(t) for t in a] if isinstance(a, list) and a and not isinstance(a[0], bool)
                else (np.asarray(a) if hasattr(a, "shape") else a) for a in args]
        out = impl(*args)
        return list(out) if isinstance(out, tuple) else out
    return fn


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("exercise, mistakes", [("ema_update", l09.EMA_MISTAKES),
                                                ("ensemble_log_likelihood", l09.LL_MISTAKES)])
def test_checkers_reject_each_known_mistake_with_its_diagnosis(track, exercise, mistakes):
    ensembles, ex, _ = TRACKS[track]
    checker = getattr(ex, exercise)
    for mistake in mistakes:
        verdict = checker.verdict(_as_learner(mistake.impl))
        assert not verdict.passed and mistake.message in verdict.message, mistake.name
        assert verdict.use is getattr(ensembles, exercise)


@pytest.mark.parametrize("track", TRACKS)
def test_log_mean_exp_written_out_in_the_framework_is_diagnosed(track):
    _, ex, _ = TRACKS[track]
    if track == "pytorch":
        naive = lambda x: torch.log(torch.exp(x).mean(0))  # noqa: E731
    else:
        naive = lambda x: tf.math.log(tf.reduce_mean(tf.exp(x), 0))  # noqa: E731
    verdict = ex.ensemble_log_likelihood.verdict(naive)
    assert not verdict.passed and "underflows" in verdict.message
