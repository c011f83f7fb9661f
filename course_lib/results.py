"""Record a notebook's headline comparison as JSON for the runner and the report.

The format is the contract between notebooks, the runner and the report::

    {"metric": "FCD", "lower_is_better": true,
     "variants": {"VAE": [12.1, 11.8, 12.6], "GAN": [...]},   # one value per seed
     "claims": [{"statement": ..., "kind": ..., "outcome": "held", "evidence": ...}, ...],
     ...anything else useful (floor, seeds, budget)}

The claims (:mod:`course_lib.claims`) may be stated before or after the headline is recorded:
both are kept per path in this process and written together.

When a notebook runs without ``RESULTS_PATH`` but ``$COURSE_RESULTS_PATH`` is set (``refresh``
sets it, as it cannot inject parameters), results go there.
"""
from __future__ import annotations

import json
import math
import numbers
import os

from .files import atomic_write_text


def validate(results: dict) -> dict:
    """Raise ``ValueError`` naming what is wrong unless ``results`` follows the format."""
    if not isinstance(results, dict):
        raise ValueError(f"results must be a dict, got {type(results).__name__}")
    for key, kind in (("metric", str), ("lower_is_better", bool), ("variants", dict)):
        if not isinstance(results.get(key), kind):
            raise ValueError(f"results[{key!r}] must be a {kind.__name__}, got {results.get(key)!r}")
    if not results["variants"]:
        raise ValueError("results['variants'] is empty: record at least one variant")
    for name, values in results["variants"].items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"variant {name!r} needs a non-empty list with one value per seed, got {values!r}")
        for v in values:
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise ValueError(f"variant {name!r} holds {v!r}; every value must be a finite number")
    for claim in results.get("claims", []):
        if not isinstance(claim, dict) or not {"statement", "outcome", "evidence"} <= set(claim):
            raise ValueError(f"each claim needs a statement, an outcome and its evidence, got {claim!r}")
    return results


ENV_VAR = "COURSE_RESULTS_PATH"

# Per destination, what this process recorded: the headline (once recorded) and the claims.
_headlines: dict[str, dict] = {}
_claims: dict[str, list[dict]] = {}


def destination(path):
    """Where results go: ``path`` when given, else ``$COURSE_RESULTS_PATH``, else nowhere (None)."""
    path = path or os.environ.get(ENV_VAR, "").strip() or None
    return None if path is None else str(path)


def _write(path: str) -> None:
    data = {**_headlines[path], "claims": _claims.get(path, [])}
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def add_claim(path, claim: dict) -> None:
    """Keep ``claim`` (a :class:`course_lib.claims.Claim` as a dict) for ``path``; rewrite the file when
    the headline is already there. A claim with the same statement replaces the earlier one."""
    path = destination(path)
    if path is None:
        return
    kept = [c for c in _claims.get(path, []) if c["statement"] != claim["statement"]]
    _claims[path] = kept + [claim]
    if path in _headlines:
        _write(path)


def record(path, metric: str, lower_is_better: bool, variants: dict, **extra) -> dict:
    """Build, validate and (when ``path`` is set) atomically write the results JSON.

    ``variants`` maps a variant name to one value per seed. Returns the dict, so a
    notebook can show it whether or not ``RESULTS_PATH`` was given.
    """
    def number(name, v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"variant {name!r} holds {v!r}; every value must be a finite number")
        return float(v)

    if "claims" in extra:
        raise ValueError("claims are recorded with course_lib.claims.Claims, not passed to record()")
    if not isinstance(variants, dict):
        raise ValueError(f"variants must map a variant name to one value per seed, got {type(variants).__name__}")
    results = {
        "metric": metric,
        "lower_is_better": lower_is_better,
        "variants": {str(k): [number(k, v) for v in vals] for k, vals in variants.items()},
        **extra,
    }
    validate(results)
    path = destination(path)
    if path:
        _headlines[path] = results
        _write(path)
    return results


def load(path) -> dict:
    """Read and validate a results JSON written by :func:`record`."""
    with open(path) as f:
        return validate(json.load(f))


def summary(results: dict) -> dict:
    """Per variant: mean, standard deviation (ddof=1 where n > 1) and n."""
    out = {}
    for name, values in validate(results)["variants"].items():
        n = len(values)
        mean = sum(values) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        out[name] = {"mean": mean, "std": std, "n": n}
    return out
