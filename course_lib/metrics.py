"""How good are generated samples? NumPy only, so both tracks get identical numbers.

Images are judged in the feature space of the small digit classifier that ships with the
course (:mod:`course_lib.classifier`); 2-D samples against their mixture's known modes.
Every image metric compares against the *test* split by default, and ``floor()`` gives the
same metrics for real training images, the best a generator can hope for.

Inputs outside a metric's domain raise ``ValueError`` instead of giving a silent, meaningless
number: images with pixels outside [0, 1] (0-255 images gave an FCD of 2.5e7), NaN or inf, and
Gaussian fits from no more samples than dimensions (a singular covariance).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import data
from .classifier import digit_classifier


def _as_matrix(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d), got shape {x.shape}")
    if len(x) < 2:
        raise ValueError(f"{name} needs at least 2 rows to estimate a covariance, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _enough_samples(name: str, x: np.ndarray) -> np.ndarray:
    n, d = x.shape
    if n <= d:
        raise ValueError(f"{name} has {n} samples of {d} features: a Gaussian fit needs more samples than "
                         f"dimensions (with n <= d the covariance is singular, rank <= n - 1, and the distance "
                         f"is dominated by estimation error); use more than {d} samples")
    return x


def _images(x, name: str = "images"):
    """Reject images the classifier was not trained on: NaN/inf, or pixels outside [0, 1]."""
    arr = np.asarray(x)
    if arr.size and (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"the {name} contain {int(np.size(arr) - np.isfinite(arr).sum())} NaN or inf "
                             "values; did training diverge?")
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi > 1:
            hint = " (0-255 images? divide them by 255)" if hi > 1.5 else ""
            raise ValueError(f"the {name} have pixel values from {float(lo):g} to {float(hi):g}; the image metrics "
                             f"expect pixel values in [0, 1]{hint}")
    return x


def gaussian_stats(x) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of the rows of ``x``."""
    x = _as_matrix("x", x)
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])


def frechet_from_stats(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^{1/2})``. The trace of the matrix square root is
    computed as ``sum(sqrt(eig(S1^{1/2} S2 S1^{1/2})))``: a symmetric PSD matrix, so it is
    stable and real even when a covariance is singular (no complex parts to discard).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"shapes do not match: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}")
    if not all(np.all(np.isfinite(v)) for v in (mu1, mu2, s1, s2)):
        raise ValueError("a mean or covariance contains NaN or inf")
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean, 0.0))


def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussian fits of two sample sets ``a`` (n, d) and ``b`` (m, d).

    Each set needs more samples than dimensions (n > d), else its covariance is singular.
    """
    a, b = _as_matrix("a", a), _as_matrix("b", b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b need the same number of columns, got {a.shape[1]} and {b.shape[1]}")
    _enough_samples("a", a), _enough_samples("b", b)
    return frechet_from_stats(*gaussian_stats(a), *gaussian_stats(b))


# --- digit images ----------------------------------------------------------------

def features(images) -> np.ndarray:
    """The classifier's 64 penultimate activations for each image (pixels in [0, 1])."""
    return digit_classifier().features(_images(images))


@lru_cache(maxsize=4)
def _reference(split: str):
    feats = features(data.digits(split))
    return feats, gaussian_stats(feats)


def _reference_features(reference) -> tuple[np.ndarray, tuple]:
    if isinstance(reference, str):
        return _reference(reference)
    feats = features(reference)
    return feats, gaussian_stats(feats)


def n_eval() -> int:
    """How many samples to generate for image metrics: as many as the real floor uses."""
    return len(data.digits("train"))


def fcd(samples, reference="test") -> float:
    """Fréchet classifier distance of images to a reference split (default ``test``).

    FCD is biased upwards for small sample sizes: compare numbers computed on the same
    number of samples, :func:`n_eval` (the size of the training split used by :func:`floor`).
    """
    return _fcd(features(samples), reference)


def _fcd(feats, reference) -> float:
    real, (mu_r, s_r) = _reference_features(reference)
    _enough_samples("the reference", real)
    return frechet_from_stats(*gaussian_stats(_enough_samples("samples", feats)), mu_r, s_r)


def _pairwise(a, b) -> np.ndarray:
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(d2, 0, None))


def _knn_radii(x, k) -> np.ndarray:
    d = _pairwise(x, x)
    return np.sort(d, axis=1)[:, k]  # column 0 is the point itself


