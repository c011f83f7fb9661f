"""Checker tests: every exercise accepts its reference, rejects the known mistakes with
their own diagnosis, and falls back to the reference when not attempted."""
import importlib
import json

import numpy as np
import pytest

from course_lib.checks import (
    CORRECT,
    EXTRA_CHECK,
    GRADIENT,
    NOT_A_FUNCTION,
    NOT_ATTEMPTED,
    RAISED,
    RETURNED_NONE,
    UNREADABLE,
    VALUES_DIFFER,
    VERDICTS_ENV,
    WRONG,
    Exercise,
    Mistake,
)
from course_lib.exercises import lesson00_baselines as shared


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
        bce = lambda x, lg: F.binary_cross_entropy_with_logits(lg, x, reduction="none")  # noqa: E731
        bce_probs = lambda x, p: F.binary_cross_entropy(p, x, reduction="none")  # noqa: E731
        sigmoid = torch.sigmoid
        mean_px = lambda t: t.mean(dim=1)  # noqa: E731
    else:
        import tensorflow as tf
        exp, s = tf.exp, (lambda t: tf.reduce_sum(t, axis=1))
        bce = lambda x, lg: tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=lg)  # noqa: E731
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
        "correct": lambda x, lg, mu, lv: s(bce(x, lg)) + kl(mu, lv),
        "correct via probabilities": lambda x, lg, mu, lv: s(bce_probs(x, sigmoid(lg))) + kl(mu, lv),
        "mean over pixels": lambda x, lg, mu, lv: mean_px(bce(x, lg)) + kl(mu, lv),
        "no KL": lambda x, lg, mu, lv: s(bce(x, lg)),
        "KL sign": lambda x, lg, mu, lv: s(bce(x, lg)) - kl(mu, lv),
        "sigmoid twice": lambda x, lg, mu, lv: s(bce(x, sigmoid(lg))) + kl(mu, lv),
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


# --- the engine's messages ------------------------------------------------------------------

def _total(cases, **kw):
    return Exercise(name="total", truth=lambda x: float(x.sum()), cases=[(np.asarray(c, float),) for c in cases],
                    hints=(), **kw)


def test_the_constant_factor_message_needs_several_distinct_values():
    doubled = lambda x: 2 * float(x.sum())  # noqa: E731
    for few in ([[1.0, 2.0]], [[1.0, 2.0], [4.0]], [[1.0, 2.0]] * 3):  # one, two, or three equal expected values
        v = _total(few).verdict(doubled)
        assert v.status == WRONG and "constant factor" not in v.message, v.message
        assert "got 6, expected 3" in v.message
    v = _total([[1.0, 2.0], [4.0], [0.5]]).verdict(doubled)
    assert "every value is 2 times the expected one" in v.message
    # a zero that became non-zero is no constant factor
    v = _total([[1.0, 2.0], [4.0], [0.5], [0.0]]).verdict(lambda x: 2 * float(x.sum()) + 1.0 * (x.sum() == 0))
    assert "constant factor" not in v.message


def test_values_differ_names_the_output_and_the_case():
    pair = dict(name="pair", truth=lambda x: (x + 1, x * 2), cases=[(np.arange(3.0),), (np.array([5.0, 6.0]),)],
                hints=())
    wrong_second = lambda x: (x + 1, x * 2 + (x > 5.5))  # noqa: E731 - only case 2's second entry of output 2
    v = Exercise(**pair, outputs=("plus_one", "doubled")).verdict(wrong_second)
    assert "`doubled`, the 2nd returned value (of 2), differs in test case 2 of 2 (x=[5, 6])" in v.message, v.message
    assert "(1 of 2 entries differ): at [1] got 13, expected 12." in v.message
    v = Exercise(**pair).verdict(wrong_second)
    assert "the 2nd returned value (of 2), differs in test case 2 of 2" in v.message


