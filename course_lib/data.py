"""Data sets of the course, all generated or shipped: nothing is downloaded.

* ``digits(split)``: scikit-learn's bundled handwritten digits, 8x8 images flattened to
  64 values, float32 in [0, 1], with a fixed stratified train/validation/test split.
* ``printed_digits(n, seed)``: digits 0-9 rendered from the fonts that matplotlib ships,
  jittered and rasterised to the same 8x8 format: the source domain for transfer learning.
* ``mixture(name, n, seed)``: 2-D Gaussian mixtures (``ring8``, ``grid25``, ``ring8_uneven``),
  float32 points in the plane (their natural coordinates, roughly [-5, 5]), with
  ``mixture_spec(name)`` giving the mode centres, weights and standard deviation.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

SIDE = 8
N_PIXELS = SIDE * SIDE
N_CLASSES = 10
SPLITS = ("train", "val", "test")
# Per class, this many images go to validation and test; the rest (~125 per class) train.
_VAL_PER_CLASS = 18
_TEST_PER_CLASS = 36
_SPLIT_SEED = 20240611


def _check_choice(kind: str, value, valid) -> None:
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; expected one of: {', '.join(map(str, valid))}")


def _check_count(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


@lru_cache(maxsize=1)
def _digit_splits():
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    # A per-class permutation from a fixed legacy RandomState: stable across NumPy versions.
    rng = np.random.RandomState(_SPLIT_SEED)
    idx = {s: [] for s in SPLITS}
    for c in range(N_CLASSES):
        members = np.flatnonzero(y == c)
        members = members[rng.permutation(len(members))]
        idx["val"].append(members[:_VAL_PER_CLASS])
        idx["test"].append(members[_VAL_PER_CLASS:_VAL_PER_CLASS + _TEST_PER_CLASS])
        idx["train"].append(members[_VAL_PER_CLASS + _TEST_PER_CLASS:])
    out = {}
    for s in SPLITS:
        ix = np.sort(np.concatenate(idx[s]))
        out[s] = (x[ix], y[ix], ix)
    return out


def digits(split: str = "train", with_labels: bool = False):
    """Handwritten digits of one split: ``(n, 64)`` float32 in [0, 1] (and int64 labels).

    The split is fixed (stratified by class): train 1,257, val 180, test 360 images.
    """
    _check_choice("split", split, SPLITS)
    x, y, _ = _digit_splits()[split]
    x, y = x.copy(), y.copy()  # callers may modify their copy freely
    return (x, y) if with_labels else x


def digit_indices(split: str) -> np.ndarray:
    """Row indices into ``sklearn.datasets.load_digits()`` of a split (to show splits are disjoint)."""
    _check_choice("split", split, SPLITS)
    return _digit_splits()[split][2].copy()


# --- printed digits ---------------------------------------------------------

# Fonts that ship inside matplotlib's mpl-data, so every install can render them.
PRINTED_FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "STIXGeneral", "cmr10", "cmss10", "cmtt10")


@cache
def _glyph(font: str, digit: int, bold: bool):
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.textpath import TextPath

    # Computer Modern ships in one weight only; asking for bold would only log a warning.
    bold = bold and not font.startswith("cm")
    prop = FontProperties(family=font, weight="bold" if bold else "normal")
    findfont(prop, fallback_to_default=False)  # raises if the font is missing
    path = TextPath((0, 0), str(digit), size=1.0, prop=prop)
    verts = path.vertices
    lo, hi = verts.min(0), verts.max(0)
    return path, lo, hi


def _render(path, lo, hi, angle, scale, shift, shear, supersample=4):
    from matplotlib.path import Path

    # Map the glyph's box into the 8x8 frame, keep its aspect ratio, leave a margin like sklearn's digits.
    centre = (lo + hi) / 2
    size = (hi - lo).max()
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    sh = np.array([[1.0, shear], [0.0, 1.0]])
    m = rot @ sh * (scale * 6.4 / size)
    verts = (path.vertices - centre) @ m.T + np.array([4.0, 4.0]) + shift
    k = supersample
    g = (np.arange(SIDE * k) + 0.5) / k
    gx, gy = np.meshgrid(g, g)
    pts = np.stack([gx.ravel(), (SIDE - gy).ravel()], 1)  # image rows go downwards
    # Even-odd rule over the glyph's outlines, so the holes of 0, 4, 6, 8, 9 stay open.
    inside = np.zeros(len(pts), dtype=bool)
    for poly in Path(verts, path.codes).to_polygons(closed_only=False):
        inside ^= Path(poly).contains_points(pts)
    img = inside.reshape(SIDE * k, SIDE * k).astype(np.float32).reshape(SIDE, k, SIDE, k).mean(axis=(1, 3))
    # Strokes of the handwritten digits are thick and blurred: blend in a little of a 3x3 max.
    pad = np.pad(img, 1)
    nb = np.max([pad[i:i + SIDE, j:j + SIDE] for i in range(3) for j in range(3)], axis=0)
    return np.clip(0.9 * img + 0.45 * nb, 0.0, 1.0)


def printed_digits(n: int = 2000, seed: int = 0, with_labels: bool = False, fonts=PRINTED_FONTS):
    """``n`` printed digits (balanced classes) rendered from matplotlib's fonts, ``(n, 64)`` float32 in [0, 1].

    Each image picks a font, a weight, a small rotation, scale, shear and shift, so the set
    has variety without any download. Deterministic for a given ``seed``.
    """
    n = _check_count("n", n)
    for f in fonts:
        _check_choice("font", f, PRINTED_FONTS)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % N_CLASSES
    rng.shuffle(labels)
    x = np.empty((n, N_PIXELS), dtype=np.float32)
    for i, digit in enumerate(labels):
        font = fonts[rng.integers(len(fonts))]
        path, lo, hi = _glyph(font, int(digit), bool(rng.random() < 0.3))
        img = _render(path, lo, hi, angle=rng.normal(0, 6), scale=rng.uniform(0.8, 1.0),
                      shift=rng.normal(0, 0.35, size=2), shear=rng.normal(0, 0.1))
        x[i] = img.ravel()
    labels = labels.astype(np.int64)
    return (x, labels) if with_labels else x


# --- 2-D mixtures -------------------------------------------------------------

@dataclass(frozen=True)
class MixtureSpec:
    """Where a 2-D mixture's modes are: centres ``(k, 2)``, weights ``(k,)`` and one std."""
    name: str
    centers: np.ndarray
    weights: np.ndarray
    std: float


