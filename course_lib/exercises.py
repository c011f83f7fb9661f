"""Exercise definitions shared by both tracks: the truth and the known mistakes, in NumPy.

A framework track builds its checkers from these with its own ``adapt``/``to_numpy``/
``fallback`` (see ``course_lib.torch.exercises`` and ``course_lib.tensorflow.exercises``),
so a mistake is diagnosed with the same words in PyTorch and TensorFlow.
"""
from __future__ import annotations

import numpy as np

from . import metrics
from .checks import Exercise, Mistake

# --- lesson 00: Fréchet distance -------------------------------------------------


def _frechet_cases():
    rng = np.random.default_rng(7)
    cases = []
    for n, d, shift in ((60, 3, 0.5), (80, 5, 2.0), (60, 2, 0.0)):
        a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
        b = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + shift
        cases.append((a, b))
    return cases


def _fd_with(a, b, *, mean_term=True, sqrt_fn=None, cross=2.0, rowvar=False, root=False):
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=rowvar), np.cov(b, rowvar=rowvar)
    if sqrt_fn is None:
        tr_cross = np.sqrt(np.clip(np.linalg.eigvals(s_a @ s_b).real, 0, None)).sum()
    else:
        tr_cross = np.trace(sqrt_fn(s_a, s_b))
    d = (mu_a - mu_b) @ (mu_a - mu_b) if mean_term else 0.0
    out = d + np.trace(s_a) + np.trace(s_b) - cross * tr_cross
    return np.sqrt(max(out, 0.0)) if root else out


FRECHET_MISTAKES = (
    Mistake("elementwise sqrt", lambda a, b: _fd_with(a, b, sqrt_fn=lambda s1, s2: np.sqrt(np.abs(s1 * s2))),
            "you took an element-wise square root of S1*S2. (S1 S2)^(1/2) is a *matrix* square root: "
            "use the eigenvalues of S1 @ S2 (sum of their square roots) or scipy.linalg.sqrtm."),
    Mistake("no mean term", lambda a, b: _fd_with(a, b, mean_term=False),
            "the term |mu1 - mu2|^2 is missing: two Gaussians with equal covariances but different means "
            "would get distance 0."),
    Mistake("cross term factor", lambda a, b: _fd_with(a, b, cross=1.0),
            "the cross term needs a factor 2: tr(S1 + S2 - 2 (S1 S2)^(1/2))."),
    Mistake("rows as variables", lambda a, b: _fd_with(a, b, rowvar=True) if len(a) == len(b) else np.nan,
            "np.cov treats each *row* as a variable by default, so you built an (n, n) covariance of samples. "
            "Pass rowvar=False (or use a.T)."),
    Mistake("square root of the distance", lambda a, b: _fd_with(a, b, root=True),
            "you returned the square root. The Fréchet distance used for FID/FCD is the squared "
            "2-Wasserstein distance: |mu1 - mu2|^2 + tr(...), no final sqrt."),
)


def frechet_distance(**kwargs) -> Exercise:
    return Exercise(
        name="frechet_distance",
        truth=metrics.frechet_distance,
        cases=_frechet_cases(),
        hints=(
            "Fit a Gaussian to each set: the mean of the rows and the covariance with np.cov(x, rowvar=False).",
            "d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).",
            "tr((S1 S2)^(1/2)) is the sum of the square roots of the eigenvalues of S1 @ S2 "
            "(they are real and >= 0 up to round-off: take .real and clip at 0).",
        ),
        mistakes=FRECHET_MISTAKES,
        rtol=1e-5, atol=1e-6, **kwargs)


# --- lesson 00: the VAE's reparameterization and negative ELBO ----------------------


def _vae_cases(n=5, z=3):
    rng = np.random.default_rng(11)
    return [(rng.normal(size=(n, z)).astype(np.float32), rng.normal(scale=0.7, size=(n, z)).astype(np.float32),
             rng.normal(size=(n, z)).astype(np.float32)) for _ in range(2)]


def reparameterize_truth(mu, logvar, eps):
    return mu + np.exp(0.5 * logvar) * eps


