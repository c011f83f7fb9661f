"""Claims checked by code: a notebook states each conclusion as a check on the numbers it just computed.

    claim = claims.Claims(cfg.budget, RESULTS_PATH)
    claim.ranking("WGAN-GP covers the most modes", modes, order=["WGAN-GP", "GAN"], lower_is_better=False)
    claim.every_seed("WGAN-GP covers more modes than the GAN on every seed", modes, "WGAN-GP", "GAN",
                     lower_is_better=False)

Each call prints one line: at budget ``smoke`` that the claim is not evaluated (two seeds of a
few steps prove nothing; the inputs are still validated, so a broken claim cell fails in CI),
at ``cpu`` and ``gpu`` whether it held, with the numbers that decided. Each claim is also
recorded in the notebook's results JSON (``results.add_claim``), where ``refresh`` and the
runner read it: a claim that does not hold fails ``refresh`` and marks the run failed, and the
course report lists every claim per notebook.

``variants`` always maps a variant name to one value per seed, all variants over the same
seeds, as ``results.record`` takes them. Spreads are sample standard deviations (ddof=1).
A claim about both tracks (:meth:`Claims.tracks_agree`) cannot be decided inside one notebook:
it is recorded as pending and decided by :func:`across_tracks` once both tracks have run.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from . import results as _results

HELD, NOT_HELD, NOT_EVALUATED, PENDING = "held", "did not hold", "not evaluated", "pending"
OUTCOMES = (HELD, NOT_HELD, NOT_EVALUATED, PENDING)
EVALUATED_BUDGETS = ("cpu", "gpu")
_MARK = {HELD: "✓ held", NOT_HELD: "✗ DID NOT HOLD", NOT_EVALUATED: "· not evaluated", PENDING: "… pending"}


@dataclass
class Claim:
    """One conclusion and its outcome. ``evidence`` gives the numbers that decided it."""
    statement: str
    kind: str
    outcome: str
    evidence: str
    data: dict = field(default_factory=dict)  # what a cross-track check needs (values per variant)

    def __str__(self) -> str:
        return f"{_MARK[self.outcome]}: {self.statement} ({self.evidence})"

    def to_dict(self) -> dict:
        return asdict(self)


def _values(variants: Mapping, name: str) -> list[float]:
    if not isinstance(variants, Mapping):
        raise TypeError(f"variants must map a variant name to one value per seed, got {type(variants).__name__}")
    if name not in variants:
        raise KeyError(f"no variant {name!r}; the variants are: {', '.join(map(str, variants))}")
    values = [float(v) for v in variants[name]]
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError(f"variant {name!r} needs one finite value per seed, got {list(variants[name])!r}")
    return values


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def spread(values: Sequence[float]) -> float:
    """Sample standard deviation (ddof=1); 0 for a single value."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _ms(values) -> str:
    return f"{_fmt(mean(values))} ± {_fmt(spread(values))}"


