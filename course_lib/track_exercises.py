"""Build one track's exercise checkers. Both tracks expose the same names (``ex.<name>``);
only the conversions (NumPy <-> tensors) and the fallback references differ, so they are
assembled here once, from the track package given by name. Imports the framework only when
called (from ``course_lib.torch.exercises`` or ``course_lib.tensorflow.exercises``)."""
from __future__ import annotations

import importlib

import numpy as np

from . import batchnorm as _bn
from . import exercises as _shared
from . import penalties as _pen


def checkers(track: str) -> dict:
    """``{name: Exercise}`` for ``track`` ("torch" or "tensorflow")."""
    if track not in ("torch", "tensorflow"):
        raise ValueError(f"unknown track {track!r}; expected 'torch' or 'tensorflow'")
    pkg = importlib.import_module(f"course_lib.{track}")
    train = importlib.import_module(f"course_lib.{track}.train")
    pen = importlib.import_module(f"course_lib.{track}.penalties")
    bn = importlib.import_module(f"course_lib.{track}.batchnorm")
    to_tensor, to_numpy = train.to_tensor, train.to_numpy
    tensors = {"adapt": to_tensor, "to_numpy": to_numpy}

    def tensor_list(a):  # l2_penalty takes a list of parameter tensors
        return [to_tensor(p) for p in a] if isinstance(a, (list, tuple)) else a

    def arrays_to_tensors(a):  # batch norm: tensors for arrays, plain floats for momentum and eps
        return to_tensor(a) if isinstance(a, np.ndarray) else a

    def any_to_numpy(t):
        return np.asarray(t) if isinstance(t, (np.ndarray, float, int)) else to_numpy(t)

    case = _pen.parameter_check_case()
    flat = _pen.zero_gradient_critic()
    return {
        # lesson 00
        "frechet_distance": _shared.frechet_distance(),
        "reparameterize": _shared.reparameterize(fallback=train.reparameterize, **tensors),
        "negative_elbo": _shared.negative_elbo(fallback=train.negative_elbo, **tensors),
        # lesson 01 (adamw_step is NumPy in both tracks)
        "l2_penalty": _shared.l2_penalty(fallback=pkg.regularization.l2_penalty, adapt=tensor_list,
                                         to_numpy=to_numpy),
        "adamw_step": _shared.adamw_step(),
        # lesson 02 and 03: pure Python, the same checkers in both tracks
        "should_stop": _shared.should_stop(),
        "best_step": _shared.best_step(),
        "lr_at": _shared.lr_at(),
        "warmup_cosine": _shared.warmup_cosine(),
        # lesson 04
        "batchnorm_train": _bn.batchnorm_exercise(fallback=bn.batchnorm_train, adapt=arrays_to_tensors,
                                                  to_numpy=any_to_numpy),
        "layernorm": _bn.layernorm_exercise(fallback=bn.layernorm, adapt=arrays_to_tensors, to_numpy=any_to_numpy),
        # lesson 05: the critic is built from NumPy weights; the extra checks back-propagate to its
        # parameters (does the penalty reach them? is it finite where the input gradient is 0?)
        "gradient_penalty": _pen.gradient_penalty_exercise(
            fallback=pen.gradient_penalty, adapt=pen.adapt, to_numpy=pen.result_to_numpy,
            extra_checks=(pen.reaches_parameters_check(case), pen.finite_at_zero_gradient_check(flat))),
        "r1_penalty": _pen.r1_penalty_exercise(
            fallback=pen.r1_penalty, adapt=pen.adapt, to_numpy=pen.result_to_numpy,
            extra_checks=(pen.reaches_parameters_check(case[:2] + (10.0,)),
                          pen.finite_at_zero_gradient_check(flat[:2] + (10.0,)))),
        "sample_interpolation_weights": _pen.sample_interpolation_weights_exercise(),
    }
