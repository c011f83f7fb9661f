"""The exercise engine: check a learner's function, give levelled hints, diagnose mistakes.

An :class:`Exercise` knows the truth as NumPy code (so one definition serves both tracks)
and a list of *known mistakes*, each a NumPy function that makes that mistake on purpose.
A learner's answer is run on fixed test cases and compared with the truth; when it is
wrong, the first mistake whose outputs it reproduces names the diagnosis.

In a notebook::

    reparameterize = ex.check(reparameterize)   # prints the verdict, returns what to use

A stub that raises ``NotImplementedError`` (or a ``None`` placeholder) is "not attempted
yet": the checker says how to get a hint and hands back the reference implementation so
the rest of the lesson still runs. A wrong answer is explained and replaced the same way.
Where training differentiates the output, right values are not enough: the gradient must
reach the inputs too (``differentiable``, :mod:`course_lib.exercises.gradient_check`).

With ``$COURSE_VERDICTS_PATH`` set (the grader's), ``check`` also appends each verdict to it as a JSON line.
"""
from __future__ import annotations

import copy
import inspect
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CORRECT, WRONG, NOT_ATTEMPTED = "correct", "wrong", "not attempted"
VERDICTS_ENV = "COURSE_VERDICTS_PATH"  # where check() logs {"exercise", "status", "diagnosis"}, when set
# A wrong answer's diagnosis when no known mistake names it (a matched mistake gives its own ``name``).
RAISED, RETURNED_NONE, NOT_A_FUNCTION, UNREADABLE = "raised", "returned-none", "not-a-function", "unreadable-output"
VALUES_DIFFER, GRADIENT, EXTRA_CHECK = "values-differ", "gradient-check", "extra-check"
_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``impl`` reproduces it (NumPy), ``message`` explains it."""
    name: str
    impl: Callable
    message: str


@dataclass(frozen=True)
class RngFrom:
    """A case argument that the learner's function receives as ``np.random.default_rng(seed)``
    (a fresh generator per call, so every run draws the same numbers)."""
    seed: int


@dataclass
class Verdict:
    status: str
    message: str
    use: Any = None  # what the notebook should go on with
    diagnosis: str | None = None  # when wrong: the known mistake's name, else one of the categories above

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return self.message


def _flatten(out) -> list[np.ndarray]:
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _flatten(o)]
    return [np.asarray(out, dtype=np.float64)]


def _fresh(a):
    # A copy per call: a learner's in-place edit must not change the next case's (or the truth's) inputs.
    return np.random.default_rng(a.seed) if isinstance(a, RngFrom) else copy.deepcopy(a)


def _show(a, budget: list) -> str | None:
    """A short rendering of a small case argument (None when it is too big to print usefully)."""
    if isinstance(a, dict):
        parts = [(k, _show(v, budget)) for k, v in a.items()]
        return None if any(p is None for _, p in parts) else "{" + ", ".join(f"{k!r}: {p}" for k, p in parts) + "}"
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    budget[0] -= max(arr.size, 1)
    if budget[0] < 0 or arr.ndim > 1:
        return None
    return f"{float(arr):.6g}" if arr.ndim == 0 else "[" + ", ".join(f"{v:.6g}" for v in arr) + "]"


def _as_text(x: float, other: float, boolean: bool) -> str:
    """``x`` with one significant digit more than it takes to look different from ``other`` (so that
    the difference does not look like rounding)."""
    if boolean and x in (0.0, 1.0):
        return str(bool(x))
    digits = next((d for d in range(3, 17) if f"{x:.{d}g}" != f"{other:.{d}g}"), 16)
    return f"{x:.{digits + 1}g}"


class _Unreadable(Exception):
    """The learner's function returned something the checker cannot turn into numbers."""


