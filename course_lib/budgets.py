"""Compute budgets and every lesson's hyperparameters, in the one place both tracks read.

``smoke``: CI, the whole notebook in well under a minute. ``cpu``: the technique's effect
visible over several seeds in a few minutes on a 2-core laptop. ``gpu``: bigger runs, more
seeds. ``auto``: ``$COURSE_BUDGET`` when set, else ``gpu`` or ``cpu`` by what is available.

Each hyperparameter sits on its own line with what it is and, where it departs from a paper or
a library default, why. A value that changes with the budget is written ``_b(smoke, cpu, gpu)``.
Run lengths and seed counts are sized to each budget's time; a reason that was measured says so.
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


class _ByBudget:
    """One hyperparameter whose value depends on the budget."""
    __slots__ = ("values",)

    def __init__(self, values: dict):
        self.values = values


def _b(smoke, cpu, gpu) -> _ByBudget:
    """A hyperparameter's value at each budget, in the order smoke, cpu, gpu."""
    return _ByBudget({"smoke": smoke, "cpu": cpu, "gpu": gpu})


# Both tracks read these through ``course_lib.<framework>.setup``; notebooks never hard-code them.
# Seeds are offsets: a notebook runs SEED + s for each s. Papers cited: DCGAN (Radford et al. 2015),
# WGAN (Arjovsky et al. 2017), WGAN-GP (Gulrajani et al. 2017), R1 (Mescheder et al. 2018), TTUR
# (Heusel et al. 2017), AdamW (Loshchilov & Hutter 2019).
_LESSONS = {
    "00_baselines": {
        "batch_size": 64,                   # digits VAE and GAN minibatch
        "vae_hidden": (256, 128),           # VAE encoder widths; the decoder mirrors them
        "vae_z_dim": 8,                     # VAE latent size
        "vae_lr": 1e-3,                     # VAE Adam rate: Adam's default in both frameworks
        "gan_hidden": (128, 256),           # generator widths: z -> 128 -> 256 -> 64 pixels
        "gan_z_dim": 16,                    # generator noise size
        "gan_lr": 5e-4,                     # G and D Adam rate (DCGAN: 2e-4), raised for the short cpu runs
        "gan_betas": (0.5, 0.999),          # DCGAN's: beta1 0.9 made DCGAN's training oscillate
        "toy_mixture": "ring8",             # 8 Gaussians on a circle: known modes, so they can be counted
        "toy_hidden": (128, 128),           # 2-D generator and discriminator widths
        "toy_z_dim": 4,                     # 2-D generator noise size
        "toy_lr": 1e-3,                     # 2-D G and D Adam rate, chosen to fit the cpu budget's 2500 steps
        "toy_betas": (0.5, 0.999),          # DCGAN's, as for digits
        "toy_batch_size": 256,              # 2-D points per batch
        "toy_eval_samples": 2000,           # samples that modes and high-quality share count
        "eval_every": _b(20, 250, 500),     # steps between points of the training curves
        "elbo_samples": 10,                 # noise draws the test negative ELBO averages
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), tuple(range(8))),  # one seed proves nothing
        "vae_steps": _b(40, 3000, 10000),   # VAE steps; cpu: the lesson in ~2 minutes
        "gan_steps": _b(40, 4000, 15000),   # digits GAN steps, sized like vae_steps
        "toy_steps": _b(40, 2500, 8000),    # 2-D GAN steps, sized like vae_steps
        "demo_steps": _b(20, 300, 300),     # the short runs of the notebook's own steps: enough to see the losses move
    },
    "01_regularization": {
        "n_small": 200,                     # training images: few enough for the VAE to overfit
        "batch_size": 32,                   # both models' minibatch (6 steps per epoch)
        "vae_hidden": (256, 128),           # VAE widths, as in lesson 00
        "vae_z_dim": 16,                    # VAE latent size
        "vae_lr": 2e-3,                     # Adam rate of every VAE variant, twice Adam's default
        # The two decays were each set once, on one seed, to a value that helps without crippling the fit:
        # the same number means different things in the two rules (the notebook's section 3).
        "wd_l2": 1e-2,                      # L2 in Adam: (wd / 2) * sum of W^2 added to the loss
        "wd_adamw": 1.0,                    # AdamW: 100x PyTorch's default 1e-2; shrinks lr * wd = 2e-3 a step
        "dropout": 0.2,                     # VAE dropout rate after every hidden layer
        "elbo_samples": 10,                 # noise draws the final nELBOs average
        "gan_hidden": (128, 256),           # generator widths, as in lesson 00
        "gan_z_dim": 16,                    # generator noise size
        "gan_lr": 5e-4,                     # G and D Adam rate, lesson 00's
        "gan_betas": (0.5, 0.999),          # DCGAN's
        "d_dropout": 0.3,                   # D dropout of the "dropout" GAN variant (More exercises)
        # 5 seeds, the course's standard, fit cpu's 3 minutes: on a quiet machine (load 1 to 2) one seed's six runs
        # took 25 s (PyTorch) and 23 s (TF), ~2.5 min a notebook; refresh took 357 s and 210 s on shared cores (load ~5).
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),  # one seed proves nothing
        "vae_steps": _b(30, 2500, 8000),    # long enough for validation to stop improving
        "eval_every": _b(10, 125, 250),     # VAE steps between train/validation evaluations
        "gan_steps": _b(30, 2000, 6000),    # long enough for D's train/held-out gap to open
        "gan_eval_every": _b(10, 100, 250),  # GAN steps between D-gap and FCD checks
    },
    "02_early_stopping": {
        "batch_size": 24,                   # VAE minibatch: 5 steps per epoch
        "n_small": 120,                     # training images: overfitting shows in a couple of minutes
        "vae_hidden": (256, 128),           # VAE widths, as in lesson 00
        "vae_z_dim": 16,                    # VAE latent size, as in lesson 01
        "vae_lr": 2e-3,                     # VAE Adam rate, as in lesson 01
        # Keras' EarlyStopping defaults are patience 0 and min_delta 0: stop at the first epoch that is not
        # a new best. Per-epoch validation losses are noisy, so the rule waits and ignores tiny gains.
        "patience": _b(3, 30, 30),          # epochs without an improvement before stopping
        "min_delta": 0.02,                  # nats an epoch must beat the best by to count
        "val_samples": 2,                   # noise draws per validation nELBO: it runs every epoch
        "seed_check_every": 10,             # the seed document checks every 10 epochs
        "elbo_samples": 10,                 # noise draws the test nELBO averages
        "gan_batch_size": 64,               # GAN minibatch, lesson 00's
        "gan_hidden": (128, 256),           # generator widths, as in lesson 00
        "gan_z_dim": 16,                    # generator noise size
        "gan_lr": 5e-4,                     # G and D Adam rate, lesson 00's
        "gan_betas": (0.5, 0.999),          # DCGAN's
        "gan_patience": _b(2, 6, 6),        # evaluations a GAN rule (G loss, val FCD) waits
        "resume_epochs": _b(6, 60, 60),     # length of the checkpoint demo's runs
        "crash_epoch": _b(3, 25, 25),       # where the demo's run is interrupted, mid-run
        # 5 seeds, the course's standard, fit cpu's 3 minutes: refresh took 79 s (PyTorch) and 123 s (TF) on
        # 2 cores shared with other jobs (load average about 3).
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),  # seeds of the VAE and GAN experiments
        "max_epochs": _b(12, 500, 800),     # the one full run per seed every rule is read from
        "gan_steps": _b(40, 3000, 10000),   # GAN generator steps, sized to the budget's time
        "gan_eval_every": _b(10, 150, 250),  # GAN steps between validation-FCD checks
    },
    "03_lr_schedules": {
        "batch_size": 64,                   # VAE and GAN minibatch
        "vae_hidden": (256, 128),           # VAE widths, as in lesson 00
        "vae_z_dim": 8,                     # VAE latent size, as in lesson 00
        "elbo_samples": 10,                 # noise draws the test nELBO averages
        "vae_lr": 6e-3,                     # base rate, 6x Adam's default: at 1e-3 schedules end about alike
        "milestones": (0.5, 0.75),          # step cuts at 50% and 75% of the run, as the seed meant
        "gamma": 0.5,                       # factor per milestone: the seed's halving (PyTorch's default 0.1)
        "warmup_frac": 0.1,                 # warmup + cosine: the ramp takes the first 10% of steps
        "min_lr": 0.0,                      # where the cosine ends (CosineAnnealingLR's default)
        # Reduce on plateau: the framework defaults (factor 0.1, patience 10, min_delta 1e-4) could not cut
        # before the 11th of the cpu run's 15 evaluations; this halves after 2 without any gain.
        "plateau_factor": 0.5,              # factor at each cut
        "plateau_patience": 2,              # evaluations without a gain, as Keras counts (PyTorch: 1)
        "plateau_min_delta": 0.0,           # any gain counts
        "gan_hidden": (128, 256),           # generator widths, as in lesson 00
        "gan_z_dim": 16,                    # generator noise size
        "gan_betas": (0.5, 0.999),          # DCGAN's
        "gan_lr_g": 2e-4,                   # G's rate in the TTUR arm and the first control: DCGAN's
        "ttur_ratio": 4.0,                  # TTUR arm: D's rate is 4x G's; G keeps its rate (see below)
        # The textbook TTUR pair (G 1e-4, D 4e-4) also halves G's rate, which a short run may not afford
        # (More exercises 2). Two controls: equal rates at G's rate, and equal rates at D's TTUR rate (both
        # networks learn faster), so that "D learns more" is not mistaken for "D learns faster than G".
        # 5 seeds (3 before): refresh measured 263 s (PyTorch) and 293 s (TF) on 2 cores shared with other jobs
        # (load 5 to 7), about 190 s of CPU each; per-run times at load 2 to 3 put a track alone at 2.5 to 3 min.
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),  # paired across schedules and arms, seed by seed
        "vae_steps": _b(40, 1500, 6000),    # VAE steps per schedule, sized to the budget's time
        "eval_every": _b(10, 100, 250),     # VAE steps between validation checks (plateau reads them)
        "gan_steps": _b(30, 2000, 8000),    # GAN generator steps per arm
    },
    "04_batch_norm": {
        "batch_size": 64,                   # GAN minibatch, also of the running-statistics warm-up
        "gan_hidden": (128, 256),           # generator widths, as in lesson 00
        "gan_z_dim": 16,                    # generator noise size
        "gan_lr": 5e-4,                     # G and D Adam rate, lesson 00's
        "gan_betas": (0.5, 0.999),          # DCGAN's
        "n_eval_points": 4,                 # FCD checks along each run, every gan_steps / 4 steps
        # The lagging-statistics panel, slow on purpose: 100x slower than PyTorch's default momentum 0.1
        # (Keras 0.999), and 50 batches cover only 1 - 0.999^50, about 5%, of the way to the true statistics.
        "lag_momentum": 0.001,              # BN momentum, PyTorch's convention (weight of the new batch)
        "warmup_batches": 50,               # train-mode batches at lag_momentum before sampling
        # 5 seeds x 3 arms + the short run fit cpu's 3 minutes: measured about 105 s (PyTorch) and 135 s
        # (TensorFlow) of CPU per notebook; 124 to 234 s wall on 2 cores shared with other runs (load 4 to 6).
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),  # paired across the arms, seed by seed
        "gan_steps": _b(40, 1500, 6000),    # generator steps per variant; gpu is 4x cpu
    },
    "05_gradient_penalty": {
        # 2-D mixtures: every variant gets the same generator steps and rates; all runs of a variant
        # (seeds x mixtures) train together as one stacked network. The papers train 100k+ steps; the
        # cpu budget has 2400, hence a faster critic (TTUR) and fewer critic steps for every variant. gpu:
        # wider, deeper networks and 20,000 steps, meant for grid25 (not checked yet).
        "toy_mixtures": ("ring8", "grid25"),  # grid25 needs more than the cpu budget
        "toy_hidden": _b((64, 64), (64, 64), (128, 128, 128)),  # generator and critic widths
        "toy_z_dim": 4,                     # 2-D generator noise size
        "toy_batch_size": _b(64, 64, 256),  # 2-D points per batch; cpu 64 (not 128): fits 3 min, same ranking
        "toy_lr": 5e-4,                     # G's Adam rate (WGAN: RMSprop 5e-5; WGAN-GP: Adam 1e-4)
        "toy_lr_d": 2e-3,                   # critic's rate, 4x G's (TTUR, lesson 03)
        "toy_points": 5000,                 # training points per mixture and seed
        "gan_betas": (0.5, 0.9),            # GAN and GAN + R1: WGAN-GP's; only the clipped critic's differ
        "clip_betas": (0.0, 0.9),           # momentum-free Adam: WGAN advises against momentum
        "gp_betas": (0.5, 0.9),             # the WGAN-GP authors' 2-D code (their Algorithm 1: beta1 0)
        "n_critic": 2,                      # critic steps per G step for both WGANs (papers: 5)
        "clip": 0.01,                       # WGAN's clipping bound c, the paper's
        # The clipping control (ring8 seeds only): the WGAN paper's own optimizer, rate and n_critic, since our
        # Adam steps of up to toy_lr_d against c = 0.01 could pin the clipped weights at +-c.
        "clip_paper_optimizer": "rmsprop",  # WGAN's: RMSprop, no momentum
        "clip_paper_lr": 5e-5,              # WGAN's rate, for the generator and the critic alike
        "clip_paper_n_critic": 5,           # WGAN's critic steps per generator step
        # lambda 1, not WGAN-GP's 10 (the paper uses 10 in every experiment, its toy mixtures included; the
        # authors' toy script gan_toy.py uses 0.1: "smaller lambda makes things faster for toy tasks"). Measured
        # (PyTorch, 5 seeds, 2400 steps of 128 points, ring8): lambda 10 gave 1.6 ± 1.8 modes and a
        # high-quality share of 0.18 ± 0.18, against 8.0 ± 0.0 and 0.69 ± 0.04 with lambda 1.
        "gp_lambda": 1.0,                   # WGAN-GP penalty weight
        # R1's gamma: the paper's 10 is for images; with modes 0.05 wide both 0.1 and 1 worked in our
        # trials, 0.1 slightly sharper.
        "r1_gamma": 0.1,                    # R1 penalty weight
        "toy_eval_samples": 2000,           # samples that modes and high-quality share count
        "field_lim": 3.0,                   # critic fields over [-3, 3]^2: the ring (radius 2) and a margin
        "field_n": 61,                      # field grid points per axis (a step of 0.1)
        # digits (FCD): a standard GAN against WGAN-GP with the paper's n_critic and lambda, LayerNorm critic
        "img_hidden": (128, 256),           # generator widths, as in lesson 00
        "img_critic_hidden": (256, 128),    # critic widths, LayerNorm (not BatchNorm: lesson 04)
        "img_z_dim": 16,                    # generator noise size
        "img_batch_size": 64,               # digits minibatch
        "img_lr": 5e-4,                     # G and critic rate (WGAN-GP: 1e-4): lesson 00's, for short runs
        "img_n_critic": 5,                  # WGAN-GP's, the paper's; the GAN gets 5x the G steps
        "img_gp_lambda": 10.0,              # WGAN-GP's, the paper's
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), tuple(range(8))),  # x 2 mixtures: 10 stacked runs at cpu
        "toy_steps": _b(20, 2400, 20000),   # generator steps per 2-D run; cpu: the lesson in ~2 min (measured)
        "demo_steps": _b(20, 2400, 4000),   # the notebook's own step, one WGAN-GP run; cpu: as long as toy_steps
        "img_seeds": _b((0, 1), (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),  # digits seeds
        "img_steps": _b(6, 200, 2000),      # WGAN-GP's generator steps on digits
    },
    "06_augmentation": {
        # Digits: a GAN on 200 training images (20 per class, the first of each class in the fixed split), with the
        # whole training split (1257) as the control; Zhao et al. 2020 (DiffAugment), Karras et al. 2020 (ADA).
        "n_small": 200,                     # limited data: few enough for D to memorise them in a short run
        "batch_size": 64,                   # digits and 2-D minibatch (DCGAN's 128 is over half of 200 images)
        "gan_hidden": (64, 128),            # generator widths, half of lesson 00's: the cpu budget's time
        "d_hidden": (256, 128),             # discriminator widths, lesson 00's: large enough to overfit 200 images
        "z_dim": 16,                        # generator noise size
        "lr": 5e-4,                         # G and D Adam rate (DCGAN: 2e-4), lesson 00's, for short runs
        "betas": (0.5, 0.999),              # DCGAN's
        # ADA (Karras et al. 2020): target 0.6 and p starting at 0 are the paper's; the paper moves p by at most 1
        # per 500k images, which our 128k-image runs could not use up, so p moves 1 per 800 steps (51k images).
        "ada_target": 0.6,                  # r_t above this: D overfits, augment more
        "ada_interval": 4,                  # D steps between two adjustments of p (the paper's)
        "ada_step": 0.005,                  # change of p per adjustment: 0 to 1 in 200 adjustments (800 steps)
        "ada_p0": 0.0,                      # p at the start (the paper's)
        # 2-D: the leak made exact on ring8 (modes 0.05 wide): Gaussian jitter of the reals widens the modes
        "toy_hidden": (64, 64),             # 2-D generator and discriminator widths
        "toy_z_dim": 4,                     # 2-D generator noise size
        "toy_lr": 1e-3,                     # 2-D Adam rate, lesson 00's
        "toy_points": 2000,                 # training points per seed
        "jitter": 0.2,                      # the jitter's sd: 4x the modes' width, far below their spacing (1.5)
        "toy_eval_samples": 2000,           # samples the mode width is measured on
        # 5 digits seeds fit cpu's 3 minutes: alone, 3 seeds took 93 s (PyTorch) and 97 s (TF), 5 took 138 s (PyTorch).
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),  # digits seeds, paired across the arms
        "toy_seeds": _b((0, 1), (0, 1, 2, 3, 4), tuple(range(8))),  # 2-D seeds, paired across the arms
        "gan_steps": _b(20, 2000, 10000),   # digits steps per arm: enough for D's train/held-out gap to open at cpu
        "toy_steps": _b(20, 1500, 5000),    # 2-D steps per arm
        "demo_steps": _b(10, 400, 1000),    # the notebook's own step, one DiffAugment run on 200 digits
    },
    "07_transfer": {
        # The source models (course_lib/assets/pretrained, scripts/pretrain_source_models.py) were pretrained on
        # 2000 printed digits: GAN 4000 steps, Adam 2e-4 (0.5, 0.999), batch 64; VAE 4000 steps, Adam 1e-3. Their
        # widths (G 64-128, D 128-64, VAE 128-64) are half lesson 00's: 5 seeds x 4 arms x 2 target sizes of
        # 2000 steps then fit cpu's 3 minutes (the full widths took ~4x as long per step, measured).
        "target_sizes": (50, 200),          # handwritten training digits the target run sees (the first n of train)
        "batch_size": 32,                   # below the smaller target size; the pretraining's 64 would not fit 50
        "lr": 2e-4,                         # G and D Adam rate for every arm but the low one: DCGAN's, as in pretraining
        "low_lr": 2e-5,                     # the low-rate arm: a tenth, the usual first try when fine-tuning
        "betas": (0.5, 0.999),              # DCGAN's, as in pretraining
        "freeze_k": 1,                      # FreezeD: the discriminator's lower layers frozen (1 of its 3 dense layers)
        "source_eval": 500,                 # held-out printed digits (seed 1) that FCD against the source uses
        "vae_n_targets": 50,                # the VAE's handwritten training digits
        "vae_batch_size": 32,               # VAE minibatch
        "vae_lr": 1e-3,                     # VAE Adam rate (Adam's default), as in pretraining
        "elbo_samples": 10,                 # noise draws the test negative ELBO averages
        "seeds": _b((0, 1), (0, 1, 2, 3, 4), tuple(range(8))),  # paired across arms; pretrained arms share weights
        "steps": _b(20, 2000, 6000),        # GAN steps per arm and target size; cpu: long enough to see overfitting
        "eval_every": _b(10, 250, 500),     # steps between FCD evaluations (the curves, steps-to-target)
        "demo_steps": _b(20, 1000, 2000),   # the notebook's own step: one FreezeD run on the smaller target
        "vae_steps": _b(20, 1500, 4000),    # VAE steps per arm
        "cheat_steps": _b(20, 200, 200),    # the metric-gaming demo: Adam steps on the pixels through FCD's features
        "cheat_eps": 0.05,                  # ... each pixel moves by at most this (of [0, 1]): invisible in a grid
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
    values = {key: value.values[concrete] if isinstance(value, _ByBudget) else value
              for key, value in _LESSONS[lesson].items()}
    return Config({**values, "budget": concrete, "lesson": lesson})
