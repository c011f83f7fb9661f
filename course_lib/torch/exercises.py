"""Checkers for the PyTorch track's exercises: ``from course_lib.torch import exercises as ex``, then
``ex.<name>.check(your_function)``. The truths and known mistakes are NumPy code shared by
both tracks; :mod:`course_lib.exercises.tracks` adds the PyTorch conversions and references."""
from __future__ import annotations

from ..exercises.tracks import checkers as _checkers

globals().update(_checkers("torch"))
