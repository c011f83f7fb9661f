"""Checker tests: every exercise accepts its reference, rejects the known mistakes with
their own diagnosis, and falls back to the reference when not attempted."""
import importlib

import numpy as np
import pytest

from course_lib.exercises import lesson00_baselines as shared
from course_lib.checks import CORRECT, NOT_ATTEMPTED, WRONG, Exercise, Mistake


def _stub(*args):
    raise NotImplementedError("Exercise: replace this line with your code")


# --- the engine itself ---------------------------------------------------------------

def _square_exercise():
    return Exercise(name="square", truth=lambda x: x**2, cases=[(np.arange(4.0),), (np.array([-2.0, 0.5]),)],
                    hints=("multiply x by itself", "x ** 2"),
                    mistakes=(Mistake("double", lambda x: 2 * x, "you doubled x instead of squaring it"),))


def test_engine_verdicts():
    ex = _square_exercise()
    assert ex.verdict(lambda x: x * x).status == CORRECT
    v = ex.verdict(lambda x: 2 * x)
    assert v.status == WRONG and "doubled" in v.message and v.use is ex.truth
    assert ex.verdict(lambda x: 3 * x**2).status == WRONG
    assert "3 times" in ex.verdict(lambda x: 3 * x**2).message
    assert "None" in ex.verdict(lambda x: None).message
    assert "ZeroDivisionError" in ex.verdict(lambda x: 1 / 0).message
    assert "shape" in ex.verdict(lambda x: x[:1] ** 2).message
    for missing in (None, _stub):
        v = ex.verdict(missing)
        assert v.status == NOT_ATTEMPTED and "hint()" in v.message and v.use is ex.truth


def test_check_prints_and_returns_what_to_use(capsys):
    ex = _square_exercise()
    mine = lambda x: x * x  # noqa: E731
    assert ex.check(mine) is mine
    assert "correct" in capsys.readouterr().out
    assert ex.check(_stub) is ex.truth
    assert "not attempted" in capsys.readouterr().out


def test_levelled_hints(capsys):
    ex = _square_exercise()
    ex.hint()
    ex.hint()
    ex.hint()  # stays on the last level
    out = capsys.readouterr().out
    assert "Hint 1/2" in out and out.count("Hint 2/2") == 2
    with pytest.raises(ValueError, match="between 1 and 2"):
        ex.hint(3)


# --- lesson 00, framework-neutral ------------------------------------------------------

def test_frechet_reference_passes_and_mistakes_are_named():
    ex = shared.frechet_distance()
    from course_lib.metrics import frechet_distance
    assert ex.verdict(frechet_distance).passed
    for mistake in shared.FRECHET_MISTAKES:
        v = ex.verdict(mistake.impl)
        assert v.status == WRONG, mistake.name
        assert mistake.message in v.message, mistake.name
    assert ex.verdict(_stub).status == NOT_ATTEMPTED


def test_frechet_scipy_solution_is_accepted():
    scipy_linalg = pytest.importorskip("scipy.linalg")

    def with_sqrtm(a, b):
        mu1, mu2 = a.mean(0), b.mean(0)
        s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        covmean = scipy_linalg.sqrtm(s1 @ s2).real
        return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))

    assert shared.frechet_distance().verdict(with_sqrtm).passed


# --- lesson 00, per framework: the same mistakes written as a learner would -------------

def _framework(name):
    # Import the course's track first: it configures TensorFlow before TensorFlow loads.
    track = pytest.importorskip({"torch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}[name])
    return track, importlib.import_module(track.__name__ + ".exercises")


def _learner_versions(fw):
    """Learner-style answers, correct and wrong, written with the framework's own ops."""
    if fw == "torch":
        import torch
        F = torch.nn.functional
        exp, s = torch.exp, (lambda t: t.sum(dim=1))
        bce = lambda x, l: F.binary_cross_entropy_with_logits(l, x, reduction="none")  # noqa: E731
        bce_probs = lambda x, p: F.binary_cross_entropy(p, x, reduction="none")  # noqa: E731
        sigmoid = torch.sigmoid
        mean_px = lambda t: t.mean(dim=1)  # noqa: E731
    else:
        import tensorflow as tf
        exp, s = tf.exp, (lambda t: tf.reduce_sum(t, axis=1))
        bce = lambda x, l: tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=l)  # noqa: E731
        bce_probs = lambda x, p: -(x * tf.math.log(p) + (1 - x) * tf.math.log(1 - p))  # noqa: E731
        sigmoid = tf.sigmoid
        mean_px = lambda t: tf.reduce_mean(t, axis=1)  # noqa: E731
    kl = lambda mu, lv: -0.5 * s(1 + lv - mu**2 - exp(lv))  # noqa: E731
    reparam = {
        "correct": lambda mu, lv, eps: mu + exp(0.5 * lv) * eps,
        "variance as std": lambda mu, lv, eps: mu + exp(lv) * eps,
        "logvar as std": lambda mu, lv, eps: mu + lv * eps,
        "no noise": lambda mu, lv, eps: mu + 0 * eps,
        "no mean": lambda mu, lv, eps: exp(0.5 * lv) * eps,
    }
    elbo = {
        "correct": lambda x, l, mu, lv: s(bce(x, l)) + kl(mu, lv),
        "correct via probabilities": lambda x, l, mu, lv: s(bce_probs(x, sigmoid(l))) + kl(mu, lv),
        "mean over pixels": lambda x, l, mu, lv: mean_px(bce(x, l)) + kl(mu, lv),
        "no KL": lambda x, l, mu, lv: s(bce(x, l)),
        "KL sign": lambda x, l, mu, lv: s(bce(x, l)) - kl(mu, lv),
        "sigmoid twice": lambda x, l, mu, lv: s(bce(x, sigmoid(l))) + kl(mu, lv),
    }
    return reparam, elbo


@pytest.mark.parametrize("fw", ["torch", "tensorflow"])
def test_vae_exercises_per_framework(fw):
    track, ex = _framework(fw)
    assert ex.reparameterize.verdict(track.reparameterize).passed
    assert ex.negative_elbo.verdict(track.negative_elbo).passed
    reparam, elbo = _learner_versions(fw)
    messages = {m.name: m.message for m in shared.REPARAMETERIZE_MISTAKES + shared.NEGATIVE_ELBO_MISTAKES}
    for name, fn in reparam.items():
        v = ex.reparameterize.verdict(fn)
        if name == "correct":
            assert v.passed, v.message
        else:
            assert v.status == WRONG and messages[name] in v.message, (name, v.message)
            assert v.use is track.reparameterize
    for name, fn in elbo.items():
        v = ex.negative_elbo.verdict(fn)
        if name.startswith("correct"):
            assert v.passed, (name, v.message)
        else:
            assert v.status == WRONG and messages[name] in v.message, (name, v.message)
    for checker in (ex.reparameterize, ex.negative_elbo, ex.frechet_distance):
        v = checker.verdict(_stub)
        assert v.status == NOT_ATTEMPTED and "ex." in v.message