def _ring(k, radius):
    t = 2 * np.pi * np.arange(k) / k
    return np.stack([radius * np.cos(t), radius * np.sin(t)], 1)


MIXTURES = ("ring8", "grid25", "ring8_uneven")


def mixture_spec(name: str) -> MixtureSpec:
    """Centres, weights and standard deviation of a named 2-D mixture."""
    _check_choice("mixture", name, MIXTURES)
    if name == "ring8":
        return MixtureSpec(name, _ring(8, 2.0), np.full(8, 1 / 8), 0.05)
    if name == "grid25":
        g = np.arange(-4.0, 4.1, 2.0)
        centers = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
        return MixtureSpec(name, centers, np.full(25, 1 / 25), 0.05)
    # ring8_uneven: the same ring, but the smallest mode is 8x rarer than the largest,
    # so a generator that drops rare modes is easy to catch.
    w = np.array([8, 1, 6, 2, 7, 3, 5, 4], dtype=float)
    return MixtureSpec(name, _ring(8, 2.0), w / w.sum(), 0.05)


def mixture(name: str, n: int = 2000, seed: int = 0, with_labels: bool = False):
    """``n`` points of a 2-D Gaussian mixture as ``(n, 2)`` float32 (and the mode of each point)."""
    spec = mixture_spec(name)
    n = _check_count("n", n)
    rng = np.random.default_rng(seed)
    modes = rng.choice(len(spec.weights), size=n, p=spec.weights)
    x = (spec.centers[modes] + spec.std * rng.standard_normal((n, 2))).astype(np.float32)
    return (x, modes.astype(np.int64)) if with_labels else x


def batch_indices(n: int, batch_size: int, seed: int):
    """Endless minibatch indices: a fresh permutation each epoch, incomplete last batch dropped.

    Both tracks draw batches from this NumPy generator, so they see the same data order.
    """
    n, batch_size = _check_count("n", n), _check_count("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} is larger than the data set ({n} rows)")
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n)
        for i in range(0, n - batch_size + 1, batch_size):
            yield perm[i:i + batch_size]


def noise(n: int, dim: int, seed) -> np.ndarray:
    """Standard normal noise ``(n, dim)`` float32 from a seed or a NumPy ``Generator``."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.standard_normal((n, dim), dtype=np.float32)
