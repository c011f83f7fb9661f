"""TensorBoard monitoring, the framework-neutral part (lesson 10): the tag scheme both tracks write,
a reader of event files, the sample grid as an image, the checks on what is logged, and the table of
what the curves say when training goes wrong. ``course_lib.torch.monitoring`` and
``course_lib.tensorflow.monitoring`` write the files (one ``Monitor`` each, the same names); this
module imports neither framework, and imports ``tensorboard`` only to read.

Every tag is ``group/name``, one group per kind of curve (:data:`TAGS` lists the standard ones)::

    loss/g  loss/d            training losses (generator; discriminator or critic)
    lr/g  lr/d                learning rates, as the optimizer uses them at that step
    grad_norm/g  grad_norm/d  global L2 norm of each network's parameter gradients
    score/real  score/fake    the discriminator's mean score on a real and on a fake batch
    val/fcd                   validation metrics (FCD on held-out digits)
    samples/g                 an 8x8 grid of generated digits (an image)

Each ``Monitor`` writes into a fresh run folder under its log directory (``logs/run-20260101-120000``,
or ``logs/<run>``, numbered ``-2``, ``-3`` ... if taken), so nothing already there is written over
and TensorBoard shows each run as its own curve. To look at the runs in JupyterLab::

    %load_ext tensorboard
    %tensorboard --logdir logs

(on a remote JupyterHub or Binder the embedded page may need jupyter-server-proxy; the files can
always be read back with :func:`read_events`).
"""
from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .data import SIDE

TAGS = {
    "loss/g": "generator loss (per-batch mean)",
    "loss/d": "discriminator or critic loss (per-batch mean)",
    "lr/g": "generator learning rate used at the step",
    "lr/d": "discriminator learning rate used at the step",
    "grad_norm/g": "global L2 norm of the generator's parameter gradients",
    "grad_norm/d": "global L2 norm of the discriminator's parameter gradients",
    "score/real": "mean D score on a real batch: sigmoid(D(x)) for a GAN, the raw D(x) for a WGAN critic",
    "score/fake": "mean D score on a fake batch, on the same scale as score/real",
    "val/fcd": "FCD of samples against held-out digits (lower is better)",
    "samples/g": "an 8x8 grid of generated digits, pixels in [0, 1]",
}
SCALAR_GROUPS = ("loss", "lr", "grad_norm", "score", "val")
IMAGE_GROUPS = ("samples",)
GRID = 8       # digits per side of a sample grid
SCALE = 4      # pixels per digit pixel: an 8x8 digit is too small to see at 1:1 in TensorBoard
_SEPARATOR = 0.5  # grey lines between the digits
_EVENT_FILES = "events.out.tfevents.*"


class Symptom(NamedTuple):
    problem: str
    curves: str
    remedy: str


SYMPTOMS = (
    Symptom("mode collapse",
            "samples/g shows the same few digits over and over; val/fcd stalls or rises; the losses alone "
            "can look normal, or oscillate as G hops from mode to mode",
            "lower lr/g or use TTUR (lesson 03), a gradient penalty (lesson 05), a moving average (lesson 09)"),
    Symptom("the discriminator wins",
            "score/real goes to 1 and score/fake to 0; loss/d goes to 0 while loss/g climbs; "
            "val/fcd and samples/g stop improving",
            "regularize D (lessons 01 and 05), augment its inputs (lesson 06), lower lr/d"),
    Symptom("a diverging critic (WGAN)",
            "score/real and score/fake drift apart without bound; |loss/d| and grad_norm/d keep "
            "growing; then a loss turns non-finite and the Monitor stops the run",
            "a gradient penalty instead of clipping (lesson 05), a lower lr/d, no BatchNorm in the critic"),
    Symptom("a learning rate that vanishes",
            "lr/g or lr/d falls geometrically towards 0 (the seed document's compounding schedule); "
            "every loss flattens early and val/fcd stops improving",
            "a schedule computed from the initial rate (lesson 03); check lr/* before anything else"),
)


def symptoms_markdown() -> str:
    """:data:`SYMPTOMS` as a Markdown table (for a notebook's ``display(Markdown(...))``)."""
    rows = ["| what goes wrong | what the curves show | what to try |", "|---|---|---|"]
    rows += [f"| {s.problem} | {s.curves} | {s.remedy} |" for s in SYMPTOMS]
    return "\n".join(rows)


