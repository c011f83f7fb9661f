"""Lesson 01 exercises (regularization): ``l2_penalty`` and ``adamw_step``.

The truths and known mistakes are NumPy code; ``l2_penalty`` takes a list of parameter tensors
(each track converts them), ``adamw_step`` is NumPy in both tracks.
"""
from __future__ import annotations

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import regularization as _reg
from .gradient_check import Differentiable


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
        mistakes=L2_PENALTY_MISTAKES, differentiable=Differentiable(
            {0: "params"}, why="A penalty without a gradient adds a number to the loss and changes no weight."),
        **kwargs)


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
        mistakes=ADAMW_STEP_MISTAKES, outputs=("w", "m", "v"), rtol=1e-6, atol=1e-9, **kwargs)
