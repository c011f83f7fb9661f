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
