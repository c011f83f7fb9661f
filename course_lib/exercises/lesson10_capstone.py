"""Lesson 10 exercises (the capstone), NumPy truths for both tracks, one section per part of the lesson:
part 1 the seed's scripts (``compounded_rate``), part 2 the full recipe (``recipe_d_loss``), part 3 the
bug hunt (``hunt_*``).

Part 3's checkers are in :mod:`course_lib.exercises.lesson10_bug_hunt`.
"""
from __future__ import annotations

from ..checks import Exercise, Mistake
from ..techniques import schedules as _sched, seed_scripts as _seeds

# --- part 1: the seed's scripts ------------------------------------------------------------------


def _compounded_cases():
    epochs = (0, 1, 49, 50, 51, 60, 74, 75, 76, 99, 100, 120)
    return [(e, b) for b in (1e-3, 0.1) for e in epochs]


def _halving_only(e, b):
    return b * 0.5 ** max(e - 50, 0)


COMPOUNDED_MISTAKES = (
    Mistake("the intended schedule", lambda e, b: _sched.seed_intended(e, b),
            "that is the schedule the seed *meant* (base, half, a quarter of the base rate). The seed's loop passes "
            "the current rate, so from epoch 50 each epoch halves what the previous epoch left: count the halvings "
            "(epochs 50..74 before this one) and the quarterings (epochs 75.. before this one)."),
    Mistake("one epoch late", lambda e, b: _seeds.compounded_rate_loop(e + 1, b),
            "you returned the rate *after* the update at the end of `epoch`, one epoch late: the rate used during "
            "epoch e is what the updates of epochs 0..e-1 left (epoch 50 still uses the base rate)."),
    Mistake("halving to the end", _halving_only,
            "your rate halves once per epoch from 50 to the end (base / 2^50 after 100 epochs); from epoch 75 the "
            "seed's rule returns lr / 4, so each of those epochs quarters the rate (base / 2^75 at the end)."),
)


def compounded_rate_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="compounded_rate", truth=_seeds.compounded_rate_loop, cases=_compounded_cases(),
        hints=("The rate used in epoch e is base_lr times the factors of the updates of epochs 0 .. e-1.",
               "Updates of epochs 50..74 each multiply by 1/2, those of epochs 75.. by 1/4: count each kind below e.",
               "base_lr * 0.5 ** min(max(e - 50, 0), 25) * 0.25 ** max(e - 75, 0)"),
        mistakes=COMPOUNDED_MISTAKES, rtol=1e-9, atol=0.0, **kwargs)


# --- end of part 1 ---

# --- part 2: the full recipe -----------------------------------------------------------------------
# ``recipe_d_loss(D, real, fake, augment, gamma)``: DiffAugment's discriminator loss (every input D sees
# augmented) plus R1 at the augmented reals. The discriminator is a small network given by NumPy weights
# and ``augment`` a translation by fixed offsets, as in lesson 06's ``discriminator_loss``.

import numpy as _np  # noqa: E402

from ..techniques.penalties import (  # noqa: E402
    CriticWeights as _CriticWeights,
    critic_forward as _critic_forward,
    critic_input_gradient as _input_gradient,
)
from .gradient_check import Differentiable as _Differentiable  # noqa: E402
from .lesson06_augmentation import AugmentWith as _AugmentWith  # noqa: E402


def _recipe_loss(D, real, fake, augment, gamma, *, r1_at="augmented reals", half=True, aug_fake=True,
                 form="squared", reduce=_np.mean):
    x_real, x_fake = augment(real), (augment(fake) if aug_fake else _np.asarray(fake, _np.float64))
    sp = lambda t: _np.logaddexp(0.0, t)  # noqa: E731
    gan = _np.mean(sp(-_critic_forward(D, x_real))) + _np.mean(sp(_critic_forward(D, x_fake)))
    if r1_at is None:
        return float(gan)
    at = {"augmented reals": x_real, "clean reals": _np.asarray(real, _np.float64), "fakes": x_fake}[r1_at]
    sq = (_input_gradient(D, at) ** 2).sum(axis=1)
    return float(gan + (0.5 if half else 1.0) * gamma * reduce(_np.sqrt(sq) if form == "norm" else sq))


