"""Lesson 06 exercises (data augmentation for GANs): ``translate``, ``discriminator_loss`` and
``ada_update``.

``translate(x, shifts)`` moves each 8x8 image by its own integer offset with zero fill; the
checker rejects wrap-around, one offset for the whole batch, the wrong direction or axes, edge
replication, and (the gradient check) a translation the generator's gradient cannot flow through.
``discriminator_loss(D, real, fake, augment)`` is DiffAugment's discriminator loss: every input D
sees goes through ``augment``; the checker rejects the classic mistake, the reals only. Its
discriminator is a small network given by NumPy weights (:mod:`course_lib.techniques.penalties`),
and ``augment`` a translation by fixed offsets (:class:`AugmentWith`), which each track turns into
its own function. ``ada_update`` is ADA's rule for ``p``, pure NumPy in both tracks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import augmentation as _aug
from ..techniques.penalties import CriticWeights, critic_forward
from .gradient_check import Differentiable

SIDE = _aug.SIDE


# --- translate ---------------------------------------------------------------------------------


def _translate_cases():
    rng = np.random.default_rng(606)
    all_nine = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    # every image has ink on its border, so wrap-around and edge replication show; offsets differ per sample
    cases = [(rng.uniform(0.1, 1.0, (9, 64)).astype(np.float32), all_nine[rng.permutation(9)])]
    for n in (5, 7):
        shifts = rng.integers(-1, 2, size=(n, 2))
        shifts[0] = (1, -1)  # the first sample's offset differs from some other sample's
        shifts[1] = (0, 1)
        cases.append((rng.uniform(0.1, 1.0, (n, 64)).astype(np.float32), shifts))
    return cases


def _wrap(x, shifts):
    img = np.asarray(x).reshape(-1, SIDE, SIDE)
    return np.stack([np.roll(im, tuple(s), axis=(0, 1)) for im, s in zip(img, shifts)]).reshape(len(img), -1)


def _replicate(x, shifts):
    img = np.asarray(x).reshape(-1, SIDE, SIDE)
    r = np.arange(SIDE)
    out = [im[np.clip(r - dy, 0, SIDE - 1)][:, np.clip(r - dx, 0, SIDE - 1)] for im, (dy, dx) in zip(img, shifts)]
    return np.stack(out).reshape(len(img), -1)


TRANSLATE_MISTAKES = (
    Mistake("wrap-around", _wrap,
            "the pixels that leave one side come back on the other: that is a roll (torch.roll / tf.roll), not "
            "a translation. Fill what enters the frame with zeros (the background of the digits): a digit "
            "whose right edge appears on the left is an image no real digit looks like, and the generator "
            "would be judged on it."),
    Mistake("one offset for the batch", lambda x, s: _aug.translate(x, np.broadcast_to(s[:1], s.shape)),
            "every image moved by the first sample's offset: the offset must be per sample. One offset for "
            "the whole batch makes the discriminator's batch all shifted the same way, so it does not see the "
            "variety of positions the augmentation is meant to show it, and reals and fakes of one step "
            "share a bias."),
    Mistake("direction", lambda x, s: _aug.translate(x, -np.asarray(s)),
            "every image moved the other way: shifts (dy, dx) = (1, 1) moves the digit one row down and one "
            "column right, so pixel (r, c) of the output is pixel (r - dy, c - dx) of the input."),
    Mistake("axes swapped", lambda x, s: _aug.translate(x, np.asarray(s)[:, ::-1]),
            "the row and column offsets are swapped: shifts[:, 0] moves rows (down), shifts[:, 1] columns (right)."),
    Mistake("edge replication", _replicate,
            "the border pixels are repeated into the gap instead of zeros (clamped indices without a mask, or "
            "'replicate' / 'edge' padding). Fill with zeros, the digits' background."),
)

TRANSLATE_HINTS = (
    "Reshape x to (n, 8, 8). Pixel (r, c) of the output comes from pixel (r - dy, c - dx) of the input, "
    "and is 0 where that pixel does not exist.",
    "One way: pad every image with a border of zeros one pixel wide (F.pad / tf.pad), then cut out the 8x8 "
    "window that starts at row 1 - dy and column 1 - dx, per sample (index with per-sample row and column "
    "indices, or gather).",
    "Keep it in the framework (no .numpy(), no Python loop that builds a NumPy array): the generator's "
    "gradient must flow back through the translation in DiffAugment's generator step.",
)


def translate_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="translate", truth=_aug.translate, cases=_translate_cases(), hints=TRANSLATE_HINTS,
        mistakes=TRANSLATE_MISTAKES, rtol=1e-6, atol=1e-7,
        differentiable=Differentiable({0: "x"}, why="In DiffAugment's generator step the generator learns through "
                                      "the augmentation: a translation that cuts the graph trains nothing."),
        **kwargs)


# --- DiffAugment's discriminator loss ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AugmentWith:
    """A checker case's ``augment``: translate every batch by these fixed per-sample ``shifts``
    (reals and fakes have the same size, so the order of the calls does not matter). Each track
    turns it into a function of ``x`` alone."""
    shifts: np.ndarray

    def __call__(self, x):
        return _aug.translate(x, self.shifts)


def _softplus(t):
    return np.logaddexp(0.0, t)


def _d_loss(D, real, fake, augment, *, on_real=True, on_fake=True, swap=False, reduce=np.mean):
    real = augment(real) if on_real else np.asarray(real)
    fake = augment(fake) if on_fake else np.asarray(fake)
    s = -1.0 if swap else 1.0
    return float(reduce(_softplus(-s * critic_forward(D, real))) + reduce(_softplus(s * critic_forward(D, fake))))


def discriminator_loss_truth(D, real, fake, augment) -> float:
    """``mean softplus(-D(augment(real))) + mean softplus(D(augment(fake)))``: the non-saturating
    GAN's discriminator loss on logits, every input augmented."""
    return _d_loss(D, real, fake, augment)


