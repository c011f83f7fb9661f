"""Record a notebook's headline comparison as JSON for the runner and the report.

The format is the contract between notebooks, the runner and the report::

    {"metric": "FCD", "lower_is_better": true,
     "variants": {"VAE": [12.1, 11.8, 12.6], "GAN": [...]},   # one value per seed
     ...anything else useful (floor, seeds, budget)}
"""
from __future__ import annotations

import json
import math
import numbers

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
    return results


def record(path, metric: str, lower_is_better: bool, variants: dict, **extra) -> dict:
    """Build, validate and (when ``path`` is set) atomically write the results JSON.

    ``variants`` maps a variant name to one value per seed. Returns the dict, so a
    notebook can show it whether or not ``RESULTS_PATH`` was given.
    """
    def number(name, v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"variant {name!r} holds {v!r}; every value must be a finite number")
        return float(v)

    if not isinstance(variants, dict):
        raise ValueError(f"variants must map a variant name to one value per seed, got {type(variants).__name__}")
    results = {
        "metric": metric,
        "lower_is_better": lower_is_better,
        "variants": {str(k): [number(k, v) for v in vals] for k, vals in variants.items()},
        **extra,
    }
    validate(results)
    if path:
        atomic_write_text(path, json.dumps(results, indent=2, sort_keys=True) + "\n")
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
