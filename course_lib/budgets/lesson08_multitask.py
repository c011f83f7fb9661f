"""Lesson 08 (multitask): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
    # 2-D, the TAC-GAN setting (Gong et al. 2019): class 0 ~ N((0, 0), I), class 1 ~ N((1.5, 0), I); concatenated
    # cGAN against AC-GAN (Odena et al. 2017) at several auxiliary weights, all runs of a kind as one stacked network.
    "toy_per_class": 5000,              # training points per class and seed
    "toy_hidden": (64, 64),             # 2-D G and D widths: half the first prototype's 128, for cpu's time
    "toy_z_dim": 2,                     # 2-D noise size: the data's own dimension
    "toy_batch_size": 128,              # 2-D points per batch
    "toy_lr": 1e-3,                     # 2-D G and D Adam rate, lesson 00's
    "aux_weights": (0.0, 0.3, 1.0, 3.0),  # AC-GAN's class-loss weights swept in 2-D; 0 = no class loss at all
    "toy_eval_per_class": 5000,         # samples per requested class that the 2-D metrics count
    # Digits: all 1257 training digits with their labels; G and D as lesson 06's (half-width G for cpu's time)
    "gan_hidden": (64, 128),            # generator widths (label one-hot concatenated to the noise)
    "d_hidden": (256, 128),             # discriminator widths: the trunk AC-GAN's two heads share
    "z_dim": 16,                        # generator noise size
    "batch_size": 64,                   # digits minibatch
    "lr": 5e-4,                         # G and D Adam rate (DCGAN: 2e-4), lesson 00's, for short runs
    "betas": (0.5, 0.999),              # DCGAN's
    "aux_weight": 1.0,                  # AC-GAN's class-loss weight on digits: the paper's (L_S + L_C)
    # VAE: ELBO on every training digit plus a linear class head on the encoder's mean, fed 10 labels per class
    "vae_hidden": (128, 64),            # encoder widths; the decoder mirrors them (half lesson 00's: cpu's time)
    "vae_z_dim": 8,                     # latent size, lesson 00's
    "vae_batch_size": 64,               # VAE minibatch (the labelled few go in whole at every step)
    "vae_lr": 1e-3,                     # VAE Adam rate: Adam's default
    "labels_per_class": 10,             # labelled digits per class: 100 of the 1257
    "class_weight": 1.0,                # the class head's weight against the ELBO's 1 (normalised: half each)
    "elbo_samples": 10,                 # noise draws the test negative ELBO averages
    "seeds": _b((0, 1), (0, 1, 2, 3, 4), tuple(range(8))),  # digits GAN and VAE seeds, paired across arms
    # 8 2-D seeds (5 at first: the tracks' mean gaps at weight 0.3 then differed by more than a seed's sd) and 5
    # digits seeds fit cpu's 3 minutes: refresh took 122 s (PyTorch) and 158 s (TF) on 2 shared cores (load 2 to 5).
    "toy_seeds": _b((0, 1), tuple(range(8)), tuple(range(8))),  # 2-D seeds, paired across arms
    "toy_steps": _b(20, 1500, 5000),    # 2-D steps per run
    "gan_steps": _b(20, 3000, 10000),   # digits steps per run: at 2000 the concat cGAN's control was 0.17-0.41
    "eval_every": _b(10, 500, 1000),    # digits steps between class-control checks along training
    "vae_steps": _b(20, 1500, 5000),    # VAE steps per run
    "demo_steps": _b(10, 1000, 1000),   # the notebook's own step: one AC-GAN run on digits (at 300, no control yet)
}