class Claims:
    """The claims of one notebook run at ``budget``, recorded into ``results_path`` (when set)."""

    def __init__(self, budget: str, results_path=None, verbose: bool = True):
        if budget not in ("smoke", "cpu", "gpu"):
            raise ValueError(f"budget must be a resolved budget (smoke, cpu or gpu), got {budget!r}: "
                             "pass cfg.budget, not BUDGET")
        self.budget, self.results_path, self.verbose = budget, results_path, verbose
        self.claims: list[Claim] = []

    @property
    def evaluated(self) -> bool:
        return self.budget in EVALUATED_BUDGETS

    def _add(self, statement: str, kind: str, held: bool | None, evidence: str, data: dict | None = None) -> Claim:
        if not isinstance(statement, str) or not statement.strip():
            raise ValueError("a claim needs its statement: the sentence of the notebook it checks")
        if held is None:
            outcome = PENDING
        elif not self.evaluated:
            outcome, evidence = NOT_EVALUATED, f"budget {self.budget!r}; evaluated at cpu and gpu"
        else:
            outcome = HELD if held else NOT_HELD
        claim = Claim(statement.strip(), kind, outcome, evidence, data or {})
        # Re-running a cell replaces its claim instead of stating it twice.
        self.claims = [c for c in self.claims if c.statement != claim.statement] + [claim]
        _results.add_claim(self.results_path, claim.to_dict())
        if self.verbose:
            print(claim)
        return claim

    # -- the kinds of claim ------------------------------------------------------------
    def ranking(self, statement: str, variants: Mapping, order: Sequence[str], lower_is_better: bool) -> Claim:
        """The variants' means are strictly in ``order``, best first."""
        if len(order) < 2:
            raise ValueError("a ranking needs at least two variants in `order`")
        means = [mean(_values(variants, name)) for name in order]
        held = all((a < b) if lower_is_better else (a > b) for a, b in zip(means, means[1:]))
        sign = " < " if lower_is_better else " > "
        evidence = "means " + sign.join(f"{n} {_fmt(m)}" for n, m in zip(order, means))
        return self._add(statement, "ranking", held, evidence)

    def best(self, statement: str, variants: Mapping, name: str, lower_is_better: bool) -> Claim:
        """``name`` has the best mean of all ``variants`` (strictly)."""
        means = {n: mean(_values(variants, n)) for n in variants}
        _values(variants, name)
        others = [m for n, m in means.items() if n != name]
        held = all((means[name] < m) if lower_is_better else (means[name] > m) for m in others)
        ordered = sorted(means.items(), key=lambda kv: kv[1], reverse=not lower_is_better)
        evidence = "means, best first: " + ", ".join(f"{n} {_fmt(m)}" for n, m in ordered)
        return self._add(statement, "best", held, evidence)

    def every_seed(self, statement: str, variants: Mapping, better: str, worse: str, lower_is_better: bool) -> Claim:
        """``better`` beats ``worse`` on every seed, seed by seed (paired: both ran on the same seeds)."""
        a, b = _values(variants, better), _values(variants, worse)
        if len(a) != len(b):
            raise ValueError(f"{better!r} has {len(a)} seeds and {worse!r} {len(b)}: "
                             "a paired claim needs the same seeds")
        diffs = [(y - x) if lower_is_better else (x - y) for x, y in zip(a, b)]
        wins = sum(d > 0 for d in diffs)
        evidence = (f"{better} better than {worse} on {wins} of {len(diffs)} seeds; per-seed advantage "
                    + ", ".join(f"{d:+.3g}" for d in diffs))
        return self._add(statement, "every seed", wins == len(diffs), evidence)

    def beyond_spread(self, statement: str, variants: Mapping, better: str, worse: str, lower_is_better: bool) -> Claim:
        """``better``'s mean beats ``worse``'s by more than the larger of the two seed spreads."""
        a, b = _values(variants, better), _values(variants, worse)
        gap = (mean(b) - mean(a)) if lower_is_better else (mean(a) - mean(b))
        widest = max(spread(a), spread(b))
        evidence = (f"{better} {_ms(a)} vs {worse} {_ms(b)}: advantage {gap:+.3g}, larger spread {_fmt(widest)}")
        return self._add(statement, "beyond spread", gap > widest, evidence)

    def all_seeds(self, statement: str, variants: Mapping, name: str, at_least: float | None = None,
                  at_most: float | None = None) -> Claim:
        """Every seed of ``name`` lies within the given bound(s)."""
        if at_least is None and at_most is None:
            raise ValueError("all_seeds needs at_least, at_most or both")
        v = _values(variants, name)
        ok = [(at_least is None or x >= at_least) and (at_most is None or x <= at_most) for x in v]
        bound = " and ".join(s for s in (at_least is not None and f">= {at_least:g}",
                                         at_most is not None and f"<= {at_most:g}") if s)
        evidence = f"{name} per seed " + ", ".join(_fmt(x) for x in v) + f"; {sum(ok)} of {len(v)} {bound}"
        return self._add(statement, "all seeds", all(ok), evidence)

    def check(self, statement: str, held: bool, evidence: str) -> Claim:
        """Any other conclusion: ``held`` computed in the notebook, ``evidence`` the numbers that decided it."""
        if not isinstance(held, (bool, int)) or not isinstance(evidence, str) or not evidence:
            raise TypeError("check(statement, held, evidence) needs a bool and a non-empty evidence string")
        return self._add(statement, "check", bool(held), evidence)

    def tracks_agree(self, statement: str, variants: Mapping, atol: float = 0.0) -> Claim:
        """Each variant's mean agrees with the other track's within the larger seed spread (or ``atol``).

        Recorded as pending: :func:`across_tracks` decides it once both tracks' notebooks have run.
        """
        values = {name: _values(variants, name) for name in variants}
        if not values:
            raise ValueError("tracks_agree needs at least one variant")
        evidence = "decided when both tracks have run; this track: " + ", ".join(
            f"{n} {_ms(v)}" for n, v in values.items())
        if not self.evaluated:
            return self._add(statement, "tracks agree", False, evidence)  # outcome: not evaluated
        return self._add(statement, "tracks agree", None, evidence, {"values": values, "atol": float(atol)})

    def summary(self) -> str:
        """One line: how many claims held, did not hold, were not evaluated or are pending."""
        counts = {o: sum(c.outcome == o for c in self.claims) for o in OUTCOMES}
        return ", ".join(f"{n} {o}" for o, n in counts.items() if n) or "no claims"


