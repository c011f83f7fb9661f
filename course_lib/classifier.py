"""The small digit classifier behind FCD, class coverage and precision/recall.

Its weights ship in ``course_lib/assets`` (made by ``scripts/train_digit_classifier.py``)
and its forward pass is plain NumPy, so both tracks compute identical features.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS_PATH = Path(__file__).resolve().parent / "assets" / "digit_classifier.npz"


class DigitClassifier:
    """A 64-128-64-10 ReLU network: ``features`` are the 64 penultimate activations."""

    def __init__(self, weights: dict):
        n = len([k for k in weights if k.startswith("w")])
        self.layers = [(np.asarray(weights[f"w{i}"], np.float64), np.asarray(weights[f"b{i}"], np.float64))
                       for i in range(n)]

    @classmethod
    def load(cls, path=WEIGHTS_PATH) -> DigitClassifier:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path} is missing; recreate it with: python scripts/train_digit_classifier.py")
        with np.load(path) as f:
            return cls(dict(f))

    @staticmethod
    def _check(x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 3 and x.shape[1:] == (8, 8):
            x = x.reshape(len(x), 64)
        if x.ndim != 2 or x.shape[1] != 64:
            raise ValueError(f"expected digit images of shape (n, 64) or (n, 8, 8), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("the images contain NaN or inf; did training diverge?")
        # float64 throughout: the same numbers whichever framework produced the images.
        return x.astype(np.float64)

    def features(self, x) -> np.ndarray:
        h = self._check(x)
        for w, b in self.layers[:-1]:
            h = np.maximum(h @ w + b, 0.0)
        return h

    def logits(self, x) -> np.ndarray:
        w, b = self.layers[-1]
        return self.features(x) @ w + b

    def predict(self, x) -> np.ndarray:
        return self.logits(x).argmax(axis=1)


@lru_cache(maxsize=1)
def digit_classifier() -> DigitClassifier:
    """The shipped classifier, loaded once."""
    return DigitClassifier.load()
