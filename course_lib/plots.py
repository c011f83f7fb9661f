"""Figures used across lessons: sample grids, 2-D scatter, training curves, with/without charts."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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


# --- per-seed charts (lesson 03): every seed visible, paired across variants -----------------

def _seed_matrix(results: dict, names) -> np.ndarray:
    """(variants, seeds) values; every variant must hold the same number of seeds (paired)."""
    lengths = {n: len(results["variants"][n]) for n in names}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"paired per-seed charts need the same seeds for every variant, got {lengths}")
    return np.array([results["variants"][n] for n in names], dtype=float)


def _variant_colors(names) -> dict:
    # tab10 without its grey: reference lines are black and the lines that join a seed are grey.
    palette = [c for i, c in enumerate(plt.cm.tab10.colors) if i != 7]
    return {n: palette[i % len(palette)] for i, n in enumerate(names)}


def _points_and_interval(ax, i, vals, color):
    ax.scatter(np.full(len(vals), i - 0.1), vals, color=color, s=18, zorder=3)
    sd = np.std(vals, ddof=1) if len(vals) > 1 else 0.0
    ax.errorbar(i + 0.12, np.mean(vals), yerr=sd, fmt="o", color="k", ms=5, capsize=4, zorder=3)


def _legend(ax, extra=()):
    ax.scatter([], [], color="0.45", s=18, label="one seed")
    ax.errorbar([], [], yerr=[], fmt="o", color="k", ms=5, capsize=4, label="mean ± sd over seeds")
    for handle in extra:
        handle()
    ax.legend(fontsize=8, loc="best")


def per_seed(results: dict, ax=None, title: str | None = None, reference: float | None = None,
             reference_label: str = "floor"):
    """Each seed as a point per variant (a grey line joins the same seed across variants) with the
    mean ± standard deviation beside it. No bars, so the axis zooms on the values.

    ``results`` is the dict that :func:`course_lib.results.record` writes, all variants on the same
    seeds. ``reference`` (e.g. the real-vs-real floor) is a black dashed line, a colour no variant uses.
    """
    names = list(results["variants"])
    values = _seed_matrix(results, names)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(names) + 2, 3.2))
    x = np.arange(len(names))
    for seed_values in values.T:
        ax.plot(x - 0.1, seed_values, color="0.8", lw=0.8, zorder=1)
    colors = _variant_colors(names)
    for i, name in enumerate(names):
        _points_and_interval(ax, i, values[i], colors[name])
    extra = ()
    if reference is not None:
        extra = (lambda: ax.axhline(reference, ls="--", color="k", lw=1, label=reference_label),)
    _legend(ax, extra)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=15)
    arrow = "lower is better" if results["lower_is_better"] else "higher is better"
    ax.set_ylabel(f"{results['metric']} ({arrow})")
    ax.set_title(title or f"{results['metric']}: {values.shape[1]} seeds", fontsize=10)
    return ax


def paired_differences(results: dict, baseline: str, ax=None, title: str | None = None):
    """Per seed, each variant minus ``baseline`` on the same seed, with the mean ± standard deviation
    of those differences; the dotted line at 0 is "no difference"."""
    names = list(results["variants"])
    if baseline not in names:
        raise KeyError(f"no variant {baseline!r}; the variants are: {', '.join(names)}")
    values = _seed_matrix(results, names)
    others = [n for n in names if n != baseline]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(others) + 2, 3.2))
    colors = _variant_colors(names)
    base = values[names.index(baseline)]
    for i, name in enumerate(others):
        _points_and_interval(ax, i, values[names.index(name)] - base, colors[name])
    _legend(ax, (lambda: ax.axhline(0.0, ls=":", color="k", lw=1, label=f"no difference from {baseline}"),))
    ax.set_xticks(np.arange(len(others)))
    ax.set_xticklabels(others, rotation=15)
    better = "below 0 is better" if results["lower_is_better"] else "above 0 is better"
    ax.set_ylabel(f"{results['metric']} minus {baseline}\n(same seed; {better})")
    ax.set_title(title or f"paired by seed: each variant minus {baseline}", fontsize=10)
    return ax


# --- curves over seeds (lesson 04): every seed visible, the mean over seeds on top -------------

def curves_per_seed(steps, curves: dict, ax=None, title: str | None = None, ylabel: str = "value",
                    reference: float | None = None, reference_label: str = "floor", log: bool = False):
    """Per variant, one thin line per seed and the mean over seeds as a thick line with markers, in one
    colour per variant (the colours of :func:`per_seed`). ``curves`` maps a variant to one curve per seed,
    each with one value per entry of ``steps``. ``reference`` is a black dashed line, a colour no
    variant uses."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.6))
    colors = _variant_colors(list(curves))
    for name, per_seed_curves in curves.items():
        values = np.asarray(per_seed_curves, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(steps):
            raise ValueError(f"{name!r}: expected one curve of {len(steps)} values per seed, got shape {values.shape}")
        for curve in values:
            ax.plot(steps, curve, color=colors[name], alpha=0.35, lw=0.8)
        ax.plot(steps, values.mean(axis=0), "o-", color=colors[name], lw=2,
                label=f"{name} (mean of {len(values)} seeds; thin: each seed)")
    if reference is not None:
        ax.axhline(reference, ls="--", color="k", lw=1, label=reference_label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- one panel per seed, with the moments rules acted (lesson 02) ------------------------------

def panels_per_seed(runs, curves: dict, marks: dict, xlabel: str = "epoch", ylabel: str = "value",
                    around_min: tuple | None = None, cols: int = 3):
    """One panel per run (a dict with a ``"seed"``): the ``curves`` (label -> (key of the run, colour))
    against their index, vertical ``marks`` (label -> (function of the run giving an x, colour, line
    style)) and one legend for all panels, below them. ``around_min=(below, above)`` zooms each panel's
    y axis on the lowest curve value, from ``below`` under it to ``above`` over it. Returns the figure."""
    cols = min(len(runs), cols)
    rows = -(-len(runs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    for ax, run in zip(axes.flat, runs):
        for label, (key, color) in curves.items():
            ax.plot(np.arange(len(run[key])), run[key], color=color, label=label)
        for label, (where, color, style) in marks.items():
            ax.axvline(where(run), color=color, ls=style, label=label)
        if around_min is not None:
            low = min(min(run[key]) for key, _ in curves.values())
            ax.set_ylim(low - around_min[0], low + around_min[1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"seed {run['seed']}", fontsize=10)
    for ax in axes.flat[len(runs):]:
        ax.axis("off")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=len(curves) + len(marks),
               fontsize=9)
    fig.tight_layout(rect=(0, 0.12 / rows, 1, 1))
    return fig


# --- two overlapping classes along one axis (lesson 08) ----------------------------------------

def class_histograms(values, labels, true_means, ax=None, title: str | None = None, region=None,
                     bins=None, xlabel: str = "$x_1$"):
    """Per class, a histogram (density) of ``values`` with that class's true density (a unit normal
    around its entry of ``true_means``) as a line of the same colour; ``region = (lo, hi)`` is shaded."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    values, labels = np.asarray(values, dtype=float), np.asarray(labels)
    bins = np.linspace(-4.0, 5.5, 48) if bins is None else bins
    t = np.linspace(bins[0], bins[-1], 300)
    colors = plt.cm.tab10.colors
    if region is not None:
        ax.axvspan(*region, color="0.9", zorder=0, label="between the true means")
    for c, mean in enumerate(true_means):
        ax.hist(values[labels == c], bins=bins, density=True, alpha=0.45, color=colors[c], label=f"class {c}: samples")
        ax.plot(t, np.exp(-0.5 * (t - mean) ** 2) / np.sqrt(2 * np.pi), color=colors[c], lw=1.8, ls="--",
                label=f"class {c}: true density")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


# --- logged runs read back from TensorBoard's event files (lesson 10) ----------------------------

def logged_curves(runs: dict, tags, ax=None, title: str | None = None, ylabel: str = "value", logy: bool = False):
    """Scalar curves of several logged runs on one axis: ``runs`` maps a run's label to what
    :func:`course_lib.monitoring.read_events` returned; one colour per run, one line style per tag."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    colors = _variant_colors(list(runs))
    styles = ["-", "--", ":", "-."]
    for label, events in runs.items():
        for j, tag in enumerate(tags):
            points = events.scalars.get(tag)
            if not points:
                raise KeyError(f"run {label!r} logged no {tag!r}; it logged {', '.join(sorted(events.scalars))}")
            steps, values = zip(*points)
            ax.plot(steps, values, styles[j % len(styles)], color=colors[label], lw=1.2,
                    marker="o" if len(points) < 12 else None, ms=3, label=f"{label}: {tag}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title or ", ".join(tags), fontsize=10)
    ax.legend(fontsize=8, loc="best")
    return ax
