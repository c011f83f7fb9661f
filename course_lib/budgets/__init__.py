"""Compute budgets and every lesson's hyperparameters, in the one place both tracks read: one module per
lesson (``lessonNN_topic.py``, a ``VALUES`` table), gathered here.

``smoke``: CI, the whole notebook in well under a minute. ``cpu``: the technique's effect
visible over several seeds in a few minutes on a 2-core laptop. ``gpu``: bigger runs, more
seeds. ``auto``: ``$COURSE_BUDGET`` when set, else ``gpu`` or ``cpu`` by what is available.

Each hyperparameter sits on its own line with what it is and, where it departs from a paper or
a library default, why. A value that changes with the budget is written ``_b(smoke, cpu, gpu)``.
Run lengths and seed counts are sized to each budget's time; a reason that was measured says so.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping

from .by_budget import _ByBudget

BUDGETS = ("smoke", "cpu", "gpu", "auto")
ENV_VAR = "COURSE_BUDGET"


def resolve(budget: str, gpu_available: bool = False) -> str:
    """Turn ``auto`` into a concrete budget; reject anything unknown with the valid names."""
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; expected one of: {', '.join(BUDGETS)}")
    if budget != "auto":
        return budget
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        if env not in BUDGETS[:-1]:
            raise ValueError(f"${ENV_VAR}={env!r} is not a budget; expected one of: {', '.join(BUDGETS[:-1])}")
        return env
    return "gpu" if gpu_available else "cpu"


# One module per lesson, lessonNN_topic.py (found by its name), each a VALUES table; both tracks read them through
# ``course_lib.<framework>.setup``; notebooks never hard-code them.
# Seeds are offsets: a notebook runs SEED + s for each s. Papers cited: DCGAN (Radford et al. 2015),
# WGAN (Arjovsky et al. 2017), WGAN-GP (Gulrajani et al. 2017), R1 (Mescheder et al. 2018), TTUR
# (Heusel et al. 2017), AdamW (Loshchilov & Hutter 2019).
_LESSONS = {info.name.removeprefix("lesson"): importlib.import_module(f"{__name__}.{info.name}").VALUES
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name) if info.name.startswith("lesson")}
LESSONS = tuple(_LESSONS)


class Config(Mapping):
    """A read-only mapping whose keys also read as attributes: ``cfg.seeds``, ``cfg["seeds"]``."""

    def __init__(self, values: dict):
        self._values = dict(values)

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no hyperparameter {key!r}; this lesson has: {', '.join(sorted(self))}") from None

    def __repr__(self):
        return f"Config({self._values!r})"


def config(lesson: str, budget: str, gpu_available: bool = False) -> Config:
    """Hyperparameters of ``lesson`` at ``budget`` (resolved), with ``budget`` itself included."""
    if lesson not in _LESSONS:
        raise ValueError(f"unknown lesson {lesson!r}; expected one of: {', '.join(LESSONS)}")
    concrete = resolve(budget, gpu_available)
    values = {key: value.values[concrete] if isinstance(value, _ByBudget) else value
              for key, value in _LESSONS[lesson].items()}
    return Config({**values, "budget": concrete, "lesson": lesson})