def _loss_cases():
    from .. import data

    rng = np.random.default_rng(66)
    cases = []
    for n in (6, 8):
        W1 = rng.normal(scale=0.4, size=(64, 8))
        D = CriticWeights(((W1, rng.normal(scale=0.3, size=8)), (rng.normal(scale=1.5, size=(8, 1)), np.array([0.2]))))
        real = data.digits("train")[rng.choice(200, n, replace=False)]
        fake = rng.uniform(0.0, 1.0, (n, 64)).astype(np.float32)
        shifts = rng.integers(-1, 2, size=(n, 2))
        shifts[0] = (1, 1)
        cases.append((D, real, fake, AugmentWith(shifts)))
    return cases


LOSS_MISTAKES = (
    Mistake("reals only", lambda D, r, f, a: _d_loss(D, r, f, a, on_fake=False),
            "only the reals go through augment. That is the classic mistake (augmentation in the data "
            "pipeline): the discriminator learns that augmented images are real and clean ones fake, and the "
            "generator, to look real, learns to produce augmented images. The augmentation leaks into the "
            "samples. Augment the fakes too: D(augment(real)) and D(augment(fake))."),
    Mistake("fakes only", lambda D, r, f, a: _d_loss(D, r, f, a, on_real=False),
            "only the fakes go through augment: then 'augmented' itself means 'fake' to the discriminator. "
            "Every input D sees is augmented, reals and fakes alike."),
    Mistake("no augmentation", lambda D, r, f, a: _d_loss(D, r, f, a, on_real=False, on_fake=False),
            "neither input goes through augment: that is the plain GAN loss. DiffAugment augments every "
            "input the discriminator sees: D(augment(real)) and D(augment(fake))."),
    Mistake("labels swapped", lambda D, r, f, a: _d_loss(D, r, f, a, swap=True),
            "the labels are swapped: the loss pushes D(real) down and D(fake) up. On logits, the reals' "
            "term is softplus(-D(augment(real))) (= -log sigmoid) and the fakes' softplus(D(augment(fake)))."),
    Mistake("sum over samples", lambda D, r, f, a: _d_loss(D, r, f, a, reduce=np.sum),
            "you summed over the samples: average each term over its batch, so the step size does not "
            "depend on the batch size."),
)

