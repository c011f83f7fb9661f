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
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

CORRECT, WRONG, NOT_ATTEMPTED = "correct", "wrong", "not attempted"


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``impl`` reproduces it (NumPy), ``message`` explains it."""
    name: str
    impl: Callable
    message: str


@dataclass
class Verdict:
    status: str
    message: str
    use: Any = None  # what the notebook should go on with

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return self.message


def _flatten(out) -> list[np.ndarray]:
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _flatten(o)]
    return [np.asarray(out, dtype=np.float64)]


@dataclass
class Exercise:
    """One exercise. See the module docstring.

    ``cases``: argument tuples of NumPy arrays or numbers. ``truth``: NumPy reference.
    ``fallback``: what the notebook uses when the answer is missing or wrong (by default
    ``truth``; a framework track passes its own tensor implementation). ``adapt``: turns
    NumPy arguments into the learner's types (e.g. tensors), ``to_numpy`` turns the result
    back. ``extra_checks``: callables ``f(fn) -> message or None`` for what outputs alone
    cannot show (e.g. whether gradients reach some parameters).
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
    answer: str | None = None  # the written-out answer ``solution()`` prints (a track's solution notebook cell)
    rtol: float = 1e-4
    atol: float = 1e-5
    handle: str = "ex."  # how notebooks reach the checker: ``from course_lib.<track> import exercises as ex``
    _hints_shown: int = field(default=0, repr=False)

    # -- running and comparing -------------------------------------------------
    def _run(self, fn, args):
        out = fn(*[self.adapt(a) for a in args])
        if isinstance(out, (tuple, list)):
            return type(out)(self.to_numpy(o) for o in out)
        return None if out is None else self.to_numpy(out)

    def _same(self, got, want) -> bool:
        g, w = _flatten(got), _flatten(want)
        return len(g) == len(w) and all(
            a.shape == b.shape and np.allclose(a, b, rtol=self.rtol, atol=self.atol, equal_nan=False)
            for a, b in zip(g, w))

    def _describe(self, got, want) -> str:
        g, w = _flatten(got), _flatten(want)
        if len(g) != len(w):
            return f"it returned {len(g)} value(s); expected {len(w)}."
        for a, b in zip(g, w):
            if a.shape != b.shape:
                return f"it returned shape {a.shape}; expected {b.shape}."
            if not np.all(np.isfinite(a)):
                return "it returned NaN or inf where the answer is finite."
        a, b = g[0].ravel(), w[0].ravel()
        mask = np.abs(b) > 1e-8
        if mask.any():
            ratio = a[mask] / b[mask]
            if np.allclose(ratio, ratio[0], rtol=1e-3) and not np.isclose(ratio[0], 1.0):
                return f"every value is {ratio[0]:.4g} times the expected one: a constant factor is off."
        return f"the values differ (got {np.array2string(a[:4], precision=4)}..., expected {np.array2string(b[:4], precision=4)}...)."

    def verdict(self, fn) -> Verdict:
        """Judge ``fn`` without printing. ``Verdict.use`` is what the notebook should continue with."""
        fallback = self.fallback or self.truth
        h = f"{self.handle}{self.name}"
        hint = f"Call `{h}.hint()` for a hint (call again for the next one), `{h}.solution()` to see one."
        if fn is None:
            return Verdict(NOT_ATTEMPTED, f"{self.name}: not attempted yet. {hint}\n"
                           "Using the reference implementation so the rest of the notebook runs.", fallback)
        if not callable(fn):
            return Verdict(WRONG, f"{self.name}: expected a function, got {type(fn).__name__}. "
                           "Using the reference implementation for now.", fallback)
        results = []
        for args in self.cases:
            want = self.truth(*args)
            try:
                got = self._run(fn, args)
            except NotImplementedError:
                return Verdict(NOT_ATTEMPTED, f"{self.name}: not attempted yet. {hint}\n"
                               "Using the reference implementation so the rest of the notebook runs.", fallback)
            except Exception as e:  # a learner's bug: report it, do not crash the lesson
                return Verdict(WRONG, f"{self.name}: your function raised {type(e).__name__}: {e}\n"
                               "Using the reference implementation for now; fix it and rerun this cell.", fallback)
            if got is None:
                return Verdict(WRONG, f"{self.name}: your function returned None. Did you forget `return`?\n"
                               "Using the reference implementation for now.", fallback)
            results.append((args, got, want))
        bad = [(args, got, want) for args, got, want in results if not self._same(got, want)]
        if bad:
            message = None
            for m in self.mistakes:
                if all(self._same(got, m.impl(*args)) for args, got, _ in results):
                    message = m.message
                    break
            if message is None:
                _, got, want = bad[0]
                message = self._describe(got, want)
            return Verdict(WRONG, f"{self.name}: not quite. {message}\n{hint}\n"
                           "Using the reference implementation for now; fix yours and rerun this cell.", fallback)
        for extra in self.extra_checks:
            problem = extra(fn)
            if problem:
                return Verdict(WRONG, f"{self.name}: the values are right, but {problem}\n{hint}\n"
                               "Using the reference implementation for now.", fallback)
        return Verdict(CORRECT, f"{self.name}: correct! ✓", fn)

    def check(self, fn):
        """Print the verdict and return the function the notebook should go on with."""
        v = self.verdict(fn)
        print(v.message)
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
