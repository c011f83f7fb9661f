"""Lesson 03 exercises (learning-rate schedules): ``lr_at`` (the seed's schedule, repaired) and
``warmup_cosine``.

Pure Python/NumPy: both tracks use the same checkers (the learner returns a number).
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import schedules as _sched


def lr_at_truth(epoch, base_lr):
    """The seed's intended step schedule, from the *base* rate: base until epoch 50, half until 75, then a quarter."""
    return _sched.seed_intended(epoch, base_lr)


def _lr_compounded(epoch, base_lr, inclusive=False):
    lr = float(base_lr)
    for k in range(int(epoch) + (1 if inclusive else 0)):
        lr = _sched.seed_rule(k, lr)
    return lr


def _lr_piecewise(epoch, base_lr, first=50, second=75, f1=0.5, f2=0.25, divide=False):
    f = 1.0 if epoch < first else (f1 if epoch < second else f2)
    return base_lr / f if divide else base_lr * f


def _lr_at_cases():
    epochs = (0, 1, 48, 49, 50, 51, 52, 73, 74, 75, 76, 99, 120)
    return [(e, b) for b in (1e-3, 0.1) for e in epochs]


_COMPOUND_MESSAGE = (
    "your rate keeps shrinking every epoch after epoch 50: you applied the factor to the *current* rate, "
    "as the seed does with `lr_schedule(epoch, optimizer.lr)`, so the halvings compound (after 100 epochs "
    "1e-3 becomes 1e-3 * 0.5**25 * 0.25**25, about 3e-26). Compute the rate from base_lr and the epoch alone.")

LR_AT_MISTAKES = (
    Mistake("compounding (seed)", lambda e, b: _lr_compounded(e, b), _COMPOUND_MESSAGE),
    Mistake("compounding, inclusive", lambda e, b: _lr_compounded(e, b, inclusive=True), _COMPOUND_MESSAGE),
    Mistake("boundaries one late", lambda e, b: _lr_piecewise(e, b, 51, 76),
            "off by one: the rate must already be halved *in* epoch 50 and quartered in epoch 75 "
            "(epoch < 50 keeps the base rate, not epoch <= 50)."),
    Mistake("boundaries one early", lambda e, b: _lr_piecewise(e, b, 49, 74),
            "off by one: you switch one epoch early (epochs count from 0 here: epoch 49 still uses the base rate)."),
    Mistake("dividing by the factor", lambda e, b: _lr_piecewise(e, b, divide=True),
            "your rate *grows* after epoch 50: you divided by the factor (base_lr / 0.5) instead of multiplying "
            "(base_lr * 0.5, which is base_lr / 2)."),
    Mistake("branch order", lambda e, b: _lr_piecewise(e, b, f2=0.5),
            "after epoch 75 the rate must be a quarter of the base rate, yours stays at half: check the order of "
            "your conditions (with `if epoch >= 50 ... elif epoch >= 75` the second branch never runs)."),
    Mistake("quarter of the half", lambda e, b: _lr_piecewise(e, b, f2=0.125),
            "after epoch 75 your rate is an eighth of the base rate: the quarter is relative to base_lr, "
            "not to the halved rate."),
    Mistake("factor only", lambda e, b: _lr_piecewise(e, 1.0),
            "you returned the factor (1, 0.5, 0.25), not the rate: multiply it by base_lr."),
)


def lr_at(**kwargs) -> Exercise:
    return Exercise(
        name="lr_at",
        truth=lr_at_truth,
        cases=_lr_at_cases(),
        hints=(
            "A schedule is a function of the epoch and the *base* rate only: never read the optimizer's current rate.",
            "Three pieces: epoch < 50, 50 <= epoch < 75, epoch >= 75. Epochs count from 0.",
            "return base_lr if epoch < 50 else (base_lr * 0.5 if epoch < 75 else base_lr * 0.25)",
        ),
        mistakes=LR_AT_MISTAKES, rtol=1e-6, atol=0.0, **kwargs)