REPARAMETERIZE_MISTAKES = (
    Mistake("variance as std", lambda mu, lv, eps: mu + np.exp(lv) * eps,
            "you scaled eps by exp(logvar), the *variance*. The standard deviation is exp(logvar / 2)."),
    Mistake("logvar as std", lambda mu, lv, eps: mu + lv * eps,
            "you used logvar itself as the standard deviation. sigma = exp(logvar / 2)."),
    Mistake("no noise", lambda mu, lv, eps: mu + 0 * eps,
            "the noise is missing: z = mu ignores the posterior's spread and turns the VAE into a plain autoencoder."),
    Mistake("no mean", lambda mu, lv, eps: np.exp(0.5 * lv) * eps,
            "the mean is missing: z = mu + sigma * eps."),
    Mistake("sqrt of logvar", lambda mu, lv, eps: mu + np.sqrt(np.abs(lv)) * eps,
            "sqrt(logvar) is not sigma: logvar is a log, so sigma = exp(logvar / 2)."),
)


def reparameterize(**kwargs) -> Exercise:
    return Exercise(
        name="reparameterize",
        truth=reparameterize_truth,
        cases=_vae_cases(),
        hints=(
            "The encoder predicts mu and log(sigma^2); write z as a deterministic function of them and of eps ~ N(0, I).",
            "sigma = exp(0.5 * logvar).",
            "z = mu + exp(0.5 * logvar) * eps",
        ),
        mistakes=REPARAMETERIZE_MISTAKES, **kwargs)


def _bce_with_logits(x, logits):
    # log(1 + exp(l)) - x * l, written to stay finite for large |l|.
    return np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))


def _kl(mu, logvar):
    return -0.5 * np.sum(1.0 + logvar - mu**2 - np.exp(logvar), axis=1)


def negative_elbo_truth(x, logits, mu, logvar):
    """Per example, in nats: Bernoulli reconstruction summed over pixels plus KL(q(z|x) || N(0, I))."""
    return _bce_with_logits(x, logits).sum(axis=1) + _kl(mu, logvar)


def _elbo_cases():
    rng = np.random.default_rng(5)
    cases = []
    for n in (4, 6):
        x = rng.random((n, 64)).astype(np.float32)
        x[:, :8] = 0.0  # digits have blank pixels: exact zeros must work
        logits = rng.normal(scale=2.0, size=(n, 64)).astype(np.float32)
        mu = rng.normal(size=(n, 3)).astype(np.float32)
        logvar = rng.normal(scale=0.5, size=(n, 3)).astype(np.float32)
        cases.append((x, logits, mu, logvar))
    return cases


def _sigmoid(l):
    return 1.0 / (1.0 + np.exp(-l))


NEGATIVE_ELBO_MISTAKES = (
    Mistake("batch mean", lambda x, l, mu, lv: negative_elbo_truth(x, l, mu, lv).mean(),
            "return one value per example (shape (n,)); average over the batch only when you build the training loss."),
    Mistake("mean over pixels", lambda x, l, mu, lv: _bce_with_logits(x, l).mean(axis=1) + _kl(mu, lv),
            "the reconstruction term is averaged over the 64 pixels instead of summed, which silently weights "
            "the KL term 64 times more (a hidden beta) and is not the ELBO in nats."),
    Mistake("no KL", lambda x, l, mu, lv: _bce_with_logits(x, l).sum(axis=1),
            "the KL term is missing: without it the encoder is free to ignore the prior and sampling from N(0, I) fails."),
    Mistake("KL sign", lambda x, l, mu, lv: _bce_with_logits(x, l).sum(axis=1) - _kl(mu, lv),
            "the KL term has the wrong sign: the negative ELBO *adds* KL(q || p) >= 0."),
    Mistake("sigmoid twice", lambda x, l, mu, lv: _bce_with_logits(x, _sigmoid(l)).sum(axis=1) + _kl(mu, lv),
            "you passed probabilities to a loss that expects logits (the seed's `from_logits=True` on a sigmoid "
            "output): the sigmoid is applied twice. Give the loss the raw logits."),
    Mistake("KL with std", lambda x, l, mu, lv: _bce_with_logits(x, l).sum(axis=1)
            - 0.5 * np.sum(1.0 + lv - mu**2 - np.exp(0.5 * lv), axis=1),
            "in the KL term, exp(logvar) is sigma^2 (the variance), not exp(logvar / 2)."),
)


def negative_elbo(**kwargs) -> Exercise:
    return Exercise(
        name="negative_elbo",
        truth=negative_elbo_truth,
        cases=_elbo_cases(),
        hints=(
            "Two terms per example: the reconstruction cost -log p(x|z) summed over pixels, plus KL(q(z|x) || N(0, I)).",
            "For Bernoulli pixels and decoder logits, -log p(x|z) is binary cross-entropy *with logits*, summed over "
            "the 64 pixels (reduction none, then sum over axis 1).",
            "KL = -0.5 * sum(1 + logvar - mu**2 - exp(logvar)) over the latent axis.",
        ),
        mistakes=NEGATIVE_ELBO_MISTAKES, rtol=1e-4, atol=1e-3, **kwargs)


