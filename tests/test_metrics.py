import json

import numpy as np
import pytest

from course_lib import data, metrics
from course_lib.classifier import WEIGHTS_PATH, digit_classifier


def test_frechet_distance_matches_closed_form_for_gaussians():
    # N(0, I) vs N(m 1, s^2 I) in d dimensions: d m^2 + d (1 - s)^2.
    rng = np.random.default_rng(0)
    d, m, s = 5, 0.7, 1.8
    a = rng.standard_normal((200_000, d))
    b = m + s * rng.standard_normal((200_000, d))
    assert metrics.frechet_distance(a, b) == pytest.approx(d * m**2 + d * (1 - s) ** 2, rel=0.01)


def test_frechet_from_stats_exact_for_general_covariances():
    # Commuting covariances: tr((S1 S2)^1/2) = sum sqrt(l1 l2) on the shared eigenbasis.
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    l1, l2 = np.array([1.0, 2.0, 0.5, 3.0]), np.array([2.0, 0.1, 4.0, 1.0])
    s1, s2 = q @ np.diag(l1) @ q.T, q @ np.diag(l2) @ q.T
    mu1, mu2 = np.zeros(4), np.array([1.0, 0, 0, 2.0])
    want = 5.0 + l1.sum() + l2.sum() - 2 * np.sqrt(l1 * l2).sum()
    assert metrics.frechet_from_stats(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-10)
    assert metrics.frechet_from_stats(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_symmetric_and_stats_handle_singular_covariance():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(40, 30)), rng.normal(size=(50, 30))
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a), rel=1e-8)
    few = rng.normal(size=(10, 30))  # n < d: a singular covariance, still a finite number from the stats
    s_few, s_b = np.cov(few, rowvar=False), np.cov(b, rowvar=False)
    assert np.linalg.matrix_rank(s_few) < 30
    assert np.isfinite(metrics.frechet_from_stats(few.mean(0), s_few, b.mean(0), s_b))


def test_frechet_distance_needs_more_samples_than_dimensions():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(10, 30)), rng.normal(size=(50, 30))
    for x, y, name in ((a, b, "a has 10 samples of 30 features"), (b, a, "b has 10 samples of 30 features")):
        with pytest.raises(ValueError, match=name) as err:
            metrics.frechet_distance(x, y)
        assert "more samples than dimensions" in str(err.value)
    with pytest.raises(ValueError, match="30 samples of 30 features"):  # n == d is singular too
        metrics.frechet_distance(rng.normal(size=(30, 30)), b)
    with pytest.raises(ValueError, match="samples has 50 samples of 64 features"):
        metrics.fcd(data.digits("train")[:50])


def test_image_metrics_reject_pixels_outside_0_1():
    x = data.digits("train")
    with pytest.raises(ValueError, match=r"pixel values from 0 to 255.*\[0, 1\].*divide them by 255"):
        metrics.fcd(np.round(x * 255))
    for fn in (metrics.fcd, metrics.precision_recall, metrics.class_coverage, metrics.image_metrics,
               metrics.features):
        with pytest.raises(ValueError, match=r"from -1 to 1; .*\[0, 1\]"):
            fn(x * 2 - 1)  # tanh-range images
    with pytest.raises(ValueError, match="pixel values from 0 to 255"):
        metrics.fcd(x, reference=np.round(data.digits("test") * 255))
    assert metrics.fcd(x) == metrics.fcd(x.astype(np.float64))  # the edges 0 and 1 are inside the domain


def test_metrics_reject_nan_and_inf():
    x = data.digits("train").copy()
    x[3, 5], x[7, 0] = np.nan, np.inf
    for fn in (metrics.fcd, metrics.precision_recall, metrics.class_coverage):
        with pytest.raises(ValueError, match="2 NaN or inf"):
            fn(x)
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    a[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        metrics.frechet_distance(a, b)
    mu, s = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="NaN or inf"):
        metrics.frechet_from_stats(mu, s * np.nan, mu, s)