def recipe_d_loss_truth(D, real, fake, augment, gamma) -> float:
    """``mean sp(-D(T(x))) + mean sp(D(T(G(z)))) + gamma / 2 * mean |grad D(T(x))|^2``, ``sp`` = softplus."""
    return _recipe_loss(D, real, fake, augment, gamma)


def _recipe_cases():
    from .. import data

    rng = _np.random.default_rng(1010)
    cases = []
    for n, gamma in ((6, 1.0), (8, 4.0)):
        W1 = rng.normal(scale=0.4, size=(64, 8))
        D = _CriticWeights(((W1, rng.normal(scale=0.3, size=8)),
                            (rng.normal(scale=1.5, size=(8, 1)), _np.array([0.2]))))
        real = data.digits("train")[rng.choice(200, n, replace=False)]
        fake = rng.uniform(0.0, 1.0, (n, 64)).astype(_np.float32)
        shifts = rng.integers(-1, 2, size=(n, 2))
        shifts[0], shifts[1] = (1, 1), (-1, 0)
        cases.append((D, real, fake, _AugmentWith(shifts), gamma))
    return cases


RECIPE_MISTAKES = (
    Mistake("R1 on the fakes", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, r1_at="fakes"),
            "the penalty is taken at the fakes. R1 (Mescheder et al. 2018) makes D flat on the *data*: take "
            "the input gradient at the reals D is shown, D(augment(real)), not at the generator's samples."),
    Mistake("R1 on the clean reals", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, r1_at="clean reals"),
            "the penalty is taken at the reals before the augmentation. D is trained on augment(real): "
            "that is where its slope should be small, so take the gradient at the augmented reals it sees."),
    Mistake("no one half", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, half=False),
            "the factor 1/2 is missing: R1 = gamma / 2 * E[|grad_x D(x)|^2]. With the 1/2, gamma means what it "
            "means in the papers and in StyleGAN's code."),
    Mistake("reals only augmented", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, aug_fake=False),
            "only the reals go through augment: the augmentation then leaks into the samples (lesson 06). "
            "Every input D sees goes through augment, D(augment(fake)) too."),
    Mistake("no R1", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, r1_at=None),
            "that is DiffAugment's loss without the penalty: add gamma / 2 * mean over samples of the squared "
            "norm of D's input gradient at the augmented reals."),
    Mistake("norm not squared", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, form="norm"),
            "you averaged the gradient norm |g|; R1 uses the squared norm |g|^2 = sum of g**2."),
    Mistake("R1 summed over samples", lambda D, r, f, a, g: _recipe_loss(D, r, f, a, g, reduce=_np.sum),
            "you summed the squared norms over the samples: average them, as the loss's two terms are averaged."),
)

RECIPE_HINTS = (
    "Augment the reals once, x = augment(real), and use x for both the loss's real term and R1.",
    "R1 needs D's input gradient at x kept in the graph: torch.autograd.grad(D(x).sum(), x, create_graph=True) "
    "with x requiring grad, or a nested tf.GradientTape that watches x.",
    "Return mean(softplus(-D(x))) + mean(softplus(D(augment(fake)))) + gamma / 2 * mean(sum(grad**2, axis=-1)).",
)


def recipe_d_loss_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="recipe_d_loss", truth=recipe_d_loss_truth, cases=_recipe_cases(), hints=RECIPE_HINTS,
        mistakes=RECIPE_MISTAKES, rtol=2e-4, atol=1e-5,
        differentiable=_Differentiable({0: "the discriminator's parameters"}, why="A loss the optimizer cannot "
                                       "differentiate trains nothing, and R1 must reach D's weights."),
        **kwargs)


# --- end of part 2 ---

# --- part 3: the bug hunt (its checkers: lesson10_bug_hunt, so that this module stays small) -------------
from .lesson10_bug_hunt import (  # noqa: E402,F401
    STILL_BUGGY,
    eval_probe,
    hunt_acgan_exercise,
    hunt_d_loss_exercise,
    hunt_ema_exercise,
    hunt_eval_scores_exercise,
    hunt_freeze_exercise,
    hunt_g_loss_exercise,
    hunt_log_likelihood_exercise,
)
# --- end of part 3 ---
