"""Lesson 06 (data augmentation for GANs): the augmentations are differentiable and per sample in
both tracks and equal the NumPy truth; both tracks draw the same numbers for the same seed; ADA's
rule and the leak's metrics behave as the lesson says; every checker accepts the reference and
rejects each known wrong answer with its diagnosis."""
from importlib import import_module

import numpy as np
import pytest

from course_lib import budgets, data
from course_lib.techniques import augmentation as A

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

TRACKS = ("torch", "tensorflow")


def _aug(track):
    return import_module(f"course_lib.{track}.augment")


def _ex(track):
    return import_module(f"course_lib.{track}.exercises")


def _tensor(track, a):
    if track == "torch":
        return torch.from_numpy(np.ascontiguousarray(a))
    return tf.constant(a)


def _numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else t.numpy()


def _input_gradient(track, fn, x, weights):
    """d sum(weights * fn(x)) / dx in the track's framework."""
    if track == "torch":
        xt = torch.from_numpy(x).requires_grad_(True)
        (fn(xt) * torch.from_numpy(weights)).sum().backward()
        return xt.grad.numpy()
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(fn(xt) * weights)
    return tape.gradient(total, xt).numpy()


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("lead", [(7,), (3, 5)])
def test_translate_equals_the_numpy_truth_per_sample(track, lead):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(*lead, 64)).astype(np.float32)
    shifts = rng.integers(-1, 2, size=(*lead, 2))
    got = _numpy(_aug(track).translate(_tensor(track, x), _tensor(track, shifts)))
    np.testing.assert_array_equal(got, A.translate(x, shifts))
    # per sample: each image moved by its own offset, not by the first one's
    assert len({tuple(s) for s in shifts.reshape(-1, 2)}) > 1
    assert not np.allclose(got, A.translate(x, np.broadcast_to(shifts.reshape(-1, 2)[:1], shifts.shape)))


def test_translate_truth_zero_fills_and_the_shift_matrices_agree():
    x = np.arange(64, dtype=np.float32).reshape(1, 64) + 1
    down_right = A.translate(x, np.array([[1, 1]])).reshape(8, 8)
    assert (down_right[0] == 0).all() and (down_right[:, 0] == 0).all()  # what entered the frame is blank
    np.testing.assert_array_equal(down_right[1:, 1:], x.reshape(8, 8)[:-1, :-1])
    rng = np.random.default_rng(2)
    xs, s = rng.uniform(size=(6, 64)), rng.integers(-2, 3, size=(6, 2))
    by_matrices = A.shift_matrix(s[:, 0]) @ xs.reshape(6, 8, 8) @ np.swapaxes(A.shift_matrix(s[:, 1]), -1, -2)
    np.testing.assert_allclose(by_matrices.reshape(6, 64), A.translate(xs, s))


@pytest.mark.parametrize("track", TRACKS)
def test_translate_is_differentiable_with_the_transposed_translation_as_gradient(track):
    """The gradient of sum(w * translate(x, s)) w.r.t. x is w moved back by -s (zero fill): a pixel
    that leaves the frame gets none."""
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(9, 64)).astype(np.float32)
    shifts = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    w = rng.uniform(0.5, 1.5, size=(9, 64)).astype(np.float32)
    g = _input_gradient(track, lambda t: _aug(track).translate(t, _tensor(track, shifts)), x, w)
    np.testing.assert_allclose(g, A.translate(w, -shifts), rtol=1e-6)
    ones = _input_gradient(track, lambda t: _aug(track).translate(t, _tensor(track, shifts)), x, np.ones_like(w))
    assert ones.sum(axis=1).tolist() == [49, 56, 49, 56, 64, 56, 49, 56, 49]


@pytest.mark.parametrize("track", TRACKS)
def test_jitter_is_differentiable_and_equals_the_truth(track):
    rng = np.random.default_rng(4)
    x, eps = rng.normal(size=(5, 2)).astype(np.float32), A.draw_jitter(5, rng)
    got = _numpy(_aug(track).jitter(_tensor(track, x), eps, 0.2))
    np.testing.assert_allclose(got, A.jitter(x, eps, 0.2), rtol=1e-6)
    g = _input_gradient(track, lambda t: _aug(track).jitter(t, eps, 0.2), x, np.ones_like(x))
    np.testing.assert_array_equal(g, np.ones_like(x))


def test_both_tracks_draw_the_same_numbers_for_the_same_seed():
    """The tracks' stacked runs draw noise and offsets from NumPy in one order, so the same seed
    gives the same numbers, whatever the framework; p changes which offsets are kept, not the draws."""
    for kind in ("translate", "jitter"):
        a = [_aug("torch")._draw(kind, 6, np.random.default_rng(7), 0.5, 4) for _ in range(2)]
        b = _aug("tensorflow")._draw(kind, 6, np.random.default_rng(7), 0.5, 4)
        for x, y, z in zip(a[0], a[1], b):
            np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(x, z)
    r0, r1 = np.random.default_rng(8), np.random.default_rng(8)
    full, none = A.draw_shifts(500, r0, 1.0), A.draw_shifts(500, r1, 0.0)
    assert (none == 0).all() and r0.random() == r1.random()  # the same amount drawn at any p
    assert set(np.unique(full)) == {-1, 0, 1} and 0.6 < (np.abs(full).sum(1) > 0).mean() < 1.0