LOSS_HINTS = (
    "Augment both inputs first: augment(real) and augment(fake), each with the function you are given.",
    "On logits, the non-saturating GAN's discriminator loss is mean(softplus(-D(real))) + mean(softplus(D(fake))) "
    "(F.softplus / tf.nn.softplus), here with the augmented inputs.",
)


def discriminator_loss_exercise(**kwargs) -> Exercise:
    return Exercise(
        name="discriminator_loss", truth=discriminator_loss_truth, cases=_loss_cases(), hints=LOSS_HINTS,
        mistakes=LOSS_MISTAKES, rtol=2e-5, atol=1e-6,
        differentiable=Differentiable({0: "the discriminator's parameters"},
                                      why="A loss the optimizer cannot differentiate trains nothing."),
        **kwargs)


# --- ADA's update rule -----------------------------------------------------------------------------


ADA_CASES = [(0.5, 0.8, 0.6, 0.01), (0.5, 0.3, 0.6, 0.01), (0.25, 0.95, 0.6, 0.05), (0.995, 0.9, 0.6, 0.01),
             (0.004, 0.1, 0.6, 0.01), (0.3, 0.6, 0.6, 0.05), (0.0, -0.2, 0.6, 0.02), (1.0, 1.0, 0.6, 0.02)]


def _ada_with(p, r, target, step, *, sign=1.0, proportional=False, low=0.0, high=1.0):
    move = (r - target) * step if proportional else np.sign(r - target) * step
    return float(np.clip(p + sign * move, low, high))


ADA_MISTAKES = (
    Mistake("sign flipped", lambda p, r, t, s: _ada_with(p, r, t, s, sign=-1.0),
            "p moves the wrong way: r_t above the target means the discriminator is sure of the training "
            "reals (it overfits), so p must go *up* (more augmentation); below the target, down."),
    Mistake("proportional step", lambda p, r, t, s: _ada_with(p, r, t, s, proportional=True),
            "p moves by (r_t - target) * step. ADA moves it by a fixed step in the direction of the sign: "
            "p + sign(r_t - target) * step, so its speed does not depend on how far r_t is from the target."),
    Mistake("no clamp", lambda p, r, t, s: _ada_with(p, r, t, s, low=-np.inf, high=np.inf),
            "p can leave [0, 1]: it is a probability. Clamp it: min(max(p, 0), 1) (np.clip)."),
    Mistake("no upper clamp", lambda p, r, t, s: _ada_with(p, r, t, s, high=np.inf),
            "p can rise above 1: it is a probability. Clamp it to [0, 1] at both ends."),
    Mistake("no lower clamp", lambda p, r, t, s: _ada_with(p, r, t, s, low=-np.inf),
            "p can fall below 0: it is a probability. Clamp it to [0, 1] at both ends."),
)

ADA_HINTS = (
    "r_t > target: the discriminator is too sure of the training reals, so augment more (p up); r_t < target: "
    "less (p down); r_t == target: leave p as it is.",
    "The move is a fixed step times the sign: np.sign(r_t - target) * step.",
    "p is a probability: clamp the result to [0, 1] (np.clip).",
)


def ada_update_exercise(**kwargs) -> Exercise:
    return Exercise(name="ada_update", truth=_aug.ada_update, cases=ADA_CASES, hints=ADA_HINTS,
                    mistakes=ADA_MISTAKES, rtol=1e-9, atol=1e-12, **kwargs)