@lru_cache(maxsize=8)
def _reference_radii(split: str, k: int) -> np.ndarray:
    return _knn_radii(_reference(split)[0], k)


def _check_k(k) -> int:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return k


def _precision_recall(fake, reference, k: int) -> tuple[float, float]:
    """Precision and recall from the samples' features ``fake`` (the reference's radii computed once per split)."""
    real, _ = _reference_features(reference)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"need more than k={k} samples and reference images, got {len(fake)} and {len(real)}")
    d = _pairwise(fake, real)
    real_radii = _reference_radii(reference, k) if isinstance(reference, str) else _knn_radii(real, k)
    precision = float((d <= real_radii[None, :]).any(axis=1).mean())
    recall = float((d <= _knn_radii(fake, k)[:, None]).any(axis=0).mean())
    return precision, recall


def precision_recall(samples, reference="test", k: int = 3) -> tuple[float, float]:
    """Precision and recall of samples as k-NN manifolds in feature space (Kynkäänniemi et al., 2019).

    Precision: share of samples that fall inside the real manifold (realism).
    Recall: share of real images that fall inside the samples' manifold (diversity).
    """
    return _precision_recall(features(samples), reference, _check_k(k))


def class_histogram(samples) -> np.ndarray:
    """Share of samples that the classifier assigns to each of the 10 digits."""
    return _histogram(digit_classifier().predict(_images(samples)))


def _histogram(pred) -> np.ndarray:
    return np.bincount(pred, minlength=data.N_CLASSES) / len(pred)


def _coverage(histogram, min_share: float) -> float:
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    return float((histogram >= min_share / data.N_CLASSES).mean())


def class_coverage(samples, min_share: float = 0.2) -> float:
    """Share of the 10 digits that get at least ``min_share`` of their fair share (1/10) of samples."""
    return _coverage(class_histogram(samples), min_share)


def image_metrics(samples, reference="test") -> dict:
    """FCD, precision, recall and class coverage of a batch of generated images."""
    # The numbers of fcd(), precision_recall() and class_coverage(), with the classifier run once, not four times
    feats = features(samples)
    p, r = _precision_recall(feats, reference, 3)
    w, b = digit_classifier().layers[-1]
    return {"fcd": _fcd(feats, reference), "precision": p, "recall": r,
            "coverage": _coverage(_histogram((feats @ w + b).argmax(axis=1)), 0.2)}


@lru_cache(maxsize=1)
def _floor() -> dict:
    return image_metrics(data.digits("train"), "test")


def floor() -> dict:
    """The real-vs-real floor: :func:`image_metrics` of the training split against the test split."""
    return dict(_floor())


# --- 2-D mixtures -------------------------------------------------------------

def _mode_assignment(samples, spec, n_std):
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"expected 2-D samples of shape (n, 2), got {x.shape}")
    if isinstance(spec, str):
        spec = data.mixture_spec(spec)
    d = np.linalg.norm(x[:, None, :] - spec.centers[None], axis=2)
    nearest = d.argmin(axis=1)
    good = d[np.arange(len(x)), nearest] <= n_std * spec.std
    return spec, nearest, good


def high_quality_share(samples, spec, n_std: float = 3.0) -> float:
    """Share of samples within ``n_std`` standard deviations of some mode's centre.

    For real samples this is ``1 - exp(-n_std**2 / 2)`` (98.9% at 3 std) in 2-D.
    """
    _, _, good = _mode_assignment(samples, spec, n_std)
    return float(good.mean())


def modes_covered(samples, spec, n_std: float = 3.0, min_share: float = 0.2) -> int:
    """Number of modes that receive at least ``min_share`` of the high-quality samples they deserve."""
    spec, nearest, good = _mode_assignment(samples, spec, n_std)
    counts = np.bincount(nearest[good], minlength=len(spec.weights))
    return int((counts >= min_share * len(nearest) * spec.weights).sum())


def mixture_metrics(samples, spec, n_std: float = 3.0) -> dict:
    """Modes covered (and out of how many) and the share of high-quality samples."""
    if isinstance(spec, str):
        spec = data.mixture_spec(spec)
    return {"modes_covered": modes_covered(samples, spec, n_std), "n_modes": len(spec.weights),
            "high_quality": high_quality_share(samples, spec, n_std)}