def test_ada_update_rule():
    assert A.ada_update(0.5, 0.8, 0.6, 0.01) == pytest.approx(0.51)
    assert A.ada_update(0.5, 0.2, 0.6, 0.01) == pytest.approx(0.49)
    assert A.ada_update(0.3, 0.6, 0.6, 0.01) == pytest.approx(0.3)
    assert A.ada_update(0.999, 1.0, 0.6, 0.01) == 1.0 and A.ada_update(0.001, -1.0, 0.6, 0.01) == 0.0
    np.testing.assert_allclose(A.ada_update(np.array([0.0, 1.0]), np.array([0.9, 0.1]), 0.6, 0.1), [0.1, 0.9])
    assert A.overfitting_signal([2.0, -1.0, 3.0, 0.5]) == pytest.approx(0.5)


def test_the_leak_metrics():
    """Shifting every real digit by a random offset raises the position spread, by less than the
    2/3 pixel^2 of variance per axis of the offsets (ink that leaves the frame is lost), and p = 0
    changes nothing; a Gaussian mode of width s measures s."""
    x = data.digits("train")
    s = A.position_spread(x)
    assert s + 0.2 < A.augmented_spread(x) < np.sqrt(s ** 2 + 2 / 3)
    assert A.augmented_spread(x, p=0.0) == pytest.approx(s)
    spec = data.mixture_spec("ring8")
    pts = data.mixture("ring8", 4000, seed=1)
    assert A.mode_width(pts, spec.centers) == pytest.approx(spec.std, rel=0.05)


# --- the checkers ----------------------------------------------------------------------------

WRONG_TRANSLATE = {
    "torch": {
        "wrap": ("roll", lambda x, s: torch.stack([torch.roll(im.reshape(8, 8), tuple(int(v) for v in sh), (0, 1))
                                                    for im, sh in zip(x, s)]).reshape(-1, 64)),
        "batch": ("first sample", lambda x, s: _aug("torch").translate(x, s[:1].expand_as(s))),
        "numpy": ("gradient", lambda x, s: torch.from_numpy(A.translate(x.detach().numpy(), s.numpy()))),
        "direction": ("other way", lambda x, s: _aug("torch").translate(x, -s)),
    },
    "tensorflow": {
        "wrap": ("roll", lambda x, s: tf.reshape(tf.stack([
            tf.roll(tf.reshape(im, (8, 8)), sh, (0, 1)) for im, sh in zip(tf.unstack(x), tf.unstack(s))]), (-1, 64))),
        "batch": ("first sample", lambda x, s: _aug("tensorflow").translate(x, tf.repeat(s[:1], tf.shape(s)[0], 0))),
        "numpy": ("gradient", lambda x, s: tf.constant(A.translate(x.numpy(), s.numpy()))),
        "direction": ("other way", lambda x, s: _aug("tensorflow").translate(x, -s)),
    },
}


@pytest.mark.parametrize("track", TRACKS)
def test_the_checkers_accept_the_references(track):
    ex = _ex(track)
    for name in ("translate", "discriminator_loss", "ada_update"):
        exercise = getattr(ex, name)
        assert exercise.verdict(exercise.fallback or exercise.truth).passed, name


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("mistake", ["wrap", "batch", "numpy", "direction"])
def test_translate_checker_rejects_each_wrong_answer(track, mistake):
    words, fn = WRONG_TRANSLATE[track][mistake]
    v = _ex(track).translate.verdict(fn)
    assert not v.passed and words in v.message, v.message


def _reals_only(track):
    if track == "torch":
        import torch.nn.functional as F
        return lambda D, r, f, a: F.softplus(-D(a(r))).mean() + F.softplus(D(f)).mean()
    return lambda D, r, f, a: (tf.reduce_mean(tf.nn.softplus(-D(a(r)))) + tf.reduce_mean(tf.nn.softplus(D(f))))


@pytest.mark.parametrize("track", TRACKS)
def test_discriminator_loss_checker_rejects_the_reals_only(track):
    v = _ex(track).discriminator_loss.verdict(_reals_only(track))
    assert not v.passed and "only the reals go through augment" in v.message and "leaks" in v.message


@pytest.mark.parametrize("wrong, words", [
    (lambda p, r, t, s: float(np.clip(p - np.sign(r - t) * s, 0, 1)), "wrong way"),
    (lambda p, r, t, s: p + np.sign(r - t) * s, "Clamp"),
    (lambda p, r, t, s: float(np.clip(p + (r - t) * s, 0, 1)), "fixed step"),
    (lambda p, r, t, s: float(min(p + np.sign(r - t) * s, 1.0)), "below 0"),
])
def test_ada_update_checker_rejects_sign_step_and_clamp_mistakes(wrong, words):
    for track in TRACKS:
        v = _ex(track).ada_update.verdict(wrong)
        assert not v.passed and words in v.message, v.message


def test_budget_entry():
    for budget in ("smoke", "cpu", "gpu"):
        cfg = budgets.config("06_augmentation", budget)
        assert len(cfg.seeds) >= (2 if budget == "smoke" else 3) and 0 < cfg.ada_step < 1
    assert budgets.config("06_augmentation", "cpu").n_small == 200