def warmup_cosine_truth(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    return _sched.warmup_cosine(step, base_lr, warmup_steps, total_steps, min_lr)


def _wc(s, base, w, T, mn, *, ramp="linear", origin="warmup", span="rest", angle=np.pi, use_min=True,
        half=True, plus_one=True, clamp=True):
    """warmup_cosine with one thing changed, to reproduce a mistake."""
    mn = mn if use_min else 0.0
    if s < w:
        return {"linear": base * s / w, "flat": base, "plus1": base * (s + 1) / w}[ramp]
    t = s if origin == "zero" else s - w
    n = T if span == "total" else T - w
    p = t / n
    if clamp:
        p = min(p, (T if origin == "zero" else T - w) / n)
    c = (1.0 + np.cos(angle * p)) if plus_one else np.cos(angle * p)
    return float(mn + (base - mn) * (0.5 if half else 1.0) * c)


def _wc_mistake(name, message, **kw):
    # Clamped or not after total_steps, the same mistake gets the same diagnosis.
    return (Mistake(name, lambda *a: _wc(*a, **kw), message),
            Mistake(name + ", not clamped", lambda *a: _wc(*a, clamp=False, **kw), message))


def _warmup_cosine_cases():
    cases = []
    for base, w, T, mn in ((1e-3, 100, 1000, 0.0), (0.5, 10, 50, 0.05), (2e-3, 40, 240, 1e-4)):
        for s in (0, 1, w // 2, w - 1, w, w + 1, (w + T) // 2, T - 1, T, T + w):
            cases.append((s, base, w, T, mn))
    return cases


WARMUP_COSINE_MISTAKES = (
    *_wc_mistake("warmup starts at base_lr", "during warmup your rate is already base_lr: warmup must ramp "
                 "linearly from 0 at step 0 to base_lr at step warmup_steps (base_lr * step / warmup_steps).",
                 ramp="flat"),
    *_wc_mistake("warmup off by one", "your warmup is one step ahead: the rate is base_lr * step / warmup_steps, "
                 "0 at step 0 (as in Keras' CosineDecay with warmup), not (step + 1) / warmup_steps.", ramp="plus1"),
    *_wc_mistake("cosine over total_steps", "your cosine does not reach min_lr at total_steps: it spans "
                 "total_steps - warmup_steps steps (progress = (step - warmup_steps) / (total_steps - warmup_steps)), "
                 "not total_steps.", span="total"),
    *_wc_mistake("cosine restarts from step 0", "your cosine counts from step 0 instead of from the end of warmup, "
                 "so the rate drops abruptly when warmup ends: use step - warmup_steps.", origin="zero"),
    *_wc_mistake("cosine restarts from step 0 (over total)", "your cosine counts from step 0 instead of from the end "
                 "of warmup, so the rate drops abruptly when warmup ends: use step - warmup_steps.",
                 origin="zero", span="total"),
    *_wc_mistake("degrees", "np.cos / math.cos take radians: "
                 "half a cosine is cos(pi * progress), not cos(180 * progress).", angle=180.0),
    *_wc_mistake("min_lr ignored", "your rate ends at 0, not at min_lr: the cosine goes from base_lr down to min_lr, "
                 "min_lr + (base_lr - min_lr) * 0.5 * (1 + cos(pi * progress)).", use_min=False),
    *_wc_mistake("no one half", "your cosine starts at twice base_lr: the factor is 0.5 * (1 + cos(pi * progress)), "
                 "which goes from 1 to 0.", half=False),
    *_wc_mistake("no plus one", "your rate goes below min_lr (even negative): "
                 "the factor is 0.5 * (1 + cos(pi * progress)); "
                 "without the + 1 it runs from 0.5 to -0.5.", plus_one=False),
    Mistake("not clamped after total_steps", lambda *a: _wc(*a, clamp=False),
            "after total_steps your cosine keeps going and the rate rises again (what torch's CosineAnnealingLR does "
            "after T_max): clamp the progress at 1 so the rate stays at min_lr."),
)


def warmup_cosine(**kwargs) -> Exercise:
    return Exercise(
        name="warmup_cosine",
        truth=warmup_cosine_truth,
        cases=_warmup_cosine_cases(),
        hints=(
            "Two pieces. For step < warmup_steps: a straight line from 0 (step 0) to base_lr (step warmup_steps). "
            "After: half a cosine from base_lr down to min_lr.",
            "progress = (step - warmup_steps) / (total_steps - warmup_steps), clamped to at most 1, so the rate stays "
            "at min_lr after total_steps.",
            "rate = min_lr + (base_lr - min_lr) * 0.5 * (1 + np.cos(np.pi * progress))",
        ),
        mistakes=WARMUP_COSINE_MISTAKES, rtol=1e-6, atol=1e-12, **kwargs)


