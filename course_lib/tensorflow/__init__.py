"""The TensorFlow (Keras 3) track's helpers. Imports TensorFlow, never PyTorch.

Importing this package first quiets TensorFlow's start-up noise and switches oneDNN's
non-deterministic kernels off (both must happen before TensorFlow is imported), then turns
on op determinism and GPU memory growth. Start every notebook with
``cfg = setup(LESSON, BUDGET, SEED)``.
"""
from __future__ import annotations

import os
import sys
import warnings

if "tensorboard.compat.notf" in sys.modules:
    warnings.warn("course_lib.torch.monitoring was imported before TensorFlow, so TensorBoard uses its stand-in "
                  "for TensorFlow in this process and tf.summary will fail. Use one track per kernel: restart "
                  "it and import only course_lib.tensorflow.", stacklevel=2)
if "tensorflow" in sys.modules:
    warnings.warn("TensorFlow was imported before course_lib.tensorflow, so its log level and oneDNN "
                  "settings come too late (results may differ slightly between runs). Import "
                  "course_lib.tensorflow first, then restart the kernel.", stacklevel=2)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")    # no C++ INFO/WARNING walls
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # oneDNN reorders float sums: results drift
os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # Keras 3 could pick another backend

import contextlib  # noqa: E402


@contextlib.contextmanager
def _quiet_stderr_fd():
    """Silence file descriptor 2 for a moment: TensorFlow's C++ start-up lines (CUDA stubs,
    "log messages before absl::InitializeLog") ignore TF_CPP_MIN_LOG_LEVEL and would land in
    every notebook. Python exceptions still propagate normally."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded consoles): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


with _quiet_stderr_fd():
    import keras  # noqa: E402
    import tensorflow as tf  # noqa: E402
    tf.config.list_physical_devices("GPU")  # device discovery also logs from C++

from .. import budgets  # noqa: E402
from ..seeding import seed_python_numpy  # noqa: E402


def _hygiene() -> None:
    tf.get_logger().setLevel("ERROR")
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # absl ships with TensorFlow; be safe anyway
        pass
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            # Take GPU memory as needed instead of all of it at start-up.
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised in this process: nothing to change
            pass
    tf.config.experimental.enable_op_determinism()


_hygiene()

from . import regularization  # noqa: E402,F401  (lesson 01)
from .early_stopping import EarlyStopping, FitVAE, VAETrainer, load_checkpoint, save_checkpoint  # noqa: E402,F401
from .models import MLP, VAE, Critic, Discriminator, Generator  # noqa: E402,F401
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
    """Seed Python, NumPy, TensorFlow and Keras (op determinism is already on)."""
    seed = seed_python_numpy(seed)
    keras.utils.set_random_seed(seed)
    return seed


def setup(lesson: str, budget: str = "auto", seed: int = 0):
    """Resolve the budget, seed everything and return the lesson's hyperparameters."""
    cfg = budgets.config(lesson, budget, gpu_available=bool(tf.config.list_physical_devices("GPU")))
    seed_everything(seed)
    print(f"TensorFlow {tf.__version__} (Keras {keras.__version__}) on {DEVICE}; "
          f"lesson {lesson}, budget {cfg.budget!r}, seeds {list(cfg.seeds)}")
    return cfg
