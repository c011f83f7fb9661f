"""Framework-neutral part of reproducibility: Python's and NumPy's global generators.

The framework packages call :func:`seed_python_numpy` from their own ``seed_everything``,
which also seeds the framework and switches on deterministic kernels.
"""
from __future__ import annotations

import os
import random

import numpy as np


def seed_python_numpy(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    # Only affects processes started from here on (e.g. papermill kernels).
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return seed
