"""Lesson 03 (lr schedules): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