@dataclass
class Exercise:
    """One exercise. See the module docstring.

    ``cases``: argument tuples of NumPy arrays or numbers. ``truth``: NumPy reference.
    ``fallback``: what the notebook uses when the answer is missing or wrong (by default
    ``truth``; a framework track passes its own tensor implementation). ``adapt``: turns
    NumPy arguments into the learner's types (e.g. tensors), ``to_numpy`` turns the result
    back. ``outputs``: names of the returned values, for messages. ``differentiable`` (see
    :mod:`course_lib.exercises.gradient_check`) and ``autodiff`` (the track's side): which
    inputs training needs gradients for. ``extra_checks``: callables ``f(fn) -> message or
    None`` for what outputs alone cannot show.
    """
    name: str
    truth: Callable
    cases: Sequence[tuple]
    hints: Sequence[str]
    mistakes: Sequence[Mistake] = ()
    fallback: Callable | None = None
    adapt: Callable = lambda a: a
    to_numpy: Callable = np.asarray
    extra_checks: Sequence[Callable] = ()
    outputs: Sequence[str] = ()
    differentiable: Any = None
    autodiff: Any = None
    answer: str | None = None  # the written-out answer ``solution()`` prints (a track's solution notebook cell)
    rtol: float = 1e-4
    atol: float = 1e-5
    handle: str = "ex."  # how notebooks reach the checker: ``from course_lib.<track> import exercises as ex``
    _hints_shown: int = field(default=0, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)  # e.g. the reference's gradients

    # -- running and comparing -------------------------------------------------
    def call(self, fn, args):
        """``fn`` on fresh copies of ``args`` converted to the learner's types."""
        return fn(*[self.adapt(_fresh(a)) for a in args])

    def _read(self, out, want):
        """The learner's result as NumPy, shaped like ``want``: a tuple of outputs where the truth
        returns a tuple, else one array (a list of numbers included)."""
        if isinstance(out, (tuple, list)) and isinstance(want, tuple):
            return tuple(self._read(o, None) for o in out)
        if out is None:
            return None
        try:
            got = self.to_numpy(out)
        except Exception:  # noqa: BLE001 - the track's conversion knows tensors; plain numbers need none
            got = out
        try:
            if not isinstance(got, (bool, int, float, list, np.generic, np.ndarray)):
                raise TypeError
            got = np.asarray(got, dtype=np.float64) if isinstance(got, list) else got  # numbers, not outputs
            _flatten(got)
            return got
        except Exception:  # noqa: BLE001 - a str, a dict, a list of tensors, ...
            raise _Unreadable(type(out).__name__) from None

    def _same(self, got, want) -> bool:
        g, w = _flatten(got), _flatten(want)
        return len(g) == len(w) and all(
            a.shape == b.shape and np.allclose(a, b, rtol=self.rtol, atol=self.atol, equal_nan=False)
            for a, b in zip(g, w))

    def _which(self, j: int, n: int) -> str:
        if n == 1:
            return "the result"
        name = f"`{self.outputs[j]}`, " if len(self.outputs) == n else ""
        return f"{name}the {_ORDINAL.get(j + 1, f'{j + 1}th')} returned value (of {n}),"

    def _factor(self, results) -> float | None:
        """The ratio got / expected when at least 3 distinct non-trivial expected values, over all
        outputs and cases, share it (fewer could agree by chance), and the near-zero ones match."""
        got = np.concatenate([a.ravel() for _, g, _ in results for a in _flatten(g)])
        want = np.concatenate([b.ravel() for _, _, w in results for b in _flatten(w)])
        scale = np.abs(want).max(initial=0.0)
        big = np.abs(want) > 1e-6 * scale
        if scale == 0 or len(np.unique(np.round(want[big] / scale, 6))) < 3:
            return None
        ratio = got[big] / want[big]
        if not np.allclose(ratio, ratio[0], rtol=1e-3) or np.isclose(ratio[0], 1.0, rtol=self.rtol, atol=0):
            return None
        tiny = np.abs(got[~big]) <= 1e-6 * scale * max(1.0, abs(ratio[0]))  # where the answer is ~0, so is got
        return float(ratio[0]) if tiny.all() else None

    def _where(self, k: int, args) -> str:
        where = f"in test case {k + 1} of {len(self.cases)}"
        try:  # the truth's argument names, when it has a signature
            names = list(inspect.signature(self.truth).parameters)
        except (TypeError, ValueError):
            names = []
        names = names if len(names) >= len(args) else [f"argument {i + 1}" for i in range(len(args))]
        budget = [16]  # print the arguments only when they are short enough to read
        shown = [_show(a, budget) for a in args]
        if all(s is not None for s in shown):
            where += " (" + ", ".join(f"{n}={s}" for n, s in zip(names, shown)) + ")"
        return where

    def _describe(self, results) -> str:
        n = len(_flatten(results[0][2]))
        for _, got, want in results:
            g, w = _flatten(got), _flatten(want)
            if len(g) != len(w):
                return f"it returned {len(g)} value(s); expected {len(w)}."
            for j, (a, b) in enumerate(zip(g, w)):
                if a.shape != b.shape:
                    return f"{self._which(j, n)} has shape {a.shape}; expected shape {b.shape}."
                if not np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
                    return f"{self._which(j, n)} contains NaN or inf where the answer is finite."
        factor = self._factor(results)
        if factor is not None:
            return f"every value is {_as_text(factor, 1.0, False)} times the expected one: a constant factor is off."
        for k, (args, got, want) in enumerate(results):
            boolean = isinstance(want, (bool, np.bool_)) or getattr(want, "dtype", None) == np.bool_  # say True/False
            for j, (a, b) in enumerate(zip(_flatten(got), _flatten(want))):
                bad = ~np.isclose(a, b, rtol=self.rtol, atol=self.atol)
                if not bad.any():
                    continue
                shown = []
                for idx in np.argwhere(bad)[:3]:
                    x, y = float(a[tuple(idx)]), float(b[tuple(idx)])
                    at = f"at [{', '.join(str(int(i)) for i in idx)}] " if a.ndim else ""
                    shown.append(f"{at}got {_as_text(x, y, boolean)}, expected {_as_text(y, x, boolean)}")
                count = f" ({int(bad.sum())} of {a.size} entries differ)" if a.size > 1 else ""
                return f"{self._which(j, n)} differs {self._where(k, args)}{count}: " + "; ".join(shown) + "."
        return "the values differ."  # not reached: some case differs

    def _further(self, fn) -> tuple[str, str] | None:
        """What the values cannot show: gradients, then the extra checks. ``(problem, diagnosis)`` or None."""
        checks = [(extra, EXTRA_CHECK) for extra in self.extra_checks]
        if self.differentiable is not None and self.autodiff is not None:
            checks.insert(0, (lambda f: self.differentiable.problem(self, f), GRADIENT))
        for extra, diagnosis in checks:
            try:
                problem = extra(fn)
            except Exception as e:  # noqa: BLE001 - a learner's bug that only these inputs reveal
                problem = f"on further inputs it raised {type(e).__name__}: {e}"
            if problem:
                return problem, diagnosis
        return None

    def verdict(self, fn) -> Verdict:
        """Judge ``fn`` without printing. ``Verdict.use`` is what the notebook should continue with."""
        fallback = self.fallback or self.truth
        h = f"{self.handle}{self.name}"
        hint = f"Call `{h}.hint()` for a hint (call again for the next one), `{h}.solution()` to see one."
        instead = "Using the reference implementation for now; fix yours and rerun this cell."
        missing = Verdict(NOT_ATTEMPTED, f"{self.name}: not attempted yet. {hint}\n"
                          "Using the reference implementation so the rest of the notebook runs.", fallback)
        if fn is None:
            return missing
        if not callable(fn):
            return Verdict(WRONG, f"{self.name}: expected a function, got {type(fn).__name__}. {instead}", fallback,
                           NOT_A_FUNCTION)
        results = []
        for args in self.cases:
            try:
                out = self.call(fn, args)
            except NotImplementedError:
                return missing
            except Exception as e:  # a learner's bug: report it, do not crash the lesson
                return Verdict(WRONG, f"{self.name}: your function raised {type(e).__name__}: {e}\n{instead}", fallback,
                               RAISED)
            if out is None:
                return Verdict(WRONG, f"{self.name}: your function returned None. Did you forget `return`?\n{instead}",
                               fallback, RETURNED_NONE)
            want = self.truth(*args)
            try:
                results.append((args, self._read(out, want), want))
            except _Unreadable as e:
                return Verdict(WRONG, f"{self.name}: your function returned a {e}, which is not a number, an array "
                               f"or a tensor (nor a tuple of them).\n{instead}", fallback, UNREADABLE)
        if any(not self._same(got, want) for _, got, want in results):
            mistake = next((m for m in self.mistakes
                            if all(self._same(got, m.impl(*args)) for args, got, _ in results)), None)
            name, message = (mistake.name, mistake.message) if mistake else (VALUES_DIFFER, self._describe(results))
            return Verdict(WRONG, f"{self.name}: not quite. {message}\n{hint}\n{instead}", fallback, name)
        further = self._further(fn)  # (problem, diagnosis)
        if further:
            return Verdict(WRONG, f"{self.name}: the values are right, but {further[0]}\n{hint}\n{instead}", fallback,
                           further[1])
        return Verdict(CORRECT, f"{self.name}: correct! ✓", fn)

    def check(self, fn):
        """Print the verdict (and log it, see the module docstring); return the function to go on with."""
        v = self.verdict(fn)
        print(v.message)
        if os.environ.get(VERDICTS_ENV):  # one line per check: a rerun cell appends again, and the last line wins
            with open(os.environ[VERDICTS_ENV], "a", encoding="utf-8") as f:
                f.write(json.dumps({"exercise": self.name, "status": v.status, "diagnosis": v.diagnosis}) + "\n")
        return v.use

    # -- help --------------------------------------------------------------------
    def hint(self, level: int | None = None) -> None:
        """Print hint ``level`` (1-based); without a level, the next one not yet shown."""
        if not self.hints:
            print(f"{self.name}: no hints for this exercise.")
            return
        if level is None:
            level = min(self._hints_shown + 1, len(self.hints))
        if not 1 <= level <= len(self.hints):
            raise ValueError(f"hint level must be between 1 and {len(self.hints)}, got {level!r}")
        self._hints_shown = max(self._hints_shown, level)
        print(f"Hint {level}/{len(self.hints)}: {self.hints[level - 1]}")

    def solution(self) -> None:
        """Print a written-out answer: the solution notebook's own code for this exercise."""
        if self.answer:
            print(f"# One answer to {self.name} (the solution notebook's code):\n")
            print(self.answer)
        else:  # a checker built outside a track (tests, new exercises): the NumPy truth
            print(inspect.getsource(self.truth))
