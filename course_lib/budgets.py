"""Compute budgets and every lesson's hyperparameters, in the one place both tracks read.

``smoke``: CI, the whole notebook in well under a minute. ``cpu``: the technique's effect
visible over several seeds in a few minutes on a 2-core laptop. ``gpu``: bigger runs, more
seeds. ``auto``: ``$COURSE_BUDGET`` when set, else ``gpu`` or ``cpu`` by what is available.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

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


# Per lesson: values common to every budget, then what each budget changes.
# Both tracks read these through ``course_lib.<framework>.setup``; notebooks never hard-code them.
_LESSONS = {
    "00_baselines": {
        "common": {
            "batch_size": 64,
            "vae_hidden": (256, 128), "vae_z_dim": 8, "vae_lr": 1e-3,
            "gan_hidden": (128, 256), "gan_z_dim": 16, "gan_lr": 5e-4, "gan_betas": (0.5, 0.999),
            "toy_mixture": "ring8", "toy_hidden": (128, 128), "toy_z_dim": 4, "toy_lr": 1e-3,
            "toy_betas": (0.5, 0.999), "toy_batch_size": 256, "toy_eval_samples": 2000,
            "eval_every": 250, "elbo_samples": 10,
        },
        "smoke": {"seeds": (0, 1), "vae_steps": 40, "gan_steps": 40, "toy_steps": 40, "eval_every": 20},
        "cpu": {"seeds": (0, 1, 2, 3, 4), "vae_steps": 3000, "gan_steps": 4000, "toy_steps": 2500},
        "gpu": {"seeds": tuple(range(8)), "vae_steps": 10000, "gan_steps": 15000, "toy_steps": 8000,
                "eval_every": 500},
    },
}

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
    spec = _LESSONS[lesson]
    return Config({**spec["common"], **spec[concrete], "budget": concrete, "lesson": lesson})
