"""Lesson 10 (capstone): its hyperparameters per budget, read through ``budgets.config``."""
from .by_budget import _b

VALUES = {
    # --- part 1: the seed document's two scripts, ported to 8x8 digits (every bug kept) -------------------------
    "seeds": _b((0,), (0, 1, 2, 3, 4), tuple(range(10))),  # ct.setup prints them; part 1's runs pick their own below
    "seed_batch_size": 64,              # the seed gives none; 1257 = 19 * 64 + 41: a partial last batch of 41
    "seed_z_dim": 100,                  # the seed's noise size, kept (only the output shrinks, 784 -> 64)
    "seed_hidden": (128, 128),          # the seed's widths, both scripts
    "seed_lr": 1e-3,                    # the seed's Adam rate, both scripts
    "seed_epochs": _b(3, 100, 100),     # the seed's 100 epochs (the schedule's 50/75 need them); 3 at smoke: CI time
    "seed_every": 10,                   # the seed checks its stopping rule every 10 epochs (epoch % 10 == 0)
    "seed_runs": _b((0,), (0, 1, 2, 3, 4), tuple(range(10))),  # script 1 as written: cheap, it stops by epoch ~40
    "seed_patience": 10,                # repaired stopping: epochs without a new best val loss (lesson 02's rule)
    "seed_min_delta": 1e-4,             # ... by more than this (the val BCE moves by ~1e-4 per epoch at the end)
    "seed_gan_runs": _b((0,), (0, 1, 2), (0, 1, 2, 3, 4)),  # GAN repair: 3 seeds at cpu, ~5 s each (70 s share)
    "seed_d_hidden": (256, 128),        # the repair's discriminator, lesson 00's widths
    "seed_gan_lr": 5e-4,                # lesson 00's rate, Glorot init: DCGAN's 2e-4 diverged here in 2,000 steps
    "seed_gan_betas": (0.5, 0.999),     # DCGAN's
    "seed_schedule_runs": _b((0,), (0, 1, 2), (0, 1, 2, 3, 4)),  # schedule repairs: 3 seeds x 3 arms fit at cpu
    # --- part 2: the full recipe and its leave-one-out ablation on 200 digits -----------------------------------
    "n_small": 200,                     # limited data, lesson 06's: 20 training digits per class
    # Lesson 06's digits GAN on 200 digits (its networks, rate, betas, batch and ADA), so its findings carry over.
    "recipe_batch_size": 64,            # lesson 06's minibatch
    "recipe_g_hidden": (64, 128),       # lesson 06's generator widths
    "recipe_d_hidden": (256, 128),      # lesson 06's discriminator widths: large enough to memorise 200 digits
    "recipe_z_dim": 16,                 # generator noise size
    "recipe_lr": 5e-4,                  # G's Adam rate in every arm, and D's without TTUR (lesson 06's)
    "recipe_betas": (0.5, 0.999),       # DCGAN's
    # The choices below come from one quick probe (PyTorch, seeds 100 and 101, not the lesson's; 1200 steps;
    # validation FCD at 8 checkpoints, never the test split), R1 + TTUR + augmentation varied one at a time:
    "recipe_r1_gamma": 1.0,             # probe: val FCD at 1200 steps 12 and 12 (gamma 1), 13-17 (0.1), 11-14 (10)
    "recipe_ttur_ratio": 4.0,           # D's rate / G's (lesson 03's ratio); probe: 4 gave val FCD 10, 2 gave 12
    "recipe_ada": True,                 # probe: ADA reached val FCD 7-9 by step 900, DiffAugment (p = 1) 11-19
    "recipe_ada_target": 0.6,           # ADA's r_t target (the paper's, lesson 06's)
    "recipe_ada_p0": 0.0,               # p at the start (the paper's)
    "recipe_ada_interval": 4,           # D steps between two adjustments of p (the paper's)
    "recipe_ada_step": 0.005,           # 0 to 1 in 800 steps, as in lesson 06
    "recipe_ema_decay": 0.99,           # lesson 09's faster decay: 0.999 would keep 0.999^800 = 45% of the initial G
    "recipe_select_samples": 500,       # generated digits per validation FCD at a checkpoint (the same n everywhere)
    # cpu: 25 stacked runs with R1 took ~110 ms (PyTorch) and ~145 ms (TF) per step on 2 shared cores at load 4-5,
    # and the whole notebook 97 s (PyTorch) and 112 s (TF) at load 4.5-6 (refresh), so 800 steps: in the probe,
    # R1 runs with ADA or without augmentation were within 1 FCD of their 1200-step values by step 750
    # (DiffAugment's were not: full augmentation slows G, as in lesson 06).
    "recipe_seeds": _b((0,), (0, 1, 2, 3, 4), tuple(range(8))),  # paired across the five trained arms; smoke: CI time
    "recipe_steps": _b(12, 800, 4000),  # D-then-G steps per run
    "recipe_check_every": _b(6, 100, 250),  # steps between checkpoints of the raw and averaged generators
    "recipe_demo_steps": _b(8, 300, 1000),  # the notebook's own step: one full-recipe run with your recipe_d_loss
    # --- part 3: monitoring with TensorBoard, and the bug hunt ---------------------------------------------------
    "monitor_batch_size": 64,           # the monitored run's minibatch
    "monitor_z_dim": 16,                # lesson 00's generator noise size
    "monitor_g_hidden": (128, 256),     # lesson 00's generator widths
    "monitor_d_hidden": (256, 128),     # lesson 00's discriminator widths (the course's Critic)
    "monitor_betas": (0.5, 0.999),      # DCGAN's, as in lesson 00
    "monitor_lr": 2e-3,                 # both nets; lesson 00's 5e-4 is for 4000 steps (750: FCD 29-46, 64-81 at 1e-3)
    "starved_lr_g": 5e-5,               # the run that goes wrong: G 40x slower, D as healthy, so D wins
    "monitor_steps": _b(30, 500, 2000), # D-then-G steps per run; cpu: 6 runs (~4 s each in TF) in the part's 45 s
    "monitor_seeds": _b((0,), (0, 1, 2), (0, 1, 2, 3, 4)),  # both runs on each seed, paired; 3 fit at cpu
    "log_every": _b(5, 10, 10),         # steps between logged scalars (single batches are noisy anyway)
    "val_every": _b(15, 125, 250),      # steps between validation FCDs and sample grids (each costs ~0.1 s)
    "n_val_samples": 1000,              # digits per validation FCD: the same n in every run (FCD's bias depends on n)
}
