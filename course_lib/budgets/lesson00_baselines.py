"""Lesson 00 (baselines): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