# --- lesson 02: early stopping -----------------------------------------------------
# Pure Python/NumPy: both tracks use the same checkers (no tensors involved).

from . import early_stopping as _es  # noqa: E402


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


# --- lesson 03: learning-rate schedules -----------------------------------------------
# Pure Python/NumPy: both tracks use the same checkers (the learner returns a number).

from . import schedules as _sched  # noqa: E402


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
    *_wc_mistake("degrees", "np.cos / math.cos take radians: half a cosine is cos(pi * progress), not cos(180 * progress).",
                 angle=180.0),
    *_wc_mistake("min_lr ignored", "your rate ends at 0, not at min_lr: the cosine goes from base_lr down to min_lr, "
                 "min_lr + (base_lr - min_lr) * 0.5 * (1 + cos(pi * progress)).", use_min=False),
    *_wc_mistake("no one half", "your cosine starts at twice base_lr: the factor is 0.5 * (1 + cos(pi * progress)), "
                 "which goes from 1 to 0.", half=False),
    *_wc_mistake("no plus one", "your rate goes below min_lr (even negative): the factor is 0.5 * (1 + cos(pi * progress)); "
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


# --- lesson 01: regularization --------------------------------------------------------
# l2_penalty takes a list of parameter tensors (the tracks convert them); adamw_step is NumPy.

from . import regularization as _reg  # noqa: E402


def _sq(params, keep=_reg.is_weight):
    return sum(float(np.sum(np.square(np.asarray(p, dtype=np.float64)))) for p in params if keep(p))


def _l2_cases():
    rng = np.random.default_rng(21)
    cases = []
    for shapes, wd in ((((5, 4), (4,), (4, 3), (3,)), 0.01), (((3, 6), (6,), (6, 2), (2,), (2, 1), (1,)), 0.3)):
        params = [rng.normal(size=s).astype(np.float32) for s in shapes]
        params = [p + 0.5 if p.ndim == 1 else p for p in params]  # biases clearly non-zero
        cases.append((params, wd))
    return cases


L2_PENALTY_MISTAKES = (
    Mistake("no penalty (the seed)", lambda ps, wd: 0.0,
            "you returned 0: no penalty at all. That is the seed document's 'Regularization' example, which is "
            "titled regularization but trains with plain Adam and adds nothing to the loss."),
    Mistake("biases included", lambda ps, wd: wd / 2 * _sq(ps, keep=lambda p: True),
            "you also penalized the biases (the 1-D tensors). Decay only the weight matrices: shrinking a bias "
            "does not smooth the function, it just pulls each unit's offset towards 0."),
    Mistake("no 1/2", lambda ps, wd: wd * _sq(ps),
            "the factor 1/2 is missing: the penalty is wd/2 * sum(w^2), so that its gradient is wd * w, the "
            "'weight decay' that AdamW and the papers call wd."),
    Mistake("L1", lambda ps, wd: wd / 2 * sum(float(np.abs(p).sum()) for p in ps if _reg.is_weight(p)),
            "you summed |w|: that is the L1 penalty (it pushes weights to exactly 0), not L2. Square the weights."),
    Mistake("L1, no 1/2", lambda ps, wd: wd * sum(float(np.abs(p).sum()) for p in ps if _reg.is_weight(p)),
            "you summed |w|: that is the L1 penalty (it pushes weights to exactly 0), not L2. Square the weights."),
    Mistake("mean", lambda ps, wd: wd / 2 * sum(float(np.square(p).mean()) for p in ps if _reg.is_weight(p)),
            "you averaged the squares within each tensor instead of summing them, so a tensor's penalty no longer "
            "grows with its size and wd means something different for every layer. Use a sum."),
    Mistake("mean over all", lambda ps, wd: wd / 2 * _sq(ps) / sum(p.size for p in ps if _reg.is_weight(p)),
            "you averaged the squares over all weights instead of summing them: wd is silently divided by the "
            "number of weights. Use a sum."),
    Mistake("squared twice", lambda ps, wd: wd / 2 * _sq(ps) ** 2,
            "you squared the sum of squares again: the penalty is wd/2 * sum(w^2), the squared L2 norm, once."),
    Mistake("norm, not squared", lambda ps, wd: wd / 2 * np.sqrt(_sq(ps)),
            "you used the L2 *norm* sqrt(sum(w^2)); the penalty is the *squared* norm, sum(w^2), times wd/2."),
)


def l2_penalty(**kwargs) -> Exercise:
    return Exercise(
        name="l2_penalty",
        truth=_reg.l2_penalty,
        cases=_l2_cases(),
        hints=(
            "Loop over the parameters; keep only the weight matrices (p.ndim >= 2), not the 1-D biases.",
            "Add up the squares of every entry of those weights (a sum, not a mean).",
            "Multiply the total by wd / 2.",
        ),
        mistakes=L2_PENALTY_MISTAKES, **kwargs)


def adamw_step_truth(w, grad, m, v, t, lr, wd):
    return _reg.adam_step(w, grad, m, v, t, lr, wd, decoupled=True)


def _adamw_cases():
    rng = np.random.default_rng(3)
    cases = []
    for t, lr, wd in ((1, 1e-2, 0.1), (5, 3e-3, 0.5), (40, 1e-2, 1.0)):
        w = rng.normal(size=(3, 4))
        grad = rng.normal(size=(3, 4)) * np.array([[0.01], [1.0], [10.0]])  # rows of small, medium, large gradients
        m = 0.1 * rng.normal(size=(3, 4)) if t > 1 else np.zeros((3, 4))
        v = rng.random((3, 4)) * 0.5 if t > 1 else np.zeros((3, 4))
        cases.append((w, grad, m, v, t, lr, wd))
    return cases


def _adam_like(w, g, m, v, t, lr, wd, *, coupled=False, decay=None, correct=True, decay_first=True):
    b1, b2 = _reg.BETAS
    if coupled:
        g = g + wd * w
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    m_hat, v_hat = (m / (1 - b1**t), v / (1 - b2**t)) if correct else (m, v)
    if decay is not None and decay_first:
        w = w - decay * w
    w = w - lr * m_hat / (np.sqrt(v_hat) + _reg.EPS)
    if decay is not None and not decay_first:
        w = w - decay * w
    return w, m, v


ADAMW_STEP_MISTAKES = (
    Mistake("no decay (the seed)", lambda w, g, m, v, t, lr, wd: _adam_like(w, g, m, v, t, lr, wd),
            "this is plain Adam: wd is never used, as in the seed document's 'Regularization' example."),
    Mistake("coupled L2", lambda w, g, m, v, t, lr, wd: _adam_like(w, g, m, v, t, lr, wd, coupled=True),
            "you added wd * w to the gradient: that is L2 inside Adam (what torch.optim.Adam(weight_decay=...) "
            "does), where the decay is rescaled by 1/sqrt(v) with everything else. AdamW keeps the moments for the "
            "loss gradient only and shrinks the weights directly: w <- w - lr * wd * w."),
    Mistake("decay without lr", lambda w, g, m, v, t, lr, wd: _adam_like(w, g, m, v, t, lr, wd, decay=wd),
            "the decay is w <- w - lr * wd * w (PyTorch's and Keras' AdamW scale it by the learning rate); you "
            "subtracted wd * w, which with wd = 0.1 wipes out 10% of every weight per step."),
    Mistake("decay on the new weights", lambda w, g, m, v, t, lr, wd: _adam_like(w, g, m, v, t, lr, wd, decay=lr * wd,
                                                                                   decay_first=False),
            "you decayed the already-updated weights. Shrink the weights *before* the Adam update (w * (1 - lr * wd), "
            "then subtract the Adam step), as torch.optim.AdamW and Keras' AdamW do."),
    Mistake("no bias correction", lambda w, g, m, v, t, lr, wd: _adam_like(w, g, m, v, t, lr, wd, decay=lr * wd,
                                                                             correct=False),
            "the bias correction is missing: divide m by (1 - beta1^t) and v by (1 - beta2^t) before the update."),
)


def adamw_step(**kwargs) -> Exercise:
    return Exercise(
        name="adamw_step",
        truth=adamw_step_truth,
        cases=_adamw_cases(),
        hints=(
            "The moments m and v are updated from the loss gradient alone: m = b1 m + (1 - b1) g, "
            "v = b2 v + (1 - b2) g^2 (b1 = 0.9, b2 = 0.999), then bias-corrected with t.",
            "Decay the weights directly, before the Adam step: w = w - lr * wd * w. wd never enters m or v.",
            "w_new = (w - lr * wd * w) - lr * m_hat / (sqrt(v_hat) + 1e-8); return (w_new, m, v).",
        ),
        mistakes=ADAMW_STEP_MISTAKES, rtol=1e-6, atol=1e-9, **kwargs)
