"""Lesson 04 (batch norm): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