# -- decisions outside a notebook (the runner, refresh and the report) ----------------------


def failed(recorded: dict | None) -> list[dict]:
    """The claims in a results dict that did not hold."""
    return [c for c in (recorded or {}).get("claims", []) if c.get("outcome") == NOT_HELD]


def agree(a: Mapping, b: Mapping, atol: float = 0.0) -> tuple[bool, str]:
    """Whether two tracks' per-seed values agree, variant by variant, within the larger spread (or atol)."""
    missing = sorted(set(a) ^ set(b))
    if missing:
        return False, f"variants in one track only: {', '.join(missing)}"
    ok, parts = True, []
    for name in a:
        gap, widest = abs(mean(a[name]) - mean(b[name])), max(spread(a[name]), spread(b[name]), atol)
        ok &= gap <= widest
        parts.append(f"{name}: {_ms(a[name])} vs {_ms(b[name])} (gap {_fmt(gap)}, allowed {_fmt(widest)})")
    return ok, "; ".join(parts)


def across_tracks(first: dict | None, second: dict | None) -> list[dict]:
    """Decide the pending ``tracks_agree`` claims of one lesson's two tracks (results dicts).

    Returns one claim dict per statement made by either track, decided when both tracks hold it
    with values, pending when one track has not run or did not state it.
    """
    def pending(res):
        return {c["statement"]: c for c in (res or {}).get("claims", [])
                if c.get("kind") == "tracks agree" and c.get("outcome") == PENDING}

    mine, theirs = pending(first), pending(second)
    decided = []
    for statement in dict.fromkeys([*mine, *theirs]):
        if statement in mine and statement in theirs:
            atol = max(mine[statement]["data"].get("atol", 0.0), theirs[statement]["data"].get("atol", 0.0))
            held, evidence = agree(mine[statement]["data"]["values"], theirs[statement]["data"]["values"], atol)
            decided.append({"statement": statement, "kind": "tracks agree", "outcome": HELD if held else NOT_HELD,
                            "evidence": evidence})
        else:
            decided.append({"statement": statement, "kind": "tracks agree", "outcome": PENDING,
                            "evidence": "stated in one track only, or the other track has not run"})
    return decided
