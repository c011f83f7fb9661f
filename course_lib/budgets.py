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
    "01_regularization": {
        "common": {
            "n_small": 200, "batch_size": 32, "vae_hidden": (256, 128), "vae_z_dim": 16, "vae_lr": 2e-3,
            "wd_l2": 1e-2, "wd_adamw": 1.0, "dropout": 0.2, "elbo_samples": 10,
            "gan_hidden": (128, 256), "gan_z_dim": 16, "gan_lr": 5e-4, "gan_betas": (0.5, 0.999), "d_dropout": 0.3,
        },
        "smoke": {"seeds": (0, 1), "vae_steps": 30, "eval_every": 10, "gan_steps": 30, "gan_eval_every": 10},
        "cpu": {"seeds": (0, 1, 2), "vae_steps": 2500, "eval_every": 125, "gan_steps": 2000, "gan_eval_every": 100},
        "gpu": {"seeds": (0, 1, 2, 3, 4), "vae_steps": 8000, "eval_every": 250, "gan_steps": 6000,
                "gan_eval_every": 250},
    },
    "02_early_stopping": {
        "common": {
            "batch_size": 24, "n_small": 120, "vae_hidden": (256, 128), "vae_z_dim": 16, "vae_lr": 2e-3,
            "patience": 30, "min_delta": 0.02, "val_samples": 2, "seed_check_every": 10, "elbo_samples": 10,
            "gan_batch_size": 64, "gan_hidden": (128, 256), "gan_z_dim": 16, "gan_lr": 5e-4, "gan_betas": (0.5, 0.999),
            "gan_patience": 6, "resume_epochs": 60, "crash_epoch": 25,
        },
        "smoke": {"seeds": (0, 1), "max_epochs": 12, "patience": 3, "gan_steps": 40, "gan_eval_every": 10,
                  "gan_patience": 2, "resume_epochs": 6, "crash_epoch": 3},
        "cpu": {"seeds": (0, 1, 2), "max_epochs": 500, "gan_steps": 3000, "gan_eval_every": 150},
        "gpu": {"seeds": (0, 1, 2, 3, 4), "max_epochs": 800, "gan_steps": 10000, "gan_eval_every": 250},
    },
    "03_lr_schedules": {
        "common": {
            "batch_size": 64, "vae_hidden": (256, 128), "vae_z_dim": 8, "elbo_samples": 10,
            # a large base rate: where a schedule matters (the baseline's 1e-3 barely moves here)
            "vae_lr": 6e-3, "milestones": (0.5, 0.75), "gamma": 0.5, "warmup_frac": 0.1, "min_lr": 0.0,
            "plateau_factor": 0.5, "plateau_patience": 2, "plateau_min_delta": 0.0,
            "gan_hidden": (128, 256), "gan_z_dim": 16, "gan_betas": (0.5, 0.999),
            "gan_lr_g": 2e-4, "ttur_ratio": 4.0,
        },
        "smoke": {"seeds": (0, 1), "vae_steps": 40, "eval_every": 10, "gan_steps": 30},
        "cpu": {"seeds": (0, 1, 2), "vae_steps": 1500, "eval_every": 100, "gan_steps": 2000},
        "gpu": {"seeds": (0, 1, 2, 3, 4), "vae_steps": 6000, "eval_every": 250, "gan_steps": 8000},
    },
    "04_batch_norm": {
        "common": {
            "batch_size": 64, "gan_hidden": (128, 256), "gan_z_dim": 16, "gan_lr": 5e-4, "gan_betas": (0.5, 0.999),
            "n_eval_points": 4, "lag_momentum": 0.001, "warmup_batches": 50,
        },
        "smoke": {"seeds": (0, 1), "gan_steps": 40},
        "cpu": {"seeds": (0, 1, 2), "gan_steps": 1500},
        "gpu": {"seeds": (0, 1, 2, 3, 4), "gan_steps": 6000},
    },
    "05_gradient_penalty": {
        "common": {
            # 2-D mixtures: every variant gets the same generator steps and the same rates (a critic 4x
            # faster than the generator, TTUR); the WGANs take n_critic critic steps per generator step.
            # All runs of one variant (seeds x mixtures) train together as one stacked network.
            "toy_mixtures": ("ring8", "grid25"), "toy_hidden": (64, 64), "toy_z_dim": 4, "toy_batch_size": 128,
            "toy_lr": 5e-4, "toy_lr_d": 2e-3, "toy_points": 5000,
            "gan_betas": (0.5, 0.9), "clip_betas": (0.0, 0.9), "gp_betas": (0.5, 0.9),
            # lambda = 1, not the paper's 10: on these short 2-D runs 10 slowed the modes' sharpening
            "n_critic": 2, "clip": 0.01, "gp_lambda": 1.0, "r1_gamma": 0.1,
            "toy_eval_samples": 2000, "field_lim": 3.0, "field_n": 61,
            # digits (FCD): a standard GAN against WGAN-GP (the paper's n_critic and lambda), with a
            # LayerNorm critic, at equal critic updates
            "img_hidden": (128, 256), "img_critic_hidden": (256, 128), "img_z_dim": 16, "img_batch_size": 64,
            "img_lr": 5e-4, "img_n_critic": 5, "img_gp_lambda": 10.0,
        },
        "smoke": {"seeds": (0, 1), "toy_steps": 20, "img_seeds": (0, 1), "img_steps": 6},
        "cpu": {"seeds": (0, 1, 2, 3, 4), "toy_steps": 2400, "img_seeds": (0, 1, 2, 3, 4), "img_steps": 200},
        "gpu": {"seeds": tuple(range(8)), "toy_steps": 20000, "toy_hidden": (128, 128, 128), "toy_batch_size": 256,
                "img_seeds": (0, 1, 2, 3, 4), "img_steps": 2000},
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
