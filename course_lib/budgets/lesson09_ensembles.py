"""Lesson 09 (ensembles): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
    # Digits GAN: the moving averages ride along one run per seed (they never feed back into training), so raw
    # and averaged generators share everything but the read-out. Lesson 00's widths; DCGAN's rate and betas.
    "batch_size": 64,                   # digits, 2-D and VAE minibatch
    "gan_hidden": (128, 256),           # generator widths, as in lesson 00
    "d_hidden": (256, 128),             # discriminator widths, as in lesson 00
    "z_dim": 16,                        # generator noise size
    "lr": 2e-4,                         # G and D Adam rate: DCGAN's (lesson 00's 5e-4 is for shorter runs)
    "betas": (0.5, 0.999),              # DCGAN's
    "decays": (0.99, 0.999),            # EMA decays: half-lives of ~69 and ~693 steps (StyleGAN: ~10k images)
    "bn_decay": 0.999,                  # the BatchNorm pitfall's decay: the slower of the two
    "bn_batches": 50,                   # noise batches that recompute the averaged generator's BN statistics
    # 2-D: ring8, one generator vs K of them (independent, MGAN, outputs averaged); lesson 05's widths and data
    "toy_mixture": "ring8",             # one generator misses modes here at cpu (lesson 05: 6.4 of 8)
    "k": 4,                             # generators per mixture; MGAN's generators make batch_size / k fakes each
    "toy_hidden": (64, 64),             # 2-D generator, discriminator and MGAN classifier widths
    "toy_z_dim": 4,                     # 2-D generator noise size
    "toy_lr": 5e-4,                     # 2-D Adam rate, lesson 05's generator rate
    "toy_points": 5000,                 # training points per seed, as in lesson 05
    "mgan_beta": 1.0,                   # weight of C's cross-entropy in G's loss: the first value tried, not tuned
    "toy_eval_samples": 2000,           # samples that modes and high-quality share count
    # VAE ensembles: K members per repeat, every member on one cosine-with-restarts schedule (Huang et al. 2017)
    "vae_hidden": (128, 64),            # VAE widths, half of lesson 00's: 20 stacked VAEs fit the cpu budget
    "vae_z_dim": 8,                     # VAE latent size, as in lesson 00
    "vae_lr": 2e-3,                     # Adam's rate at each cycle's start, twice lesson 00's: cosine takes it to 0
    "vae_cycles": 4,                    # cycles per run: one snapshot at each cycle's end
    "iwae_samples": 50,                 # importance samples per test image and member (IWAE)
    # 5 seeds fit cpu's 3 minutes: refresh took 105 s (PyTorch) and 159 s (TF) on 2 cores shared (load 2 to 5).
    "seeds": _b((0, 1), (0, 1, 2, 3, 4), tuple(range(8))),  # paired across arms: GANs, 2-D runs, VAE repeats
    "bn_seeds": _b((0,), (0, 1, 2), (0, 1, 2, 3, 4)),  # the BatchNorm pitfall: one run per seed, not stacked
    "gan_steps": _b(30, 3000, 10000),   # digits GAN steps; cpu: long enough for both decays to matter
    "demo_steps": _b(20, 400, 1000),    # the notebook's own step: one run with your ema_update
    "bn_steps": _b(20, 1500, 4000),     # the BatchNorm generator's steps
    "toy_steps": _b(20, 2000, 8000),    # 2-D steps per run (independent and MGAN)
    "vae_steps": _b(20, 2000, 8000),    # VAE steps per member, vae_cycles cycles
}
