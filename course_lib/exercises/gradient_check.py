"""The gradient check of the exercises whose output training differentiates (``reparameterize``,
``negative_elbo``, ``l2_penalty``, the normalisations, the penalties), worded once for both tracks.

Right values are not enough there: a function computed under ``torch.no_grad()``, with
``.detach()``, through NumPy or behind ``tf.stop_gradient`` returns the right numbers and
trains nothing. An exercise's :class:`Differentiable` spec names the arguments that must
receive gradient; the track's :class:`Autodiff` computes the gradient of ``sum(w * output)``
(random weights ``w``, so that no gradient cancels by symmetry, as the sum of a batch-normalised
output does) with respect to them, for the learner's function and for the reference. None or
zero where the reference's is non-zero means blocked; any other difference means a wrong gradient.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOCKED = "no gradient reaches {names}: was it {cut}? {why}"
NOT_A_TENSOR = ("it returned {what}, not a tensor: {plain} cut the graph, so training gets no gradient through it. "
                "Return a tensor.")
WRONG_GRADIENT = ("the gradient with respect to {name} is not the reference's (they differ by up to {diff:.2g} where "
                  "its entries reach {size:.2g}): is a part of what depends on {name} (a mean, a variance, ...) {cut}? "
                  "A custom gradient with a wrong backward pass does the same.")
RAISED = "with inputs that record gradients, as in training, it raised {kind}: {error}"


class NotATensor(Exception):
    """Raised by a track's ``Autodiff.gradients`` when the (trained) output is not a tensor."""

    def __init__(self, value):
        super().__init__(type(value).__name__)
        self.value = value


@dataclass(frozen=True)
class Autodiff:
    """A track's side of the check.

    ``gradients(fn, args, adapt, wrt, output, weights)`` calls ``fn`` on ``adapt`` of the NumPy
    ``args`` with the arguments at the indices ``wrt`` recording gradients (a network argument:
    its weight matrices) and returns ``{index: [NumPy gradient or None, one per tensor]}`` for
    ``sum(weights * out)``, ``out`` being the result or its element ``output``; it raises
    :class:`NotATensor` when ``out`` is not a tensor. ``cut`` completes "was it ...?" with the
    track's usual ways to cut a graph; ``plain`` names its ways to turn a tensor into numbers.
    """
    gradients: Callable
    cut: str
    plain: str


def _what(value) -> str:
    if isinstance(value, np.generic):  # first: np.float64 is also a Python float
        return f"a NumPy scalar ({type(value).__name__})"
    if isinstance(value, (bool, int, float)):
        return f"a Python {type(value).__name__}"
    return "a NumPy array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"


def _label(name: str, k: int, n: int) -> str:
    if not name.isidentifier():
        return name  # a description such as "the critic's parameters"
    return f"`{name}[{k}]`" if n > 1 else f"`{name}`"


@dataclass(frozen=True)
class Differentiable:
    """Which arguments training needs gradients for.

    ``wrt``: ``{argument index: name}`` (a list argument counts each tensor in it; a name that
    is not an identifier is a description, e.g. "the critic's parameters"). ``output``: the
    index of the trained output when the function returns several (batch norm's ``y``).
    ``case``: the arguments to differentiate at (default: the exercise's first case). ``why``:
    what a missing gradient costs, appended to the diagnosis.
    """
    wrt: dict
    output: int | None = None
    case: tuple | None = None
    why: str = ""

    def problem(self, exercise, fn) -> str | None:
        """The diagnosis for ``fn`` (None when its gradients match the reference's)."""
        case = exercise.cases[0] if self.case is None else self.case
        want = exercise.truth(*case)
        shape = np.shape(want if self.output is None else want[self.output])
        rng = np.random.default_rng(0)
        weights = (rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)).astype(np.float32)
        autodiff = exercise.autodiff
        key = ("reference gradients", id(self))
        if key not in exercise._cache:  # the same at every check
            exercise._cache[key] = self._run(exercise, exercise.fallback, case, weights)
        ref = exercise._cache[key]
        try:
            got = self._run(exercise, fn, case, weights)
        except NotATensor as e:
            return NOT_A_TENSOR.format(what=_what(e.value), plain=autodiff.plain)
        except Exception as e:  # noqa: BLE001 - e.g. .numpy() on a tensor that records gradients
            return RAISED.format(kind=type(e).__name__, error=e)
        blocked, wrong = [], None
        for i, name in self.wrt.items():
            size = max((np.abs(r).max() for r in ref[i] if r is not None), default=0.0)
            for k, (r, g) in enumerate(zip(ref[i], got[i])):
                if r is None and g is None:
                    continue  # nothing reaches it in the reference either (a bias in l2_penalty)
                label, r = _label(name, k, len(ref[i])), np.zeros_like(g) if r is None else r
                if np.any(r) and (g is None or not np.any(g)):
                    blocked += [] if label in blocked else [label]
                elif g is not None and wrong is None and not np.abs(g - r).max() <= 1e-3 * size + 1e-6:  # NaN: wrong
                    wrong = WRONG_GRADIENT.format(name=label, diff=float(np.abs(g - r).max()), size=size,
                                                  cut=autodiff.cut)
        if blocked:
            return BLOCKED.format(names=" or ".join(blocked), cut=autodiff.cut, why=self.why).strip()
        return wrong

    def _run(self, exercise, fn, case, weights):
        return exercise.autodiff.gradients(fn, [copy.deepcopy(a) for a in case], exercise.adapt, tuple(self.wrt),
                                           self.output, weights)

