"""Lesson 05 (gradient penalty): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
