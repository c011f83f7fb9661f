"""Checkers for the TensorFlow track's exercises (the truth and mistakes live in
:mod:`course_lib.exercises`; here the learner's tensors are converted and the TensorFlow
reference is the fallback). Use as ``from course_lib.tensorflow import exercises as ex``."""
from __future__ import annotations

from .. import exercises as _shared
from .train import negative_elbo as _negative_elbo, reparameterize as _reparameterize, to_numpy, to_tensor

_tensors = {"adapt": to_tensor, "to_numpy": to_numpy}

# Lesson 00
frechet_distance = _shared.frechet_distance()
reparameterize = _shared.reparameterize(fallback=_reparameterize, **_tensors)
negative_elbo = _shared.negative_elbo(fallback=_negative_elbo, **_tensors)

# --- lesson 02: early stopping (pure Python: the same checkers in both tracks)
should_stop = _shared.should_stop()
best_step = _shared.best_step()

# --- lesson 03: learning-rate schedules (pure Python: the same checkers in both tracks)
lr_at = _shared.lr_at()
warmup_cosine = _shared.warmup_cosine()

# --- lesson 01: regularization (l2_penalty takes a list of tensorflow tensors; adamw_step is NumPy in both tracks)
from .regularization import l2_penalty as _l2_penalty  # noqa: E402


def _tensor_list(a):
    return [to_tensor(p) for p in a] if isinstance(a, (list, tuple)) else a


l2_penalty = _shared.l2_penalty(fallback=_l2_penalty, adapt=_tensor_list, to_numpy=to_numpy)
adamw_step = _shared.adamw_step()

# --- lessons 04/05: gradient penalty (truths and mistakes in course_lib.penalties; the critic is
# built from NumPy weights, the extra checks back-propagate to its parameters)
from .. import penalties as _pen  # noqa: E402
from . import penalties as _track_pen  # noqa: E402

_pen_checks = (_track_pen.reaches_parameters_check(_pen.parameter_check_case()),
               _track_pen.finite_at_zero_gradient_check(_pen.zero_gradient_critic()))
gradient_penalty = _pen.gradient_penalty_exercise(
    fallback=_track_pen.gradient_penalty, adapt=_track_pen.adapt, to_numpy=_track_pen.result_to_numpy,
    extra_checks=_pen_checks)
r1_penalty = _pen.r1_penalty_exercise(
    fallback=_track_pen.r1_penalty, adapt=_track_pen.adapt, to_numpy=_track_pen.result_to_numpy,
    extra_checks=(_track_pen.reaches_parameters_check(_pen.parameter_check_case()[:2] + (10.0,)),
                  _track_pen.finite_at_zero_gradient_check(_pen.zero_gradient_critic()[:2] + (10.0,))))
sample_interpolation_weights = _pen.sample_interpolation_weights_exercise()

# --- lesson 04: batch normalization (truths and mistakes in course_lib.batchnorm; the learner's
# function gets tensors for arrays and plain floats for momentum and eps)
from .. import batchnorm as _bn  # noqa: E402
from . import batchnorm as _track_bn  # noqa: E402


def _arrays_to_tensors(a):
    return to_tensor(a) if isinstance(a, _np.ndarray) else a


def _any_to_numpy(t):
    return _np.asarray(t) if isinstance(t, (_np.ndarray, float, int)) else to_numpy(t)


import numpy as _np  # noqa: E402

batchnorm_train = _bn.batchnorm_exercise(fallback=_track_bn.batchnorm_train, adapt=_arrays_to_tensors,
                                         to_numpy=_any_to_numpy)
layernorm = _bn.layernorm_exercise(fallback=_track_bn.layernorm, adapt=_arrays_to_tensors, to_numpy=_any_to_numpy)