def test_valid_inputs_give_the_recorded_numbers():
    """The checks change no result: the floor's FCD as the lesson 00 notebook prints it."""
    assert f"{metrics.floor()['fcd']:.2f}" == "0.51"
    assert f"{metrics.fcd(data.digits('train')[:100]):6.2f}" == "  5.97"


@pytest.mark.parametrize("a,b,msg", [
    (np.zeros(5), np.zeros((5, 2)), "shape"),
    (np.zeros((5, 2)), np.zeros((5, 3)), "same number of columns"),
    (np.zeros((1, 2)), np.zeros((5, 2)), "at least 2 rows"),
    (np.full((5, 2), np.nan), np.zeros((5, 2)), "NaN"),
])
def test_frechet_distance_bad_input(a, b, msg):
    with pytest.raises(ValueError, match=msg):
        metrics.frechet_distance(a, b)


def test_shipped_classifier_accuracy_at_least_95_percent():
    x, y = data.digits("test", with_labels=True)
    acc = (digit_classifier().predict(x) == y).mean()
    assert acc >= 0.95
    stated = json.loads(WEIGHTS_PATH.with_suffix(".json").read_text())["test_accuracy"]
    assert acc == pytest.approx(stated)


def test_classifier_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(n, 64\)"):
        metrics.fcd(np.zeros((10, 28 * 28)))


def test_floor_is_good_and_noise_is_bad():
    floor = metrics.floor()
    noise = metrics.image_metrics(np.random.default_rng(0).random((metrics.n_eval(), 64)))
    assert floor["fcd"] < 2.0 < 50.0 < noise["fcd"]
    assert floor["precision"] > 0.8 and floor["recall"] > 0.8 and floor["coverage"] == 1.0
    assert noise["precision"] < 0.3 and noise["recall"] < 0.3


def test_precision_recall_separate_realism_from_diversity():
    x, y = data.digits("train", with_labels=True)
    only_ones = x[y == 1]
    p, r = metrics.precision_recall(np.repeat(only_ones, 10, axis=0)[:1000])
    assert p > 0.7 and r < 0.25  # realistic but not diverse
    assert metrics.class_coverage(only_ones) == pytest.approx(0.1)


def test_metrics_identical_on_identical_input_and_float32_vs_float64():
    x = data.printed_digits(300, seed=0)
    assert metrics.image_metrics(x) == metrics.image_metrics(x.copy())
    assert metrics.fcd(x) == pytest.approx(metrics.fcd(x.astype(np.float64)), rel=1e-6)


def test_mixture_metrics_for_real_samples_match_closed_form():
    x = data.mixture("grid25", 20000, seed=0)
    m = metrics.mixture_metrics(x, "grid25")
    assert m["modes_covered"] == 25 and m["n_modes"] == 25
    assert m["high_quality"] == pytest.approx(1 - np.exp(-4.5), abs=0.003)


def test_mixture_metrics_catch_mode_collapse():
    spec = data.mixture_spec("ring8")
    x, modes = data.mixture("ring8", 4000, seed=0, with_labels=True)
    collapsed = x[modes < 3]
    assert metrics.modes_covered(collapsed, spec) == 3
    spread = np.random.default_rng(0).uniform(-3, 3, size=(4000, 2))
    assert metrics.high_quality_share(spread, spec) < 0.1
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        metrics.modes_covered(np.zeros((5, 3)), spec)


@pytest.mark.parametrize("reference", ["test", "val", "an array"])
def test_image_metrics_equal_the_separate_metrics(reference):
    # image_metrics runs the classifier once and keeps each split's k-NN radii: the numbers must be exactly
    # those of fcd, precision_recall and class_coverage called one by one.
    rng = np.random.default_rng(3)
    ref = data.digits("val") if reference == "an array" else reference
    for noise in (0.0, 0.1, 0.3):
        x = np.clip(data.digits("train")[rng.permutation(300)] + rng.normal(0, noise, (300, 64)), 0, 1)
        p, r = metrics.precision_recall(x, ref)
        separate = {"fcd": metrics.fcd(x, ref), "precision": p, "recall": r, "coverage": metrics.class_coverage(x)}
        assert metrics.image_metrics(x, ref) == separate
