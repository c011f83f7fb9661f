"""The PyTorch track's helpers. Imports PyTorch, never TensorFlow.

Start every notebook with ``cfg = setup(LESSON, BUDGET, SEED)``: it resolves the budget,
seeds Python, NumPy and PyTorch, switches on deterministic kernels and returns the
lesson's hyperparameters from :mod:`course_lib.budgets`.
"""
from __future__ import annotations

import os

# cuBLAS needs this for deterministic matrix products on GPU; harmless on CPU.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402

# The course's networks are tiny: a second intra-op thread gains little, and when another
# process shares the cores (a notebook beside a test run) PyTorch's spinning worker
# threads made training ~15x slower here. One thread unless you ask for more.
torch.set_num_threads(int(os.environ.get("COURSE_TORCH_THREADS", "1")))

from .. import budgets  # noqa: E402
from ..seeding import seed_python_numpy  # noqa: E402
from . import regularization  # noqa: E402,F401  (lesson 01)
from .early_stopping import EarlyStopping, VAETrainer, load_checkpoint, save_checkpoint  # noqa: E402,F401
from .models import MLP, VAE, Critic, Discriminator, Generator, init_weights  # noqa: E402,F401
from .penalties import clip_weights, gradient_norms, gradient_penalty, interpolate, interpolation_weights, r1_penalty  # noqa: E402,F401
from .train import (  # noqa: E402,F401
    DEVICE,
    negative_elbo,
    reparameterize,
    sample_gan,
    sample_vae,
    test_negative_elbo,
    to_numpy,
    train_gan,
    train_vae,
)


def seed_everything(seed: int) -> int:
    """Seed Python, NumPy and PyTorch, and make PyTorch's kernels deterministic."""
    seed = seed_python_numpy(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    return seed


def setup(lesson: str, budget: str = "auto", seed: int = 0):
    """Resolve the budget, seed everything and return the lesson's hyperparameters."""
    cfg = budgets.config(lesson, budget, gpu_available=torch.cuda.is_available())
    seed_everything(seed)
    print(f"PyTorch {torch.__version__} on {DEVICE.type}; "
          f"lesson {lesson}, budget {cfg.budget!r}, seeds {list(cfg.seeds)}")
    return cfg
