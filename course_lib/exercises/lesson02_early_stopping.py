"""Lesson 02 exercises (early stopping): ``should_stop`` and ``best_step``.

Pure Python/NumPy: both tracks use the same checkers (no tensors involved).
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import early_stopping as _es


def should_stop_truth(history, patience, min_delta):
    return _es.should_stop(history, patience, min_delta)


def _absolute(v, best, d):  # the rule: strictly below best by more than the absolute min_delta
    return v < best - d


def _walk(values, min_delta, *, better=_absolute, reference="best", moving_best=False, in_a_row=True,
          first_counts=True):
    """``(counter, index of the last improvement)`` after ``values`` under one reading of the rule,
    to reproduce the other readings: ``better(value, reference, min_delta)`` decides improvements."""
    best, prev, wait, last = None, None, 0, None
    for i, v in enumerate(values):
        ref = best if reference == "best" else prev
        improved = first_counts if ref is None else better(v, ref, min_delta)
        if ref is None or improved:
            best = v
        if improved:
            wait, last = (0 if in_a_row else wait), i
        else:
            wait += 1
        if moving_best:  # best follows every new minimum, improvement or not
            best = min(best, v)
        prev = v
    return wait, last


def _stops(**reading):
    return lambda h, p, d: _walk(h["val_loss"], d, **reading)[0] >= p


def _hist(val, train=None):
    val = [float(v) for v in val]
    return {"loss": [float(v) for v in (train if train is not None else [v - 1.0 for v in val])], "val_loss": val}


def _should_stop_cases():
    return [
        (_hist([5.0, 4.0, 3.0, 3.5, 3.4, 3.3]), 3, 0.0),             # three without beating the best 3.0
        (_hist([5.0, 4.0, 3.0, 3.5, 3.4]), 3, 0.0),                  # only two so far
        (_hist([5.0, 4.0, 3.0, 2.99, 2.98, 2.97]), 3, 0.05),         # tiny gains below min_delta
        (_hist([5.0, 4.0, 3.0, 2.99, 2.98]), 3, 0.05),
        (_hist([5.0, 4.0, 3.0, 3.2, 3.1, 3.0, 2.9]), 3, 0.0),       # 2.9 is a new best (three failures before it)
        (_hist([5.0, 4.0, 3.0, 3.02, 3.04, 3.06], train=[4.0, 3.5, 3.4, 3.3, 3.2, 3.1]), 3, 0.05),
        (_hist([6.0, 5.0, 4.0, 3.0, 2.0], train=[6.5, 5.5, 4.5, 1.0, 1.0]), 2, 0.0),  # improving: never stop
        (_hist([4.0, 4.5, 4.4, 4.3, 4.2], train=[5.0, 4.0, 3.0, 2.0, 1.0]), 4, 0.0),
        (_hist([4.0, 4.5, 4.4, 4.3], train=[5.0, 4.0, 3.0, 2.0]), 4, 0.0),
        (_hist([3.0, 2.5, 2.6], train=[2.0, 2.0, 2.7]), 1, 0.0),
        # small gains that add up: 2.94 beats best 3.0 by more than 0.05, 2.88 beats 2.94 (best never moved to 2.97)
        (_hist([5.0, 4.0, 3.0, 2.97, 2.94, 2.91, 2.88]), 3, 0.05),
        (_hist([5.0, 4.0, 3.0, 2.9, 2.9, 2.9]), 3, 0.05),            # 2.9 < 3.0 - 0.05, not < 3.0 * (1 - 0.05)
        (_hist([3.0, 2.0, 2.0, 2.0, 2.0]), 3, 0.0),                  # ties are not improvements
        (_hist([3.0, 2.5, 2.6]), 2, 0.5),                            # exactly min_delta better is not better
    ]


# The other readings of the rule, shared by both exercises' diagnoses.
MOVING_BEST = ("you moved `best` to every new minimum, also for gains of min_delta or less that did not count as "
               "improvements. `best` changes only on an improvement (value < best - min_delta): then a run of small "
               "gains counts as soon as its total since `best` exceeds min_delta; with a moving `best` it never does.")
RELATIVE = ("you used min_delta as a fraction of best (value < best * (1 - min_delta)). It is an absolute amount, "
            "in the loss's units, as in Keras' EarlyStopping: an improvement is value < best - min_delta.")
TIES = ("you counted a value of exactly best - min_delta as an improvement (with min_delta = 0: a tie with "
        "the best). The comparison is strict: value < best - min_delta.")

SHOULD_STOP_MISTAKES = (
    Mistake("seed's criterion", lambda h, p, d: h["val_loss"][-1] > h["loss"][-1],
            "you stop when the validation loss exceeds the last training loss: the seed document's rule. A model's "
            "validation loss is almost always above its training loss, so this fires at random (in the seed it is "
            "even the same training data with other noise). Compare the validation loss with its own best value."),
    Mistake("training loss", lambda h, p, d: _es.should_stop({"val_loss": h["loss"]}, p, d),
            "you tracked history['loss'], the *training* loss. It keeps falling while the model overfits; the "
            "stopping rule must watch the held-out history['val_loss']."),
    Mistake("last, not best", _stops(reference="last"),
            "you compared each value with the previous one instead of the best so far, so a slow drift upwards "
            "after a small dip resets the counter. Keep the best value and count evaluations since it."),
    Mistake("patience off by one", lambda h, p, d: _es.should_stop(h, p + 1, d),
            "off by one: stop as soon as `patience` evaluations in a row failed to improve (wait >= patience), "
            "not after patience + 1."),
    Mistake("patience off by one (early)", lambda h, p, d: _es.should_stop(h, max(p - 1, 1), d) if p > 1 else
            len(h["val_loss"]) > 1,
            "off by one: you stop one evaluation early. Stop when `patience` evaluations in a row failed to improve."),
    Mistake("min_delta ignored", lambda h, p, d: _es.should_stop(h, p, 0.0),
            "min_delta is ignored: an improvement must beat the best by *more than* min_delta, otherwise noise-sized "
            "gains keep training alive forever."),
    Mistake("min_delta sign", _stops(better=lambda v, best, d: v < best + d),
            "min_delta has the wrong sign: for a loss an improvement is value < best - min_delta; with + min_delta "
            "even a slightly *worse* value resets the counter."),
    Mistake("best moves on every new minimum", _stops(moving_best=True), MOVING_BEST),
    Mistake("relative min_delta", _stops(better=lambda v, best, d: v < best * (1 - d)), RELATIVE),
    Mistake("ties count", _stops(better=lambda v, best, d: v <= best - d), TIES),
    Mistake("not in a row", _stops(in_a_row=False),
            "your counter never goes back to 0: it counts every evaluation without improvement so far. Patience "
            "counts them *in a row*: reset the counter to 0 at each improvement."),
    Mistake("first value as a failure", _stops(first_counts=False),
            "you counted the first evaluation as a failure (best started at the first value and was compared with "
            "itself). The first value is always an improvement: it sets best and leaves the counter at 0."),
)


def should_stop(**kwargs) -> Exercise:
    return Exercise(
        name="should_stop",
        truth=should_stop_truth,
        cases=_should_stop_cases(),
        hints=(
            "Only history['val_loss'] matters. Walk through it once, keeping `best` (the best value so far) and a "
            "counter of the evaluations since the last improvement.",
            "The first value is always an improvement. After it, a value is an improvement only if "
            "value < best - min_delta: strictly lower than best by more than min_delta, an absolute amount (not a "
            "fraction of best). A tie, or a gain of min_delta or less, is not an improvement.",
            "On an improvement: best = value and the counter goes back to 0. Otherwise the counter grows by 1 and "
            "best stays as it is, even if the value is a little lower. Return counter >= patience.",
        ),
        mistakes=SHOULD_STOP_MISTAKES, **kwargs)


def best_step_truth(val_losses, min_delta):
    return _es.best_step(val_losses, min_delta)


def _best_at(**reading):
    return lambda v, d: _walk(list(v), d, **reading)[1]


def _best_step_cases():
    return [
        (np.array([5.0, 4.0, 3.0, 3.5, 3.4, 3.3]), 0.0),
        (np.array([5.0, 4.0, 3.0, 2.99, 2.98, 3.2]), 0.05),
        (np.array([5.0, 3.0, 3.0, 3.4, 2.5, 2.6]), 0.0),
        (np.array([4.0, 3.9, 3.85, 3.7, 3.69, 3.8, 3.9]), 0.02),
        (np.array([2.0, 2.5, 3.0, 3.5]), 0.0),
        (np.array([4.0, 3.0, 3.5, 3.0, 3.2]), 0.0),       # a tie is not an improvement
        (np.array([4.0, 3.0, 3.03, 3.5]), 0.05),          # slightly worse is not better
        (np.array([4.0, 3.0, 2.97, 2.94, 2.91]), 0.05),   # small gains add up: 2.94 < 3.0 - 0.05
        (np.array([4.0, 3.0, 2.9, 2.88]), 0.05),          # 2.9 < 3.0 - 0.05, not < 3.0 * (1 - 0.05)
        (np.array([3.0, 2.5, 2.2]), 0.5),                 # 2.5 is exactly min_delta better: not better
        (np.array([4.0, 3.0, 2.98, 2.98]), 0.05),
    ]


BEST_STEP_MISTAKES = (
    Mistake("last step", lambda v, d: len(v) - 1,
            "you returned the last evaluation: that is *not* restoring the best weights, just keeping the final "
            "(overfit) ones."),
    Mistake("highest loss", lambda v, d: int(np.argmax(v)),
            "you picked the highest validation loss; for a loss, lower is better."),
    Mistake("one-based", lambda v, d: _es.best_step(v, d) + 1,
            "off by one: return the 0-based index of the evaluation (the first evaluation is 0)."),
    Mistake("min_delta ignored", lambda v, d: int(np.argmin(v)),
            "you returned the overall minimum and ignored min_delta. The tracker saves weights only when the loss "
            "improves by more than min_delta, so restore-best brings back the last such improvement."),
    Mistake("last minimum", lambda v, d: int(len(v) - 1 - np.argmin(v[::-1])),
            "you returned the last evaluation that reached the overall minimum: that ignores min_delta and counts "
            "ties. An improvement is value < best - min_delta, strictly: a tie is not one."),
    Mistake("min_delta sign", _best_at(better=lambda v, best, d: v < best + d),
            "min_delta has the wrong sign: an improvement is value < best - min_delta."),
    Mistake("best moves on every new minimum", _best_at(moving_best=True), MOVING_BEST),
    Mistake("relative min_delta", _best_at(better=lambda v, best, d: v < best * (1 - d)), RELATIVE),
    Mistake("ties count", _best_at(better=lambda v, best, d: v <= best - d), TIES),
)


def best_step(**kwargs) -> Exercise:
    return Exercise(
        name="best_step",
        truth=best_step_truth,
        cases=_best_step_cases(),
        hints=(
            "The rule of should_stop: walk through the losses keeping `best` and the index of the last improvement.",
            "The first value is an improvement; a later one only if value < best - min_delta (strict; min_delta is "
            "an absolute amount). Only then do best and the index change: a tie or a smaller gain moves neither.",
            "Return the index of the last improvement (0-based), an int.",
        ),
        mistakes=BEST_STEP_MISTAKES, atol=0, rtol=0, **kwargs)
