"""Lesson 02 exercises (early stopping): ``should_stop`` and ``best_step``.

Pure Python/NumPy: both tracks use the same checkers (no tensors involved).
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import early_stopping as _es

def should_stop_truth(history, patience, min_delta):
    return _es.should_stop(history, patience, min_delta)


def _stop_after(values, patience, min_delta, *, reference="best", sign=-1.0):
    """A patience rule with a configurable reference and min_delta sign, to reproduce mistakes."""
    best, prev, wait = None, None, 0
    for v in values:
        ref = best if reference == "best" else prev
        if ref is None or v < ref + sign * min_delta:
            best, wait = v, 0
        else:
            wait += 1
        prev = v
    return wait >= patience


def _hist(val, train=None):
    val = [float(v) for v in val]
    return {"loss": [float(v) for v in (train if train is not None else [v - 1.0 for v in val])], "val_loss": val}


def _should_stop_cases():
    return [
        (_hist([5.0, 4.0, 3.0, 3.5, 3.4, 3.3]), 3, 0.0),             # three without beating the best 3.0
        (_hist([5.0, 4.0, 3.0, 3.5, 3.4]), 3, 0.0),                  # only two so far
        (_hist([5.0, 4.0, 3.0, 2.99, 2.98, 2.97]), 3, 0.05),         # tiny gains below min_delta
        (_hist([5.0, 4.0, 3.0, 2.99, 2.98]), 3, 0.05),
        (_hist([5.0, 4.0, 3.0, 3.2, 3.1, 3.0, 2.9]), 3, 0.0),       # 2.9 is a new best
        (_hist([5.0, 4.0, 3.0, 3.02, 3.04, 3.06], train=[4.0, 3.5, 3.4, 3.3, 3.2, 3.1]), 3, 0.05),
        (_hist([6.0, 5.0, 4.0, 3.0, 2.0], train=[6.5, 5.5, 4.5, 1.0, 1.0]), 2, 0.0),  # improving: never stop
        (_hist([4.0, 4.5, 4.4, 4.3, 4.2], train=[5.0, 4.0, 3.0, 2.0, 1.0]), 4, 0.0),
        (_hist([4.0, 4.5, 4.4, 4.3], train=[5.0, 4.0, 3.0, 2.0]), 4, 0.0),
        (_hist([3.0, 2.5, 2.6], train=[2.0, 2.0, 2.7]), 1, 0.0),
    ]


SHOULD_STOP_MISTAKES = (
    Mistake("seed's criterion", lambda h, p, d: h["val_loss"][-1] > h["loss"][-1],
            "you stop when the validation loss exceeds the last training loss: the seed document's rule. A model's "
            "validation loss is almost always above its training loss, so this fires at random (in the seed it is "
            "even the same training data with other noise). Compare the validation loss with its own best value."),
    Mistake("training loss", lambda h, p, d: _es.should_stop({"val_loss": h["loss"]}, p, d),
            "you tracked history['loss'], the *training* loss. It keeps falling while the model overfits; the "
            "stopping rule must watch the held-out history['val_loss']."),
    Mistake("last, not best", lambda h, p, d: _stop_after(h["val_loss"], p, d, reference="last"),
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
    Mistake("min_delta sign", lambda h, p, d: _stop_after(h["val_loss"], p, d, sign=+1.0),
            "min_delta has the wrong sign: for a loss an improvement is value < best - min_delta; with + min_delta "
            "even a slightly *worse* value resets the counter."),
)


def should_stop(**kwargs) -> Exercise:
    return Exercise(
        name="should_stop",
        truth=should_stop_truth,
        cases=_should_stop_cases(),
        hints=(
            "Only history['val_loss'] matters. Walk through it once, keeping the best value so far and a counter.",
            "A value improves when value < best - min_delta: then best = value and the counter goes back to 0; "
            "otherwise the counter grows by 1.",
            "Return counter >= patience after the last value. The first value is always an improvement.",
        ),
        mistakes=SHOULD_STOP_MISTAKES, **kwargs)


def best_step_truth(val_losses, min_delta):
    return _es.best_step(val_losses, min_delta)


def _first_improvement_index(values, min_delta, sign):
    best, idx = None, None
    for i, v in enumerate(values):
        if best is None or v < best + sign * min_delta:
            best, idx = v, i
    return idx


def _best_step_cases():
    return [
        (np.array([5.0, 4.0, 3.0, 3.5, 3.4, 3.3]), 0.0),
        (np.array([5.0, 4.0, 3.0, 2.99, 2.98, 3.2]), 0.05),
        (np.array([5.0, 3.0, 3.0, 3.4, 2.5, 2.6]), 0.0),
        (np.array([4.0, 3.9, 3.85, 3.7, 3.69, 3.8, 3.9]), 0.02),
        (np.array([2.0, 2.5, 3.0, 3.5]), 0.0),
        (np.array([4.0, 3.0, 3.5, 3.0, 3.2]), 0.0),       # a tie is not an improvement
        (np.array([4.0, 3.0, 3.03, 3.5]), 0.05),          # slightly worse is not better
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
            "with ties, take the *first* evaluation that reached the best value: a tie is not an improvement."),
    Mistake("min_delta sign", lambda v, d: _first_improvement_index(v, d, +1.0),
            "min_delta has the wrong sign: an improvement is value < best - min_delta."),
)


def best_step(**kwargs) -> Exercise:
    return Exercise(
        name="best_step",
        truth=best_step_truth,
        cases=_best_step_cases(),
        hints=(
            "Walk through the validation losses keeping the best value so far and the index where it was reached.",
            "Update both only when value < best - min_delta (the first value always counts).",
            "Return that index (0-based), an int.",
        ),
        mistakes=BEST_STEP_MISTAKES, atol=0, rtol=0, **kwargs)


