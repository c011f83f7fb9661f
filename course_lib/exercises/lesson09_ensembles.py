"""Lesson 09 exercises (ensembles): ``ema_update`` and ``ensemble_log_likelihood``, NumPy truths
(:mod:`course_lib.techniques.ensembles`) for both tracks.

``ema_update(average, current, decay, is_buffer)`` is one step of the moving average of a model's
state: a copy of the current state on the first call (``average`` is None), then
``decay * average + (1 - decay) * current`` for the weights, while the buffers (BatchNorm's running
statistics, flagged by ``is_buffer``) are copied. The checker rejects the decay the wrong way round,
buffers averaged (or kept stale), and an average that starts from zeros.
``ensemble_log_likelihood(member_log_likelihoods)``, ``(K, n) -> (n,)``, is log-mean-exp over the
members; the checker rejects a missing ``log K``, the members' mean, and ``log(mean(exp))`` without
the log-sum-exp trick, which underflows to ``-inf`` in float32 at a few hundred nats.
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import ensembles as _ens

# --- ema_update ---------------------------------------------------------------------------------


def _ema_cases():
    rng = np.random.default_rng(909)
    flags = [False, False, True, True]  # a weight matrix, a bias, then a running mean and a running variance

    def state():
        return [rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=2), rng.uniform(0.5, 2.0, 2)]

    return [(None, state(), 0.9, flags), (state(), state(), 0.9, flags), (state(), state(), 0.99, flags),
            (state(), state(), 0.5, flags)]


def _ema_with(average, current, decay, is_buffer, *, swap=False, average_buffers=False, stale=False, zeros=False):
    if average is None:
        if not zeros:
            return tuple(np.array(w, np.float64) for w in current)
        average = [np.zeros_like(np.asarray(w, np.float64)) for w in current]
    keep, new = (1.0 - decay, decay) if swap else (decay, 1.0 - decay)
    out = []
    for a, w, buf in zip(average, current, is_buffer):
        if buf and not average_buffers:
            out.append(np.array(a if stale else w, np.float64))
        else:
            out.append(keep * np.asarray(a, np.float64) + new * np.asarray(w, np.float64))
    return tuple(out)


EMA_MISTAKES = (
    Mistake("decay the wrong way round", lambda a, c, d, b: _ema_with(a, c, d, b, swap=True),
            "the decay weighs the new weights: (1 - decay) * average + decay * current. With decay 0.999 that is "
            "nearly the current weights, no average at all. The average keeps decay of itself: "
            "decay * average + (1 - decay) * current."),
    Mistake("buffers averaged", lambda a, c, d, b: _ema_with(a, c, d, b, average_buffers=True),
            "the buffers (is_buffer True: BatchNorm's running mean and variance) are averaged like the weights. "
            "They are statistics of the activations, not parameters: copy them from the current model (and "
            "recompute them for the averaged weights before sampling, section 5)."),
    Mistake("buffers stale", lambda a, c, d, b: _ema_with(a, c, d, b, stale=True),
            "the buffers are never updated after the first copy: the average keeps the running statistics of "
            "the start of training. Copy them from the current model at every update."),
    Mistake("starts from zeros", lambda a, c, d, b: _ema_with(a, c, d, b, zeros=True),
            "the first update averages into zeros: (1 - decay) * current, a tenth of the weights at decay 0.9 and "
            "a thousandth at 0.999, and the bias towards 0 fades only after thousands of steps (Adam corrects the "
            "same bias with 1 / (1 - beta^t); StyleGAN and BigGAN start the copy from the generator). On the "
            "first call (average None) return a copy of current."),
)

EMA_HINTS = (
    "First call (average is None): return a copy of every tensor of current (torch: .clone(); TF: tf.identity).",
    "After that, per entry: a buffer (is_buffer[i] True) is copied from current; a weight becomes "
    "decay * average[i] + (1 - decay) * current[i].",
    "Return a new list; do not return the model's own tensors (a later in-place optimizer step would change "
    "your average with them).",
)


def ema_update_exercise(**kwargs) -> Exercise:
    return Exercise(name="ema_update", truth=_ens.ema_update, cases=_ema_cases(), hints=EMA_HINTS,
                    mistakes=EMA_MISTAKES, rtol=1e-5, atol=1e-6, **kwargs)


# --- ensemble_log_likelihood --------------------------------------------------------------------------


def _ll_cases():
    rng = np.random.default_rng(99)
    small = rng.normal(-3.0, 1.0, (3, 5))                # a few nats: every formula is finite here
    images = rng.normal(-300.0, 15.0, (4, 6))            # digits-sized log-likelihoods: exp underflows
    far = np.array([[-1000.0, -20.0], [-1002.0, -25.0]])  # one column far below the other
    return [(small.astype(np.float32),), (images.astype(np.float32),), (far.astype(np.float32),)]


def _naive(x):
    x = np.asarray(x, np.float32)  # what tensors hold: exp(-300) is 0 in float32 (and in float64 at -1000)
    with np.errstate(divide="ignore", under="ignore"):
        return np.log(np.mean(np.exp(x), axis=0)).astype(np.float64)


LL_MISTAKES = (
    Mistake("no log K", lambda x: _ens.log_mean_exp(x, 0) + np.log(len(x)),
            "this is log-sum-exp: the ensemble's density is the *mean* of the members' densities, so subtract "
            "log K (the number of members) from logsumexp over the members."),
    Mistake("log(mean(exp)) without the trick", _naive,
            "exp of a log-likelihood of a few hundred nats underflows to 0 in float32 (exp(-300) ~ 1e-130; the "
            "smallest float32 is ~1e-45), so the log is -inf. Take the largest value out first: "
            "logsumexp (torch.logsumexp, tf.reduce_logsumexp) minus log K."),
    Mistake("mean of the members", lambda x: np.mean(np.asarray(x, np.float64), axis=0),
            "that is the mean of the members' log-likelihoods, a lower bound of the ensemble's (Jensen): the "
            "ensemble's density is the mean of the densities, log-mean-exp, not the mean of the logs."),
    Mistake("max member", lambda x: np.max(np.asarray(x, np.float64), axis=0),
            "that is the best member per example, an upper bound of the ensemble's: average the densities, "
            "logsumexp minus log K."),
)

LL_HINTS = (
    "The ensemble's density is p(x) = (1/K) sum_k p_k(x); you are given log p_k(x), shape (K, n).",
    "log p(x) = logsumexp_k(log p_k(x)) - log K; logsumexp over axis 0 (torch.logsumexp(x, 0), "
    "tf.reduce_logsumexp(x, 0)) takes the largest value out before exponentiating.",
)


def ensemble_log_likelihood_exercise(**kwargs) -> Exercise:
    return Exercise(name="ensemble_log_likelihood", truth=_ens.ensemble_log_likelihood, cases=_ll_cases(),
                    hints=LL_HINTS, mistakes=LL_MISTAKES, rtol=1e-5, atol=1e-3, **kwargs)