# --- checks on what is logged -------------------------------------------------------------------


def check_tag(tag: str, groups) -> str:
    """``tag`` if it is ``group/name`` with ``group`` in ``groups``, else a ValueError saying the scheme."""
    if not isinstance(tag, str) or not re.fullmatch(r"[a-z_]+/[A-Za-z0-9_.-]+", tag) or tag.split("/")[0] not in groups:
        raise ValueError(f"tag {tag!r}: expected 'group/name' with group one of {', '.join(groups)} "
                         f"(e.g. {', '.join(t for t in TAGS if t.split('/')[0] in groups)})")
    return tag


def check_step(step) -> int:
    """``step`` (an int, or a one-number integer array, e.g. from ``optimizer.iterations``) as an int
    if it is a non-negative integer (the training step), else a ValueError."""
    array = np.asarray(step)
    if array.shape != () or array.dtype.kind not in "iu" or array < 0:
        raise ValueError(f"step must be a non-negative integer (the training step), got {step!r}")
    return int(array)


def check_value(tag: str, value, step: int) -> float:
    """``value`` (a number, or an array or tensor already turned to NumPy, holding one) as a finite float."""
    array = np.asarray(value)
    if array.size != 1 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{tag} at step {step}: expected one number, got {type(value).__name__} "
                         f"of shape {array.shape}; log a mean, e.g. loss.mean()")
    number = float(array.reshape(()))
    # Stop at the first non-finite value: the run is lost from there on, and this names where it went.
    if not math.isfinite(number):
        raise ValueError(f"{tag} = {number} at step {step}: training has diverged (non-finite value); "
                         f"look at the steps before it (lr/*, grad_norm/*) and lower the learning rate")
    return number


