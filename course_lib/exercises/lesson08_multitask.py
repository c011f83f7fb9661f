"""Lesson 08 exercises (multi-task learning): ``acgan_d_loss``, ``acgan_g_loss`` and ``multitask_loss``.

The AC-GAN losses take the discriminator's outputs (source logits and class logits) and the labels,
so that one checker serves both tracks; the notebook's training step calls them on its own
discriminator's outputs. The d-loss checker rejects fakes labelled with the real batch's labels
instead of the labels the generator was given, a class loss left out (or kept on the reals only),
an ignored weight and swapped source labels; the g-loss checker a class loss left out and the source
or class term with the wrong sign. ``multitask_loss(losses, weights)`` is the convex combination of
the heads' losses; its checker rejects unnormalised or ignored weights and a head's loss dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import multitask as _mt
from .gradient_check import Differentiable

sp, ce = _mt.softplus, _mt.cross_entropy
combine = _mt.combine  # the reference both tracks train with: it works on tensors of either framework


# --- AC-GAN's losses --------------------------------------------------------------------------


def _ac_cases():
    rng = np.random.default_rng(808)
    cases = []
    for n, k, weight in ((6, 10, 1.0), (5, 3, 0.5), (7, 10, 2.5)):
        y_real = rng.integers(0, k, n)
        y_fake = (y_real + rng.integers(1, k, n)) % k  # never the real batch's label at the same position
        cases.append((rng.normal(size=n).astype(np.float32), rng.normal(scale=2.0, size=(n, k)).astype(np.float32),
                      y_real, rng.normal(size=n).astype(np.float32),
                      rng.normal(scale=2.0, size=(n, k)).astype(np.float32), y_fake, weight))
    return cases


def _d(s_r, c_r, y_r, s_f, c_f, y_f, w, *, fake_labels=None, on_real=True, on_fake=True, sign=1.0, swap=False,
       reduce=np.mean):
    s = -1.0 if swap else 1.0
    source = reduce(sp(-s * np.asarray(s_r))) + reduce(sp(s * np.asarray(s_f)))
    classes = ((reduce(ce(c_r, y_r)) if on_real else 0.0)
               + (reduce(ce(c_f, y_f if fake_labels is None else fake_labels)) if on_fake else 0.0))
    return float(source + sign * w * classes)


D_MISTAKES = (
    Mistake("fakes labelled with the real labels", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(
        s_r, c_r, y_r, s_f, c_f, y_f, w, fake_labels=y_r),
        "the fakes' class term uses the real batch's labels (y_real). A fake was made for the label the "
        "generator was given, y_fake: that is the class the head must assign to it. With y_real the head "
        "learns to call each fake by an unrelated label, and the generator's class signal becomes noise."),
    Mistake("no class loss", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(
        s_r, c_r, y_r, s_f, c_f, y_f, w, on_real=False, on_fake=False),
        "the class term is missing: that is the plain GAN's discriminator loss, and the class head never "
        "learns anything. Add weight * (cross-entropy on the reals with y_real + on the fakes with y_fake)."),
    Mistake("class loss on the reals only", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(
        s_r, c_r, y_r, s_f, c_f, y_f, w, on_fake=False),
        "the class term covers the reals only. Some implementations do that (Keras' AC-GAN example since "
        "keras-team/keras#8482: early fakes would teach the head wrong classes), but AC-GAN's discriminator "
        "maximises the log-likelihood of the correct class on both (Odena et al. 2017, eq. 2), and so does "
        "this lesson: add the fakes' cross-entropy with the labels the generator was given."),
    Mistake("weight ignored", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(s_r, c_r, y_r, s_f, c_f, y_f, 1.0),
            "the weight is ignored (the class term always counts once): multiply the class term by `weight`, "
            "which the lesson sweeps."),
    Mistake("class term subtracted", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(
        s_r, c_r, y_r, s_f, c_f, y_f, w, sign=-1.0),
        "the class term is subtracted: the discriminator would then learn to misclassify. Both of its tasks "
        "are minimised: source loss + weight * class loss."),
    Mistake("source labels swapped", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(
        s_r, c_r, y_r, s_f, c_f, y_f, w, swap=True),
        "the source labels are swapped: on logits the reals' term is softplus(-src_real) and the fakes' "
        "softplus(src_fake)."),
    Mistake("sum over samples", lambda s_r, c_r, y_r, s_f, c_f, y_f, w: _d(
        s_r, c_r, y_r, s_f, c_f, y_f, w, reduce=np.sum),
        "you summed over the samples: average each term over its batch."),
)


def _g(s_f, c_f, y_f, w, *, src_sign=1.0, cls_sign=1.0, cls=True):
    return float(sp(-src_sign * np.asarray(s_f)).mean() + (cls_sign * w * ce(c_f, y_f).mean() if cls else 0.0))


G_MISTAKES = (
    Mistake("no class loss", lambda s, c, y, w: _g(s, c, y, w, cls=False),
            "the class term is missing: the generator then ignores its label (nothing rewards it for "
            "producing the requested class). Add weight * cross-entropy(cls_fake, y_fake)."),
    Mistake("class term with the wrong sign", lambda s, c, y, w: _g(s, c, y, w, cls_sign=-1.0),
            "the class term is subtracted: the generator would make samples the head does *not* classify as "
            "their label. The generator and the discriminator cooperate on the class task; only the source "
            "task is adversarial. (The paper's 'G maximises L_C - L_S' is a maximisation: minimise the "
            "source loss *plus* the class loss.)"),
    Mistake("source term with the wrong sign", lambda s, c, y, w: _g(s, c, y, w, src_sign=-1.0),
            "the source term is the discriminator's (softplus(src_fake) pushes the fakes towards 'fake'). The "
            "generator wants its fakes judged real: softplus(-src_fake), the non-saturating loss."),
    Mistake("both terms with the wrong sign", lambda s, c, y, w: _g(s, c, y, w, src_sign=-1.0, cls_sign=-1.0),
            "both terms have the wrong sign: the generator minimises softplus(-src_fake) + weight * "
            "cross-entropy(cls_fake, y_fake): fakes judged real and classified as their label."),
    Mistake("weight ignored", lambda s, c, y, w: _g(s, c, y, 1.0),
            "the weight is ignored: multiply the class term by `weight`."),
)

AC_HINTS = (
    "Two tasks on one trunk: the source task (real or fake, on logits with softplus, as in lesson 00) and the "
    "class task (softmax cross-entropy of the class logits against a label: F.cross_entropy / "
    "tf.nn.sparse_softmax_cross_entropy_with_logits, averaged over the batch).",
    "Which label belongs to a fake? The one the generator was asked for, y_fake, never the real batch's y_real.",
    "The discriminator minimises source + weight * (CE(cls_real, y_real) + CE(cls_fake, y_fake)); the generator "
    "minimises softplus(-src_fake) + weight * CE(cls_fake, y_fake).",
)

WHY = "A loss the optimizer cannot differentiate trains nothing."


def acgan_d_loss_exercise(**kwargs) -> Exercise:
    return Exercise(name="acgan_d_loss", truth=_mt.acgan_d_loss, cases=_ac_cases(), hints=AC_HINTS,
                    mistakes=D_MISTAKES, rtol=2e-5, atol=1e-6,
                    differentiable=Differentiable({0: "src_real", 1: "cls_real", 3: "src_fake", 4: "cls_fake"},
                                                  why=WHY), **kwargs)


def acgan_g_loss_exercise(**kwargs) -> Exercise:
    cases = [(c[3], c[4], c[5], c[6]) for c in _ac_cases()]
    return Exercise(name="acgan_g_loss", truth=_mt.acgan_g_loss, cases=cases, hints=AC_HINTS[:1] + AC_HINTS[2:],
                    mistakes=G_MISTAKES, rtol=2e-5, atol=1e-6,
                    differentiable=Differentiable({0: "src_fake", 1: "cls_fake"}, why=WHY), **kwargs)


# --- the multi-task loss ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Losses:
    """A checker case's ``losses``: the heads' losses, which each track turns into a list of scalar tensors."""
    values: tuple


def _mtl_truth(losses, weights) -> float:
    return _mt.multitask_loss(losses.values, weights)


MTL_CASES = [(Losses((2.0, 0.5)), (1.0, 3.0)), (Losses((1.2, 0.3, 4.0)), (0.2, 0.5, 0.3)),
             (Losses((5.0, 1.0, 0.25)), (2.0, 1.0, 1.0)), (Losses((30.0, 2.3)), (1.0, 10.0))]


def _mtl(losses, weights, *, normalise="weights", drop_last=False, reverse=False):
    values, w = np.asarray(losses.values, float), np.asarray(weights, float)
    w = w[::-1] if reverse else w
    keep = slice(0, len(values) - 1) if drop_last else slice(None)
    total = (w[keep] * values[keep]).sum()
    return float(total / {"weights": w.sum(), "none": 1.0, "count": len(values)}[normalise])


MTL_MISTAKES = (
    Mistake("unnormalised", lambda L, w: _mtl(L, w, normalise="none"),
            "the weighted sum is not divided by the sum of the weights. Unnormalised, doubling every weight "
            "doubles every gradient (with plain SGD, the step size); normalised, the weights only set the "
            "balance between the heads."),
    Mistake("weights ignored", lambda L, w: float(np.mean(L.values)),
            "the weights are ignored (a plain mean of the losses): each head's loss counts w_i / sum(w)."),
    Mistake("divided by the number of heads", lambda L, w: _mtl(L, w, normalise="count"),
            "you divided by the number of heads: divide by the sum of the weights, so that they act as shares."),
    Mistake("a head dropped", lambda L, w: _mtl(L, w, drop_last=True),
            "the last head's loss is missing (a zip or a range that stops early?): every head contributes, "
            "or the trunk gets no gradient from it."),
    Mistake("weights reversed", lambda L, w: _mtl(L, w, reverse=True),
            "the weights are applied to the wrong losses (reversed): weights[i] goes with losses[i]."),
)

MTL_HINTS = (
    "Multiply each head's loss by its weight, add them up, and divide by the sum of the weights.",
    "sum(w * loss for w, loss in zip(weights, losses)) / sum(weights) works on tensors in both frameworks.",
)


def multitask_loss_exercise(**kwargs) -> Exercise:
    return Exercise(name="multitask_loss", truth=_mtl_truth, cases=MTL_CASES, hints=MTL_HINTS, mistakes=MTL_MISTAKES,
                    rtol=1e-5, atol=1e-6,
                    differentiable=Differentiable({0: "losses"}, why="The trunk learns from every head only if "
                                                  "the gradient reaches every head's loss."), **kwargs)
