"""Data augmentation for GANs on limited data (lesson 06), the framework-neutral part: the NumPy
truths, the random draws both tracks share, ADA's update rule and the metrics of the leak.
Imports neither PyTorch nor TensorFlow.

A GAN's discriminator that sees only augmented *reals* learns that augmented images are real,
and the generator learns to produce them: the augmentation *leaks* into the samples. DiffAugment
(Zhao et al. 2020) applies the same kind of random, differentiable transformation to every input
the discriminator sees, reals and fakes, in the discriminator's step and in the generator's step,
with the generator's gradient flowing back through the transformation. ADA (Karras et al. 2020)
applies it with a probability ``p`` that a feedback rule adjusts: ``r_t = E[sign(D(augmented
reals))]`` above a target (0.6) means the discriminator is overfitting, so ``p`` goes up by a fixed
step; below it, down; clamped to ``[0, 1]``.

The augmentation here is an integer translation of an 8x8 digit by up to one pixel in each
direction, **with zero fill** (what leaves the frame is gone, what enters it is blank), one offset
per sample. No flips or 90-degree rotations: a flipped 2 is not a 2. On 2-D points the analogue
is a Gaussian jitter ``x + sigma * eps``.
"""
from __future__ import annotations

import numpy as np

SIDE = 8


# --- the random draws, from NumPy, in the same order in both tracks -----------------------------


def draw_shifts(n: int, rng: np.random.Generator, p=1.0, max_shift: int = 1) -> np.ndarray:
    """Per-sample offsets ``(n, 2)`` int64 (rows down, columns right), each uniform on
    ``{-max_shift, ..., max_shift}``, set to 0 where a uniform draw is not below ``p`` (ADA's
    probability; ``p`` may be a number or an array that broadcasts to ``(n,)``). The generator is
    advanced by the same amount whatever ``p`` is, so arms with different ``p`` see the same numbers."""
    offsets = rng.integers(-max_shift, max_shift + 1, size=(int(n), 2))
    apply = rng.random(int(n)) < p
    return (offsets * apply[..., None]).astype(np.int64)


def draw_jitter(n: int, rng: np.random.Generator, dim: int = 2) -> np.ndarray:
    """Standard normal ``eps`` ``(n, dim)`` float32 for the 2-D jitter ``x + sigma * eps``."""
    return rng.standard_normal((int(n), dim), dtype=np.float32)


# --- the augmentations' truths --------------------------------------------------------------------


def translate(x, shifts) -> np.ndarray:
    """Each image of ``x`` (``(..., 64)``) moved by its own ``shifts`` (``(..., 2)``: rows down,
    columns right), zero fill: ``out[r, c] = x[r - dy, c - dx]`` where that pixel exists, else 0."""
    x = np.asarray(x)
    shifts = np.asarray(shifts)
    lead = x.shape[:-1]
    img = x.reshape(-1, SIDE, SIDE)
    s = shifts.reshape(-1, 2)
    m = int(np.abs(s).max(initial=0))
    pad = np.pad(img, ((0, 0), (m, m), (m, m)))
    out = np.empty_like(img)
    for i, (dy, dx) in enumerate(s):
        out[i] = pad[i, m - dy:m - dy + SIDE, m - dx:m - dx + SIDE]
    return out.reshape(*lead, SIDE * SIDE)


def shift_matrix(shifts) -> np.ndarray:
    """``(..., 8, 8)`` 0/1 matrices ``S`` with ``(S @ v)[r] = v[r - d]`` (0 where ``r - d`` is outside):
    ``S(dy) @ X @ S(dx).T`` is :func:`translate` as two small matrix products, which is how the
    tracks' library versions compute it (differentiable, batched)."""
    d = np.asarray(shifts)[..., None, None]
    r = np.arange(SIDE)
    return (r[None, :] == r[:, None] - d).astype(np.float32)


def jitter(x, eps, sigma: float) -> np.ndarray:
    """``x + sigma * eps``: the 2-D version of an augmentation (a Gaussian blur of the distribution)."""
    return np.asarray(x) + sigma * np.asarray(eps)


# --- ADA -----------------------------------------------------------------------------------------


def overfitting_signal(d_real_logits) -> float:
    """ADA's ``r_t = E[sign(D(augmented reals))]`` (logits: the sign says which side of 0.5 the
    probability is): 0 when D cannot tell, 1 when it is sure of every training image."""
    return float(np.mean(np.sign(np.asarray(d_real_logits, dtype=np.float64))))


def ada_update(p, r_t, target: float, step: float):
    """ADA's rule: ``p`` up by ``step`` when ``r_t`` exceeds the target (D overfits), down when it
    is below, unchanged when equal; clamped to ``[0, 1]``. Numbers or NumPy arrays."""
    return np.clip(p + np.sign(r_t - target) * step, 0.0, 1.0)


def ada_adjust(probs, signs, adaptive, interval: int, target: float, step: float, update=ada_update) -> None:
    """One adjustment of a stack of runs, in place: each adaptive run's ``probs[i]`` moves by
    ``update(p, r_t, target, step)`` (the learner's function or :func:`ada_update`), with ``r_t`` the
    mean of the signs summed in ``signs[i]`` over the last ``interval`` D steps; ``signs`` restarts at 0."""
    for i in np.flatnonzero(adaptive):
        probs[i] = float(update(probs[i], signs[i] / interval, target, step))
    signs[:] = 0.0


# --- the leak, measured --------------------------------------------------------------------------


def centre_of_mass(images) -> np.ndarray:
    """``(n, 2)``: each image's intensity-weighted centre (row, column) in pixels, 0 to 7."""
    img = np.asarray(images, dtype=np.float64).reshape(-1, SIDE, SIDE)
    mass = img.sum(axis=(1, 2)) + 1e-12
    r = np.arange(SIDE)
    return np.stack([(img.sum(axis=2) * r).sum(axis=1) / mass, (img.sum(axis=1) * r).sum(axis=1) / mass], axis=1)


def position_spread(images) -> float:
    """How far digits wander in the frame: the standard deviation of the centre of mass over the
    images, averaged over rows and columns (pixels). A random shift by ``{-1, 0, 1}`` adds up to
    2/3 pixel^2 of variance per axis (less where ink leaves the frame and is lost)."""
    return float(centre_of_mass(images).std(axis=0, ddof=1).mean())


def augmented_spread(images, seed: int = 0, p: float = 1.0) -> float:
    """The position spread of ``images`` after the augmentation (:func:`draw_shifts` from ``seed``,
    then :func:`translate`): what a generator that learned the augmented reals would show."""
    return position_spread(translate(images, draw_shifts(len(images), np.random.default_rng(seed), p)))


def mode_width(samples, centers, radius: float = 0.5) -> float:
    """The 2-D generator's mode width: the root-mean-square distance per coordinate of the samples
    within ``radius`` of their nearest centre (the others are between modes). A Gaussian mode of
    standard deviation ``s`` gives ``s``."""
    x = np.asarray(samples, dtype=np.float64)
    d2 = ((x[:, None, :] - np.asarray(centers)[None]) ** 2).sum(-1).min(axis=1)
    near = d2[d2 < radius ** 2]
    return float(np.sqrt(near.mean() / x.shape[1])) if len(near) else float("nan")
