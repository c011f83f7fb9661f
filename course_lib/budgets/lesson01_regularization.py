"""Lesson 01 (regularization): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
