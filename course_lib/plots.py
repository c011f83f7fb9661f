"""Figures used across lessons: sample grids, 2-D scatter, training curves, with/without charts."""
from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from . import results as _results


def sample_grid(images, nrow: int = 10, title: str | None = None, ax=None, side: int = 8):
    """Show up to ``nrow * nrow`` images of shape (n, side*side) or (n, side, side) as one grid."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        if images.shape[1] != side * side:
            raise ValueError(f"expected images of shape (n, {side * side}) or (n, {side}, {side}), got {images.shape}")
        images = images.reshape(-1, side, side)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (n, {side * side}) or (n, {side}, {side}), got {images.shape}")
    n = min(len(images), nrow * nrow)
    ncol = nrow
    rows = int(np.ceil(n / ncol))
    pad = 1
    canvas = np.ones((rows * (side + pad) + pad, ncol * (side + pad) + pad), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncol)
        canvas[pad + r * (side + pad):pad + r * (side + pad) + side,
               pad + c * (side + pad):pad + c * (side + pad) + side] = images[i]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * ncol + 0.5, 0.35 * rows + 0.5))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def scatter_2d(samples, target=None, centers=None, title: str | None = None, ax=None, lim: float | None = None):
    """Generated 2-D samples (orange) over the target mixture's points (grey) and mode centres (x)."""
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"expected 2-D samples of shape (n, 2), got {samples.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    if target is not None:
        ax.scatter(*np.asarray(target).T, s=2, c="0.75", label="target")
    ax.scatter(*samples.T, s=2, c="tab:orange", alpha=0.6, label="generated")
    if centers is not None:
        ax.scatter(*np.asarray(centers).T, marker="x", c="k", s=20, label="modes")
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    return plane_axes(ax, title)


def plane_axes(ax, title: str | None = None):
    """Finish a picture of the 2-D plane: equal scales, no ticks, a small title."""
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def training_curves(history: dict, keys=None, ax=None, title: str | None = None, xlabel: str = "step"):
    """Plot one line per key of a history dict ``{"step": [...], "loss": [...], ...}``."""
    if "step" not in history:
        raise ValueError(f"history needs a 'step' list; it has {sorted(history)}")
    keys = keys or [k for k in history if k != "step"]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for key in keys:
        if key not in history:
            raise ValueError(f"history has no {key!r}; it has {sorted(history)}")
        ax.plot(history["step"], history[key], label=key)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def with_without(results: dict, ax=None, title: str | None = None, reference: float | None = None,
                 reference_label: str = "floor"):
    """Bar per variant: mean with a standard-deviation error bar, and each seed as a dot.

    ``results`` is the dict that :func:`course_lib.results.record` writes. ``reference``
    (e.g. the real-vs-real floor) is drawn as a dashed line.
    """
    stats = _results.summary(results)
    names = list(stats)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(names) + 2, 3))
    x = np.arange(len(names))
    means = [stats[n]["mean"] for n in names]
    stds = [stats[n]["std"] for n in names]
    ax.bar(x, means, yerr=stds, capsize=4, color="tab:blue", alpha=0.55)
    for i, name in enumerate(names):
        vals = results["variants"][name]
        ax.scatter(np.full(len(vals), i) + np.linspace(-0.12, 0.12, len(vals)), vals, c="k", s=10, zorder=3)
    if reference is not None:
        ax.axhline(reference, ls="--", c="tab:green", label=reference_label)
        ax.legend(fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=15)
    arrow = "lower is better" if results["lower_is_better"] else "higher is better"
    ax.set_ylabel(f"{results['metric']} ({arrow})")
    n_seeds = max(s["n"] for s in stats.values())
    ax.set_title(title or f"{results['metric']}: mean ± std over {n_seeds} seeds", fontsize=10)
    return ax
