"""Lesson 02 (early stopping): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
