"""Lesson 04 exercises (batch normalization): ``batchnorm_train`` and ``layernorm``.

The truths are the NumPy forward passes in :mod:`course_lib.techniques.batchnorm`.
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques.batchnorm import batchnorm_train, layernorm
from .gradient_check import Differentiable

# Training back-propagates through the normalised output to the layer's input (the earlier
# layers), to gamma and beta, and through the batch statistics too: they are not constants.
NORM_WHY = ("Training needs the gradient of the output with respect to x (for the layers before), gamma and beta "
            "(to learn them), and it flows through the mean and the variance as well.")


def _bn(x, gamma, beta, rm, rv, momentum, eps, *, axis=0, norm_ddof=0, run_ddof=1, new_weight=None,
        use_running=False, eps_outside=False, update=True):
    """batchnorm_train with one thing changed, to reproduce a mistake."""
    x = np.asarray(x, np.float64)
    rm, rv = np.asarray(rm, np.float64), np.asarray(rv, np.float64)
    w = momentum if new_weight is None else new_weight(momentum)
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=norm_ddof, keepdims=True)
    m_norm, v_norm = (rm, rv) if use_running else (mean, var)
    y = gamma * (x - m_norm) / ((np.sqrt(v_norm) + eps) if eps_outside else np.sqrt(v_norm + eps)) + beta
    bm, bv = x.mean(axis=0), x.var(axis=0, ddof=run_ddof)
    if not update:
        return y, rm, rv
    return y, (1 - w) * rm + w * bm, (1 - w) * rv + w * bv


BATCHNORM_MISTAKES = (
    Mistake("biased variance in the running update", lambda *a: _bn(*a, run_ddof=0),
            "your running_var uses the biased batch variance (divide by n). PyTorch normalises the batch with "
            "the biased variance but stores the *unbiased* one (divide by n - 1) in running_var: "
            "var * n / (n - 1), or x.var(0, unbiased=True)."),
    Mistake("unbiased variance for normalising", lambda *a: _bn(*a, norm_ddof=1),
            "you normalised with the unbiased variance (divide by n - 1; torch's x.var(0) does that by default). "
            "The batch is normalised with the *biased* variance (divide by n: x.var(0, unbiased=False)); only "
            "the running_var update uses the unbiased one."),
    Mistake("the two variances swapped", lambda *a: _bn(*a, norm_ddof=1, run_ddof=0),
            "you swapped the two variances: normalise with the biased one (divide by n), store the unbiased "
            "one (divide by n - 1) in running_var."),
    Mistake("momentum reversed (Keras convention)", lambda *a: _bn(*a, new_weight=lambda m: 1 - m),
            "your running statistics follow the batch almost completely: you used the Keras convention "
            "(momentum weighs the *old* value). In PyTorch's convention momentum weighs the *new* batch: "
            "running = (1 - momentum) * running + momentum * batch_stat."),
    Mistake("momentum reversed, biased", lambda *a: _bn(*a, new_weight=lambda m: 1 - m, run_ddof=0),
            "your running statistics follow the batch almost completely: you used the Keras convention "
            "(momentum weighs the *old* value). In PyTorch's convention momentum weighs the *new* batch."),
    Mistake("normalised with the running statistics", lambda *a: _bn(*a, use_running=True),
            "you normalised the batch with the running statistics: that is inference (eval) mode. In training "
            "mode BatchNorm normalises with the current batch's mean and variance."),
    Mistake("normalised over the features (LayerNorm)", lambda *a: _bn(*a, axis=1),
            "you normalised each sample over its features (axis 1): that is LayerNorm. BatchNorm normalises "
            "each feature over the batch (axis 0)."),
    Mistake("normalised over the features, unbiased", lambda *a: _bn(*a, axis=1, norm_ddof=1),
            "you normalised each sample over its features (axis 1): that is LayerNorm. BatchNorm normalises "
            "each feature over the batch (axis 0)."),
    Mistake("eps outside the square root", lambda *a: _bn(*a, eps_outside=True),
            "eps belongs inside the square root: (x - mean) / sqrt(var + eps), not / (sqrt(var) + eps)."),
    Mistake("running statistics not updated", lambda *a: _bn(*a, update=False),
            "you returned the running statistics unchanged: in training mode each batch moves them, "
            "running = (1 - momentum) * running + momentum * batch_stat."),
)


def _batchnorm_cases():
    rng = np.random.default_rng(404)
    cases = []
    for n, d, momentum, eps, scale in ((4, 3, 0.1, 1e-5, 1.0), (6, 5, 0.3, 1e-2, 0.05), (16, 2, 0.05, 1e-3, 3.0)):
        x = (rng.normal(2.0, scale, size=(n, d)) + rng.normal(size=d)).astype(np.float32)
        gamma = rng.uniform(0.5, 2.0, size=d).astype(np.float32)
        beta = rng.normal(size=d).astype(np.float32)
        rm = rng.normal(size=d).astype(np.float32)
        rv = rng.uniform(0.5, 2.0, size=d).astype(np.float32)
        cases.append((x, gamma, beta, rm, rv, momentum, eps))
    return cases


def batchnorm_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="batchnorm_train",
        truth=batchnorm_train,
        cases=_batchnorm_cases(),
        hints=(
            "Per feature, over the batch (axis 0): mean and *biased* variance of this batch; "
            "y = gamma * (x - mean) / sqrt(var + eps) + beta.",
            "The running statistics move towards this batch's: new = (1 - momentum) * old + momentum * batch_stat "
            "(PyTorch's convention: momentum weighs the new batch).",
            "For running_var PyTorch uses the *unbiased* batch variance: var * n / (n - 1).",
        ),
        mistakes=BATCHNORM_MISTAKES, rtol=1e-4, atol=1e-5, outputs=("y", "new_running_mean", "new_running_var"),
        differentiable=Differentiable({0: "x", 1: "gamma", 2: "beta"}, output=0, why=NORM_WHY), **kwargs)


def _ln(x, gamma, beta, eps, *, axis=1, ddof=0, eps_outside=False, affine=True):
    x = np.asarray(x, np.float64)
    mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
    z = (x - mean) / ((np.sqrt(var) + eps) if eps_outside else np.sqrt(var + eps))
    return gamma * z + beta if affine else z


LAYERNORM_MISTAKES = (
    Mistake("over the batch (BatchNorm)", lambda *a: _ln(*a, axis=0),
            "you normalised each feature over the batch (axis 0): that is BatchNorm in training mode. LayerNorm "
            "normalises each *sample* over its own features (axis 1, keepdims), so samples never mix."),
    Mistake("over the batch, unbiased", lambda *a: _ln(*a, axis=0, ddof=1),
            "you normalised each feature over the batch (axis 0): that is BatchNorm. LayerNorm normalises each "
            "sample over its own features (axis 1)."),
    Mistake("unbiased variance", lambda *a: _ln(*a, ddof=1),
            "you used the unbiased variance (divide by d - 1; torch's var() does that by default). LayerNorm "
            "uses the biased one (divide by the number of features)."),
    Mistake("eps outside the square root", lambda *a: _ln(*a, eps_outside=True),
            "eps belongs inside the square root: (x - mean) / sqrt(var + eps)."),
    Mistake("no gamma and beta", lambda *a: _ln(*a, affine=False),
            "you forgot the learned scale and shift: y = gamma * x_hat + beta."),
    Mistake("gamma and beta swapped", lambda x, g, b, e: _ln(x, b, g, e),
            "gamma and beta are swapped: gamma scales, beta shifts (y = gamma * x_hat + beta)."),
)


def _layernorm_cases():
    rng = np.random.default_rng(405)
    cases = []
    for n, d, eps, scale in ((5, 4, 1e-5, 1.0), (3, 6, 1e-2, 0.05), (7, 3, 1e-3, 2.0)):
        x = (rng.normal(1.0, scale, size=(n, d)) + rng.normal(size=(n, 1))).astype(np.float32)
        cases.append((x, rng.uniform(0.5, 2.0, size=d).astype(np.float32), rng.normal(size=d).astype(np.float32), eps))
    return cases


def layernorm_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="layernorm",
        truth=layernorm,
        cases=_layernorm_cases(),
        hints=(
            "Each sample on its own: mean and biased variance over the features (axis 1, keepdims=True).",
            "y = gamma * (x - mean) / sqrt(var + eps) + beta, with gamma and beta of shape (features,).",
        ),
        mistakes=LAYERNORM_MISTAKES, rtol=1e-4, atol=1e-5,
        differentiable=Differentiable({0: "x", 1: "gamma", 2: "beta"}, why=NORM_WHY), **kwargs)