def test_values_differ_prints_enough_digits_to_see_the_difference():
    ex = Exercise(name="scale", truth=lambda x: 1.234567 * x, cases=[(np.array([1.0, 2.0]),)], hints=(),
                  rtol=1e-7, atol=0.0)
    v = ex.verdict(lambda x: 1.234561 * x)  # wrong in the 6th significant digit
    assert "at [0] got 1.234561, expected 1.234567; at [1] got 2.469122, expected 2.469134." in v.message, v.message


def test_plain_numbers_need_no_track_conversion():
    ex = _total([[1.0, 2.0], [4.0]], to_numpy=lambda t: t.numpy())  # like a track's: tensors only
    for answer in (lambda x: float(x.sum()), lambda x: np.float32(x.sum()), lambda x: int(x.sum())):
        assert ex.verdict(answer).passed
    v = ex.verdict(lambda x: "three")
    assert v.status == WRONG and "returned a str, which is not a number" in v.message
    v = ex.verdict(lambda x: {"total": 3.0})
    assert v.status == WRONG and "returned a dict" in v.message


def test_cases_survive_a_function_that_edits_its_inputs():
    ex = _square_exercise()

    def squares_then_scribbles(x):
        y = x ** 2
        x[:] = 99.0
        return y
    assert ex.verdict(squares_then_scribbles).passed and ex.verdict(squares_then_scribbles).passed
    assert np.array_equal(ex.cases[0][0], np.arange(4.0))


def test_an_extra_check_that_raises_is_reported():
    ex = Exercise(name="square", truth=lambda x: x**2, cases=[(np.arange(3.0),)], hints=(),
                  extra_checks=(lambda fn: fn(None),))
    v = ex.verdict(lambda x: x * x)
    assert v.status == WRONG and "the values are right, but on further inputs it raised TypeError" in v.message


# --- the diagnosis a grader reads, and the verdict log ---------------------------------------

def test_a_verdict_names_its_diagnosis():
    ex = _square_exercise()
    assert ex.verdict(lambda x: 2 * x).diagnosis == "double"  # a known mistake: its name
    described = {RAISED: lambda x: 1 / 0, RETURNED_NONE: lambda x: None, NOT_A_FUNCTION: 42,
                 UNREADABLE: lambda x: "x squared", VALUES_DIFFER: lambda x: 3 * x**2}
    for diagnosis, answer in described.items():
        v = ex.verdict(answer)
        assert (v.status, v.diagnosis) == (WRONG, diagnosis), v.message
    for answer in (lambda x: x * x, _stub, None):  # correct, or not attempted: nothing to diagnose
        assert ex.verdict(answer).diagnosis is None
    picky = _square_exercise()
    picky.extra_checks = (lambda fn: None if fn(np.array([3.0]))[0] == 9.0 else "it fails on 3",)
    v = picky.verdict(lambda x: x * x if len(x) > 1 else x)
    assert (v.status, v.diagnosis) == (WRONG, EXTRA_CHECK) and "it fails on 3" in v.message


def test_a_cut_gradient_is_diagnosed_as_such():
    track, ex = _framework("torch")
    import torch

    v = ex.reparameterize.verdict(lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach())
    assert (v.status, v.diagnosis) == (WRONG, GRADIENT), v.message


def test_check_logs_each_verdict_when_the_grader_asks(tmp_path, monkeypatch, capsys):
    ex = _square_exercise()
    ex.check(lambda x: 2 * x)  # no log asked for: nothing written anywhere
    log = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(VERDICTS_ENV, str(log))
    ex.check(lambda x: 2 * x)
    ex.check(_stub)
    ex.check(lambda x: x * x)  # a rerun cell appends: the grader takes the last line
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [{"exercise": "square", "status": WRONG, "diagnosis": "double"},
                     {"exercise": "square", "status": NOT_ATTEMPTED, "diagnosis": None},
                     {"exercise": "square", "status": CORRECT, "diagnosis": None}]
    assert capsys.readouterr().out.count("square:") == 4  # the printed verdicts are unchanged
