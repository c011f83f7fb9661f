"""The full recipe and its leave-one-out ablation (lesson 10), framework-neutral: which techniques
each trained arm uses, which read-out (raw or averaged generator, selected or last checkpoint)
each reported arm takes from which trained arm, and the selection of a checkpoint by validation
FCD. Imports neither PyTorch nor TensorFlow; both tracks' ``recipe`` modules use it."""
from __future__ import annotations

import numpy as np

# The trained arms: (R1, TTUR, augmentation). Each "minus" arm drops one training-time technique.
TRAINED = {
    "baseline": (False, False, False),
    "full recipe": (True, True, True),
    "minus R1": (False, True, True),
    "minus TTUR": (True, False, True),
    "minus augmentation": (True, True, False),
}

# The reported arms: (trained arm, generator, checkpoint). The read-outs that do not change training
# (the moving average, the choice of checkpoint) ride along the full recipe's runs.
READOUTS = {
    "baseline": ("baseline", "raw", "last"),
    "full recipe": ("full recipe", "ema", "selected"),
    "minus R1": ("minus R1", "ema", "selected"),
    "minus TTUR": ("minus TTUR", "ema", "selected"),
    "minus augmentation": ("minus augmentation", "ema", "selected"),
    "minus EMA": ("full recipe", "raw", "selected"),
    "minus selection": ("full recipe", "ema", "last"),
}

# The noise that the selection's samples come from: seed + this, never the test samples' noise (seed).
SELECTION_NOISE = 7919


def run_settings(arms, lr: float, ttur_ratio: float, gamma: float):
    """Per run (one per entry of ``arms``, names of :data:`TRAINED`): ``(lr_d, gamma, augmented)``,
    D's rate (``ttur_ratio * lr`` with TTUR, else ``lr``), R1's weight (0 without R1) and 0/1 for the
    augmentation."""
    flags = [TRAINED[a] for a in arms]
    return ([lr * ttur_ratio if t else lr for _, t, _ in flags], [gamma if r else 0.0 for r, _, _ in flags],
            [1.0 if a else 0.0 for _, _, a in flags])


def select(val_fcd) -> np.ndarray:
    """Per run, the index of the checkpoint with the lowest validation FCD (``val_fcd``: (runs, checkpoints))."""
    return np.argmin(np.asarray(val_fcd, dtype=float), axis=1)


def r1_linear(w, gamma: float) -> float:
    """R1 for a linear discriminator ``D(x) = x @ w + b``: its input gradient is ``w`` at every
    sample, so ``gamma / 2 * E|grad|^2 = gamma / 2 * |w|^2`` (the closed form the tests use)."""
    w = np.asarray(w, dtype=np.float64)
    return float(0.5 * gamma * (w ** 2).sum())
