"""Lesson 07 (transfer): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
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
}
