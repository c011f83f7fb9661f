"""Lesson 06 (augmentation): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
