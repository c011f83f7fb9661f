"""Regularization, framework-neutral (NumPy): the L2 penalty and one Adam step with coupled L2
versus decoupled weight decay, written out so the difference can be read and tested.

Convention of the course: only *weights* (arrays with two or more dimensions: Linear/Dense
kernels) are regularized; biases (1-D) are not. A bias only shifts a unit's output, so
shrinking it towards 0 does not make the function smoother; it only adds a bias of its own.
"""
from __future__ import annotations

import numpy as np

BETAS = (0.9, 0.999)
EPS = 1e-8


def is_weight(array) -> bool:
    """True for arrays the course decays: matrices (kernels), not 1-D biases."""
    return np.ndim(array) >= 2


def l2_penalty(params, wd: float) -> float:
    """wd / 2 * (sum of squared entries of every weight matrix); biases are left out.

    Its gradient with respect to a weight ``w`` is ``wd * w``: the ``1/2`` is there so that
    adding this to the loss gives exactly the textbook "weight decay" gradient term.
    """
    return float(wd / 2 * sum(np.sum(np.square(np.asarray(p, dtype=np.float64))) for p in params if is_weight(p)))


def adam_step(w, grad, m, v, t: int, lr: float, wd: float, decoupled: bool, betas=BETAS, eps: float = EPS):
    """One Adam step on ``w`` (step number ``t`` >= 1) with weight decay ``wd``.

    ``decoupled=False`` (L2 inside Adam, what ``torch.optim.Adam(weight_decay=wd)`` does): the
    decay term ``wd * w`` is added to the gradient, so it goes through the moments and is divided
    by ``sqrt(v_hat)`` like everything else. ``decoupled=True`` (AdamW, Loshchilov & Hutter): the
    moments see the loss gradient only and the weights shrink by ``lr * wd * w`` directly.
    Returns ``(w_new, m_new, v_new)``.
    """
    b1, b2 = betas
    w, grad = np.asarray(w, dtype=np.float64), np.asarray(grad, dtype=np.float64)
    if not decoupled:
        grad = grad + wd * w
    m = b1 * np.asarray(m, dtype=np.float64) + (1 - b1) * grad
    v = b2 * np.asarray(v, dtype=np.float64) + (1 - b2) * grad**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    if decoupled:
        w = w - lr * wd * w
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def effective_decay(grad_rms, lr: float, wd: float, eps: float = EPS):
    """Per-step shrink factor of a weight's own decay term, in steady state.

    Coupled L2 in Adam: the decay ``wd * w`` is divided by ``sqrt(v) ~ grad_rms``, so the
    shrink is about ``lr * wd / grad_rms`` per unit of weight: weights with large gradients are
    barely decayed. AdamW: ``lr * wd`` for every weight. Returns ``(coupled, decoupled)``.
    """
    g = np.asarray(grad_rms, dtype=np.float64)
    return lr * wd / (g + eps), np.full_like(g, lr * wd)


def decay_demo(grad_scales=(0.01, 1.0, 100.0), steps: int = 500, lr: float = 1e-2, wd: float = 0.1,
               n: int = 200, seed: int = 0) -> dict:
    """Weights that start at 1 and whose loss gradient is pure noise (zero mean) of a given
    scale: only the decay pulls them towards 0. Runs ``steps`` Adam steps with coupled L2 and
    with decoupled decay; returns ``{"coupled": [...], "decoupled": [...]}``, the mean weight
    left per gradient scale. AdamW shrinks every group alike, by about (1 - lr*wd)^steps;
    L2-in-Adam shrinks weights with small gradients much faster and those with large gradients
    hardly at all."""
    rng = np.random.default_rng(seed)
    scales = np.repeat(np.asarray(grad_scales, dtype=np.float64), n)
    noise = rng.standard_normal((steps, scales.size)) * scales
    out = {}
    for name, decoupled in (("coupled", False), ("decoupled", True)):
        w, m, v = np.ones_like(scales), np.zeros_like(scales), np.zeros_like(scales)
        for t in range(1, steps + 1):
            w, m, v = adam_step(w, noise[t - 1], m, v, t, lr, wd, decoupled)
        out[name] = [float(w[i * n:(i + 1) * n].mean()) for i in range(len(grad_scales))]
    return out


# --- lesson 01's discriminator measurements (both tracks) -------------------------------------

def memorisation_auc(train_scores, held_out_scores) -> float:
    """The chance that D scores a random training real above a random held-out real (ties count
    half): the area under the ROC curve of "training image or not" read off D's scores.

    0.5 means D cannot tell the images it trained on from new ones of the same distribution; 1
    means it has memorised them. It depends only on the *order* of the scores, so unlike a gap
    between mean outputs it does not shrink when D is simply unconfident about everything."""
    a = np.asarray(train_scores, dtype=np.float64).ravel()
    b = np.asarray(held_out_scores, dtype=np.float64).ravel()
    if a.size == 0 or b.size == 0:
        raise ValueError("memorisation_auc needs scores of at least one training and one held-out image")
    greater = (a[:, None] > b[None, :]).mean()
    ties = (a[:, None] == b[None, :]).mean()
    return float(greater + 0.5 * ties)


def _sigmoid_mean(logits) -> float:
    return float(np.mean(1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))))


def discriminator_report(samples, train_logits, held_out_logits, fake_logits, history: dict) -> dict:
    """Lesson 01's numbers for one trained GAN: the samples' ``fcd``, ``precision`` and ``recall``
    (test split, :func:`course_lib.metrics.image_metrics`); D's ``gap``, its mean output on training
    reals minus held-out reals over the last three evaluations of ``history`` (``p_train``,
    ``p_val``); ``outputs``, the final D's mean sigmoid output on training reals, held-out reals and
    fakes; ``auc``, :func:`memorisation_auc` of its logits (training against held-out reals); and
    ``real_fake_auc``, the same score for held-out reals against fakes: how well D still *orders*
    reals above fakes, whatever the scale of its outputs."""
    from .. import metrics  # framework-neutral, NumPy only
    m = metrics.image_metrics(samples)
    return {"fcd": m["fcd"], "precision": m["precision"], "recall": m["recall"],
            "gap": float(np.mean(np.asarray(history["p_train"][-3:]) - np.asarray(history["p_val"][-3:]))),
            "outputs": {"training reals": _sigmoid_mean(train_logits), "held-out reals": _sigmoid_mean(held_out_logits),
                        "fakes": _sigmoid_mean(fake_logits)},
            "auc": memorisation_auc(train_logits, held_out_logits),
            "real_fake_auc": memorisation_auc(held_out_logits, fake_logits)}
