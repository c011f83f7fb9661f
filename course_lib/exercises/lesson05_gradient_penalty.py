"""Lesson 05 exercises (gradient penalty): ``gradient_penalty``, ``r1_penalty`` and
``sample_interpolation_weights``.

The critics are small networks described by NumPy weights whose input gradient is known in
closed form (:mod:`course_lib.techniques.penalties`); each track builds the same network in
its framework from these weights.
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake, RngFrom
from ..techniques.penalties import (
    CriticWeights,
    critic_input_gradient,
    gradient_penalty_truth,
    interpolate,
    interpolation_weights,
    linear_critic,
    r1_truth,
)
from .gradient_check import Differentiable

# --- gradient penalty: cases and known mistakes -----------------------------------------


def _tanh_critic(rng, d, hidden=8, scale=1.6):
    W1 = rng.normal(scale=scale, size=(d, hidden))
    b1 = rng.normal(scale=0.3, size=hidden)
    w2 = rng.normal(scale=scale, size=(hidden, 1))
    return CriticWeights(((W1, b1), (w2, np.array([0.1]))), activation="tanh")


def _gp_cases():
    """Two linear and two tanh critics. Every interpolate's gradient norm is above 1, so a
    one-sided penalty ``max(0, |g| - 1)^2`` (also used in practice) gives the same values and
    is accepted; the reals' gradients differ from the interpolates' (penalty at reals shows)."""
    rng = np.random.default_rng(2024)
    cases = []
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    for critic, n, d in ((linear_critic([1.2, -1.5], 0.3), 6, 2), (linear_critic([0.9, 2.0, -0.7], -0.2), 5, 3),
                         (None, 6, 2), (None, 7, 3)):
        while True:
            c = critic or _tanh_critic(rng, d)
            real, fake = f32(rng.normal(size=(n, d))), f32(rng.normal(loc=1.0, scale=0.7, size=(n, d)))
            u = interpolation_weights(n, rng)
            norms_real = np.sqrt((critic_input_gradient(c, real) ** 2).sum(1))
            norms_hat = np.sqrt((critic_input_gradient(c, interpolate(real, fake, u)) ** 2).sum(1))
            if norms_hat.min() > 1.2 and (critic is not None or np.abs(norms_real - norms_hat).max() > 0.1):
                break
        cases.append((c, real, fake, u))
    return cases


def _gp_with(critic, real, fake, u, *, at="hat", norm="sample", form="two-sided", scale=1.0, swap=False):
    real, fake, u = (np.asarray(a, np.float64) for a in (real, fake, u))
    x = {"hat": interpolate(fake, real, u) if swap else interpolate(real, fake, u), "real": real, "fake": fake}[at]
    g = critic_input_gradient(critic, x) * scale
    if norm == "batch":
        return float((np.sqrt((g ** 2).sum()) - 1.0) ** 2)
    sq = (g ** 2).sum(axis=1)
    n = np.sqrt(sq)
    per = {"two-sided": (n - 1.0) ** 2, "no sqrt": (sq - 1.0) ** 2, "squared norm": sq, "abs": np.abs(n - 1.0),
           "norm": n}[form]
    return float(per.sum() if norm == "sum" else per.mean())


GP_MISTAKES = (
    Mistake("norm over the batch", lambda c, r, f, u: _gp_with(c, r, f, u, norm="batch"),
            "you took one norm over the whole batch of gradients. The constraint is per sample: take the norm "
            "of each sample's gradient (sum the squares over the feature axis, dim=1 / axis=1), then "
            "average (|g_i| - 1)^2 over the samples. One norm of all gradients grows with the batch size "
            "and lets some samples have huge gradients while others are flat."),
    Mistake("penalty at the reals", lambda c, r, f, u: _gp_with(c, r, f, u, at="real"),
            "you evaluated the critic's gradient at the real samples. WGAN-GP penalises it at the "
            "interpolates u * real + (1 - u) * fake: the 1-Lipschitz constraint matters on the segments "
            "between the two distributions, where the optimal critic has gradient norm 1. "
            "(Penalising at the reals is R1, a different penalty with target 0.)"),
    Mistake("penalty at the fakes", lambda c, r, f, u: _gp_with(c, r, f, u, at="fake"),
            "you evaluated the critic's gradient at the fake samples. WGAN-GP penalises it at the "
            "interpolates u * real + (1 - u) * fake, between the two distributions."),
    Mistake("u and 1 - u swapped", lambda c, r, f, u: _gp_with(c, r, f, u, swap=True),
            "you interpolated u * fake + (1 - u) * real. In distribution that is the same thing, but this "
            "exercise fixes the convention x_hat = u * real + (1 - u) * fake so that answers can be "
            "compared on the same u."),
    Mistake("gradient of the mean", lambda c, r, f, u: _gp_with(c, r, f, u, scale=1.0 / len(u)),
            "every sample's gradient is divided by the batch size: you differentiated the *mean* of the "
            "critic's outputs. Differentiate their sum (or pass grad_outputs=torch.ones_like(out) / "
            "use tape.gradient(out, x)), so each sample gets its own gradient d f(x_i) / d x_i."),
    Mistake("no square root", lambda c, r, f, u: _gp_with(c, r, f, u, form="no sqrt"),
            "you penalised (|g|^2 - 1)^2: the square root is missing. The norm is sqrt(sum of squares); "
            "the penalty is (|g| - 1)^2."),
    Mistake("squared norm", lambda c, r, f, u: _gp_with(c, r, f, u, form="squared norm"),
            "you penalised |g|^2, which pushes the gradient towards 0. WGAN-GP pulls the norm towards 1: "
            "(|g| - 1)^2 (a 1-Lipschitz critic, not a flat one)."),
    Mistake("not squared", lambda c, r, f, u: _gp_with(c, r, f, u, form="abs"),
            "you took |(|g| - 1)| without squaring it: the penalty is (|g| - 1)^2."),
    Mistake("the norm itself", lambda c, r, f, u: _gp_with(c, r, f, u, form="norm"),
            "you returned the mean gradient norm; the penalty is the mean of (|g| - 1)^2."),
    Mistake("sum over samples", lambda c, r, f, u: _gp_with(c, r, f, u, norm="sum"),
            "you summed (|g_i| - 1)^2 over the samples: average it, so the penalty's weight does not "
            "depend on the batch size."),
)

GP_HINTS = (
    "Build the interpolates x_hat = u * real + (1 - u) * fake (u has shape (n, 1) and broadcasts).",
    "Get the critic's gradient with respect to x_hat, per sample, *keeping it differentiable*: "
    "PyTorch: x_hat.requires_grad_(True); g, = torch.autograd.grad(critic(x_hat).sum(), x_hat, "
    "create_graph=True). TensorFlow: with tf.GradientTape() as tape: tape.watch(x_hat); "
    "out = critic(x_hat, training=True); g = tape.gradient(out, x_hat) (inside the training step's outer tape).",
    "Per-sample norm with a small eps inside the square root (sqrt has an infinite derivative at 0): "
    "norm = sqrt(sum(g**2, axis 1) + 1e-12); return mean((norm - 1)**2).",
)

# The tracks' finite-gradient check words its finding with this.
NAN_AT_ZERO = ("the penalty's gradient with respect to the critic's parameters is NaN when the critic's input "
               "gradient is exactly 0 at some point (a ReLU critic is flat in whole regions). The square root "
               "has an infinite derivative at 0 and 0 * inf = NaN, which then poisons every weight. Add a small "
               "eps inside the square root: sqrt(sum(g**2) + 1e-12).")


def zero_gradient_critic() -> tuple:
    """A ReLU critic, inputs and weights where some interpolates have an input gradient of exactly 0:
    ``(critic, real, fake, u)``. Hidden units ``relu(x1)`` and ``relu(x2)`` are both off in the
    negative quadrant."""
    critic = CriticWeights(((np.eye(2), np.zeros(2)), (np.array([[1.5], [-2.0]]), np.zeros(1))), activation="relu")
    real = np.array([[1.0, 2.0], [-2.0, -1.0], [0.5, 1.5], [-1.0, -3.0]], np.float32)
    fake = np.array([[2.0, 0.5], [-1.0, -2.0], [1.0, 1.0], [-2.0, -0.5]], np.float32)
    u = np.full((4, 1), 0.5, np.float32)
    return critic, real, fake, u


def parameter_check_case() -> tuple:
    """A tanh critic and inputs on which a correct penalty has non-zero parameter gradients."""
    return _gp_cases()[2]


def _on_parameters(case) -> Differentiable:
    # Training differentiates a penalty w.r.t. the critic's weights (at a tanh critic: non-zero there).
    return Differentiable({0: "the critic's parameters"}, case=case,
                          why="A penalty that the optimizer cannot differentiate constrains nothing.")


def gradient_penalty_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="gradient_penalty", truth=gradient_penalty_truth, cases=_gp_cases(), hints=GP_HINTS,
        mistakes=GP_MISTAKES, rtol=2e-4, atol=1e-5, differentiable=_on_parameters(parameter_check_case()), **kwargs)


# --- R1 ---------------------------------------------------------------------------------


def _r1_cases():
    rng = np.random.default_rng(77)
    x = lambda n, d: rng.normal(size=(n, d)).astype(np.float32)  # noqa: E731
    return [(linear_critic([0.8, -1.1], 0.5), x(6, 2), 10.0), (_tanh_critic(rng, 2, scale=1.2), x(6, 2), 10.0),
            (_tanh_critic(rng, 3, scale=1.0), x(5, 3), 0.3)]


def _r1_with(critic, real, gamma, *, half=True, use_gamma=True, reduce="mean", form="squared", scale=1.0):
    g = critic_input_gradient(critic, real) * scale
    sq = (g ** 2).sum(axis=1)
    per = {"squared": sq, "norm": np.sqrt(sq), "gp": (np.sqrt(sq) - 1.0) ** 2}[form]
    val = per.sum() if reduce == "sum" else per.mean()
    return float((0.5 if half else 1.0) * (gamma if use_gamma else 1.0) * val)


R1_MISTAKES = (
    Mistake("no one half", lambda c, r, g: _r1_with(c, r, g, half=False),
            "the factor 1/2 is missing: R1 = gamma / 2 * E[|grad_x D(x_real)|^2]. (With the 1/2, gamma "
            "means the same thing as in the papers and in StyleGAN's code.)"),
    Mistake("no gamma", lambda c, r, g: _r1_with(c, r, g, use_gamma=False),
            "the weight gamma is missing: R1 = gamma / 2 * E[|grad_x D(x_real)|^2]."),
    Mistake("neither gamma nor 1/2", lambda c, r, g: _r1_with(c, r, g, half=False, use_gamma=False),
            "you returned E[|grad|^2] without the factor gamma / 2."),
    Mistake("sum over samples", lambda c, r, g: _r1_with(c, r, g, reduce="sum"),
            "you summed over the samples (or took one squared norm of the whole batch's gradient): R1 "
            "averages the per-sample squared norms, gamma / 2 * mean_i |g_i|^2."),
    Mistake("norm not squared", lambda c, r, g: _r1_with(c, r, g, form="norm"),
            "you averaged the gradient norm |g|; R1 uses the *squared* norm |g|^2 = sum of g**2 "
            "(no square root needed at all)."),
    Mistake("gradient-penalty form", lambda c, r, g: _r1_with(c, r, g, form="gp"),
            "you penalised (|g| - 1)^2 as WGAN-GP does. R1 has target 0: it penalises |g|^2, so the critic "
            "becomes flat on the real data."),
    Mistake("gradient of the mean", lambda c, r, g: _r1_with(c, r, g, scale=1.0 / len(r)),
            "every sample's gradient is divided by the batch size: you differentiated the *mean* of the "
            "critic's outputs. Differentiate their sum so each sample gets its own gradient."),
)

R1_HINTS = (
    "R1 is evaluated at the real samples only: no interpolation.",
    "Take the critic's per-sample input gradient g at the reals, keeping it differentiable (create_graph=True "
    "in PyTorch, a nested tape in TensorFlow).",
    "Return gamma / 2 * mean over samples of sum(g**2, axis 1): the squared norm, no square root.",
)


def r1_penalty_exercise(**kwargs) -> Exercise:
    return Exercise(name="r1_penalty", truth=r1_truth, cases=_r1_cases(), hints=R1_HINTS, mistakes=R1_MISTAKES,
                    rtol=2e-4, atol=1e-5, differentiable=_on_parameters(parameter_check_case()[:2] + (10.0,)), **kwargs)


# --- interpolation weights, checked statistically ------------------------------------------

OK, NOT_NUMBERS, SHAPE_1D, SHAPE_OTHER, OUTSIDE, NOT_UNIFORM, NOT_FLOAT32 = range(7)


def classify_weights(u) -> np.ndarray:
    """What kind of draw ``u`` is, as a code (see the ``WEIGHT_MISTAKES``): ``[0]`` for
    uniform weights on [0, 1] of shape (n, 1), float32."""
    try:
        a = np.asarray(u)
    except Exception:  # noqa: BLE001 - anything not array-like
        return np.array([NOT_NUMBERS], float)
    if a.dtype.kind not in "fiub" or a.size == 0:
        return np.array([NOT_NUMBERS], float)
    if a.ndim == 1:
        return np.array([SHAPE_1D], float)
    if a.ndim != 2 or a.shape[1] != 1:
        return np.array([SHAPE_OTHER], float)
    x = a.astype(np.float64).ravel()
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        return np.array([OUTSIDE], float)
    n = x.size
    xs = np.sort(x)
    ks = max((np.arange(1, n + 1) / n - xs).max(), (xs - np.arange(n) / n).max())
    if ks > 2.5 / np.sqrt(n) or abs(x.mean() - 0.5) > 5 * np.sqrt(1 / 12 / n) or abs(x.std() - np.sqrt(1 / 12)) > 0.05:
        return np.array([NOT_UNIFORM], float)
    if a.dtype != np.float32:
        return np.array([NOT_FLOAT32], float)
    return np.array([OK], float)


def _weights_truth(n, seed):
    return classify_weights(interpolation_weights(n, seed.seed))


def _draw(kind):
    def impl(n, seed):
        rng = np.random.default_rng(seed.seed)
        return classify_weights({
            "normal": lambda: rng.normal(size=(n, 1)).astype(np.float32),
            "1d": lambda: rng.uniform(size=n).astype(np.float32),
            "per feature": lambda: rng.uniform(size=(n, 2)).astype(np.float32),
            "not uniform": lambda: np.clip(rng.normal(0.5, 0.2, size=(n, 1)), 0, 1).astype(np.float32),
            "float64": lambda: rng.uniform(size=(n, 1)),
            "not numbers": lambda: None,
        }[kind]())
    return impl


WEIGHT_MISTAKES = (
    Mistake("normal weights", _draw("normal"),
            "some weights lie outside [0, 1]: did you draw them from a normal distribution (rng.normal / "
            "torch.randn / tf.random.normal)? u must be uniform on [0, 1]. With u outside [0, 1] the "
            "'interpolates' leave the segment between the real and the fake point, so the penalty "
            "constrains the critic where neither distribution lives."),
    Mistake("shape (n,)", _draw("1d"),
            "it returned shape (n,). One weight per sample needs shape (n, 1), so that u * real broadcasts "
            "over the features; a shape (n,) array broadcasts along the *feature* axis (or fails)."),
    Mistake("not one weight per sample", _draw("per feature"),
            "it should return shape (n, 1): one weight per sample. A weight per coordinate (shape (n, d)) "
            "moves each coordinate by a different amount, so the point leaves the line between real and fake."),
    Mistake("not uniform", _draw("not uniform"),
            "the weights are in [0, 1] but not uniformly spread (a clipped normal, a Beta, only 0 and 1, "
            "...). Draw u ~ U(0, 1): rng.uniform(0.0, 1.0, size=(n, 1))."),
    Mistake("float64", _draw("float64"),
            "the weights are float64: the models are float32, and mixing them fails or promotes every "
            "tensor to float64. Add .astype(np.float32)."),
    Mistake("not numbers", _draw("not numbers"),
            "it did not return an array of numbers: return a NumPy array of shape (n, 1)."),
)


def _check_weights_use_rng(fn):
    """Reproducible from the ``rng`` given, different for another seed, and the right length."""
    try:
        a, b, c, d = (np.asarray(fn(n, np.random.default_rng(s))) for n, s in ((64, 5), (64, 5), (64, 6), (7, 5)))
    except Exception as e:  # noqa: BLE001
        return f"calling it with n=64 or n=7 raised {type(e).__name__}: {e}"
    if d.shape != (7, 1):
        return f"with n=7 it returned shape {d.shape}; expected (7, 1). Use n, do not hard-code the batch size."
    if a.shape != b.shape or not np.array_equal(a, b):
        return ("they are not reproducible: two calls with identically seeded rngs gave different weights: "
                "draw from the `rng` you are given (rng.uniform), not from np.random / torch / tf's global "
                "generators, so that runs are reproducible.")
    if np.array_equal(a, c):
        return "different rngs gave the same weights: draw them from the `rng` argument."
    return None


WEIGHT_HINTS = (
    "One weight per sample, uniform on [0, 1] (not normal: the interpolates must stay between real and fake).",
    "Use the generator you are given: rng.uniform(0.0, 1.0, size=(n, 1)).",
    "Return float32: rng.uniform(0.0, 1.0, size=(n, 1)).astype(np.float32).",
)


def sample_interpolation_weights_exercise(**kwargs) -> Exercise:
    kwargs.setdefault("fallback", interpolation_weights)
    return Exercise(
        name="sample_interpolation_weights", truth=_weights_truth,
        cases=[(2000, RngFrom(0)), (2000, RngFrom(1)), (500, RngFrom(2))], hints=WEIGHT_HINTS,
        mistakes=WEIGHT_MISTAKES, to_numpy=classify_weights,
        extra_checks=(_check_weights_use_rng,), rtol=0.0, atol=0.0, **kwargs)
