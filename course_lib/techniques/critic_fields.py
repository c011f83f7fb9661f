"""Pictures of a 2-D critic (lesson 05), framework-neutral: the evaluation grid and the contour
plots of the critic's value and of its input-gradient norm, with the real points on top. The
tracks compute the values (``course_lib.<track>.wgan.critic_field``)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plots


def grid(lim: float = 3.0, n: int = 61) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xx, yy, points)``: an ``n`` x ``n`` grid over ``[-lim, lim]^2`` and its points, shape ``(n*n, 2)``."""
    t = np.linspace(-lim, lim, int(n), dtype=np.float32)
    xx, yy = np.meshgrid(t, t)
    return xx, yy, np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def plot_field(xx, yy, values, real=None, ax=None, title: str | None = None, cmap: str = "viridis",
               log: bool = False, label: str | None = None):
    """Filled contours of ``values`` (one per grid point) with ``real`` points (white, labelled
    "real points" for a legend) on top; ``label`` names the colour bar, the values' axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    v = np.asarray(values, dtype=np.float64).reshape(xx.shape)
    if log:
        v = np.log10(np.maximum(v, 1e-6))
    cs = ax.contourf(xx, yy, v, levels=20, cmap=cmap)
    bar = plt.colorbar(cs, ax=ax, fraction=0.046, pad=0.04)
    if label:
        bar.set_label(label, fontsize=8)
    if real is not None:
        ax.scatter(*np.asarray(real)[:400].T, s=2, c="w", alpha=0.7, label="real points")
    return plots.plane_axes(ax, title)