def grid_image(images, grid: int = GRID, side: int = SIDE, scale: int = SCALE) -> np.ndarray:
    """Up to ``grid * grid`` images of shape (n, side*side) or (n, side, side), pixels in [0, 1], as one
    float32 grayscale image of shape (H, W): row by row, grey lines between them, each pixel ``scale``
    times, empty cells black."""
    x = np.asarray(images, dtype=np.float32)
    expected = f"images of shape (n, {side * side}) or (n, {side}, {side}) with 1 <= n <= {grid * grid}"
    if x.ndim == 2 and x.shape[1] == side * side:
        x = x.reshape(-1, side, side)
    if x.ndim != 3 or x.shape[1:] != (side, side) or not 1 <= len(x) <= grid * grid:
        raise ValueError(f"expected {expected}, got shape {x.shape}")
    if not np.isfinite(x).all() or x.min() < 0.0 or x.max() > 1.0:
        raise ValueError(f"expected pixels in [0, 1] (a sigmoid output, like data.digits), got values in "
                         f"[{np.nanmin(x):.3g}, {np.nanmax(x):.3g}]; map a tanh output with (x + 1) / 2")
    rows = -(-len(x) // grid)
    cells = np.zeros((rows * grid, side, side), np.float32)
    cells[:len(x)] = x
    cells = np.pad(cells, ((0, 0), (1, 0), (1, 0)), constant_values=_SEPARATOR)   # a line above and left
    canvas = cells.reshape(rows, grid, side + 1, side + 1).transpose(0, 2, 1, 3).reshape(rows * (side + 1), -1)
    canvas = np.pad(canvas, ((0, 1), (0, 1)), constant_values=_SEPARATOR)        # and the closing lines
    return np.kron(canvas, np.ones((scale, scale), np.float32))


# --- run folders --------------------------------------------------------------------------------


def new_run_dir(logdir, run: str | None = None) -> Path:
    """Create and return a folder for a new run under ``logdir``: ``run`` (default
    ``run-YYYYmmdd-HHMMSS``), or ``run-2``, ``run-3`` ... if that exists. Never an existing folder, so
    a new run never mixes its events with an earlier one's."""
    logdir = Path(logdir)
    run = run if run is not None else time.strftime("run-%Y%m%d-%H%M%S")
    if not isinstance(run, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", run):
        raise ValueError(f"run {run!r}: expected a folder name (letters, digits, '_', '.', '-'), no path")
    if logdir.exists() and not logdir.is_dir():
        raise ValueError(f"log directory {logdir} is a file; pass a folder (it is created if missing)")
    logdir.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = logdir / (run if n == 1 else f"{run}-{n}")
        try:
            path.mkdir()  # fails if it exists, even when another process made it a moment ago
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"{logdir} holds 10000 runs named {run!r}; choose another run name")


class MonitorBase:
    """What both tracks' ``Monitor`` share: the run folder, the checks, the grid, closing. A track
    implements ``_open``, ``_to_numpy``, ``_write_scalar``, ``_write_image``, ``_flush`` and ``_close``."""

    def __init__(self, logdir, run: str | None = None, verbose: bool = True):
        self.logdir = Path(logdir)
        self.run_dir = new_run_dir(self.logdir, run)
        self._closed = False
        self._open(self.run_dir)
        if verbose:  # verbose=False: a notebook that prints its own summary (no machine's paths in its outputs)
            print(f"TensorBoard run {self.run_dir} "
                  f"(to view: %load_ext tensorboard, then %tensorboard --logdir {self.logdir})")

    def scalar(self, tag: str, value, step: int) -> None:
        """Log one number (a float or a one-element array or tensor) under ``tag`` at ``step``."""
        self.scalars({tag: value}, step)

    def scalars(self, values: dict, step: int) -> None:
        """Log ``{tag: value}`` at ``step``; all are checked before any is written."""
        self._check_open()
        step = check_step(self._to_numpy(step))
        checked = {check_tag(t, SCALAR_GROUPS): check_value(t, self._to_numpy(v), step) for t, v in values.items()}
        for tag, value in checked.items():
            self._write_scalar(tag, value, step)

    def samples(self, images, step: int, tag: str = "samples/g") -> None:
        """Log up to 64 digits (shape (n, 64) or (n, 8, 8), pixels in [0, 1]) as one 8x8 grid image."""
        self._check_open()
        step, tag = check_step(self._to_numpy(step)), check_tag(tag, IMAGE_GROUPS)
        self._write_image(tag, grid_image(self._to_numpy(images)), step)

    def flush(self) -> None:
        """Write what is buffered to disk now (TensorBoard then shows it)."""
        self._check_open()
        self._flush()

    def close(self) -> None:
        """Flush and close the event file; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this Monitor ({self.run_dir}) is closed; open a new one (it starts a new run)")


# --- reading event files back -------------------------------------------------------------------


class Events(NamedTuple):
    """What a run's event files hold: ``scalars`` ``{tag: [(step, value), ...]}`` and ``images``
    ``{tag: [(step, (height, width)), ...]}``, each sorted by step."""
    scalars: dict
    images: dict


def read_events(run_dir) -> Events:
    """Read one run's event files (a ``Monitor``'s ``run_dir``) with TensorBoard's own reader.

    PyTorch's ``add_scalar`` stores a scalar as a ``simple_value`` and its ``add_image`` as an encoded
    image; ``tf.summary`` stores both as tensors. TensorBoard's plugin event accumulator migrates the
    old forms to the tensor form as it reads, so one path reads both tracks, and the summary's plugin
    name (``scalars`` or ``images``) says which is which.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a folder")
    if not any(run_dir.glob(_EVENT_FILES)):
        runs = sorted(p.name for p in run_dir.iterdir() if p.is_dir() and any(p.glob(_EVENT_FILES)))
        hint = f"it holds runs {runs}: pass one of those folders" if runs else "no run was logged here"
        raise ValueError(f"{run_dir} holds no event files; {hint}")
    # Imported here: tensorboard comes with a track's extra, not with the core install.
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.util import tensor_util

    accumulator = pea.EventAccumulator(str(run_dir), size_guidance={pea.TENSORS: 0})  # 0: keep every point
    accumulator.Reload()
    scalars, images = {}, {}
    for tag in accumulator.Tags()[pea.TENSORS]:
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events = sorted(accumulator.Tensors(tag), key=lambda e: e.step)
        values = [tensor_util.make_ndarray(e.tensor_proto) for e in events]
        if plugin == "scalars":
            scalars[tag] = [(e.step, float(v)) for e, v in zip(events, values)]
        elif plugin == "images":  # [width, height, encoded image, ...] as strings
            images[tag] = [(e.step, (int(v[1]), int(v[0]))) for e, v in zip(events, values)]
    return Events(scalars, images)
