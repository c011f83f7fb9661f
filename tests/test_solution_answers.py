"""Each track's written-out answers (what ``ex.<name>.solution()`` prints: the solution notebooks'
exercise cells, shipped in course_lib/assets/answers.json) exist for every exercise and pass
their own checkers when run with the imports a notebook has."""
import importlib
import math
from pathlib import Path

import numpy as np
import pytest

from course_lib.exercises.tracks import TRACK_FOLDERS
from course_lib.tooling.answers import collect

ROOT = Path(__file__).resolve().parents[1]
TRACKS = {"torch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}


def _namespace(track):
    # What the notebooks import before their exercise cells (lesson 07's answers call ``transfer``, lesson 08's ``F``).
    transfer = importlib.import_module(f"{TRACKS[track]}.transfer")
    if track == "torch":
        import torch
        import torch.nn.functional as F  # lesson 08's answers use F, as its notebooks import it
        return {"np": np, "math": math, "torch": torch, "F": F, "transfer": transfer}
    import keras
    import tensorflow as tf
    return {"np": np, "math": math, "tf": tf, "keras": keras, "transfer": transfer}


@pytest.mark.parametrize("track", list(TRACKS))
def test_every_answer_exists_and_passes_its_checker(track):
    pytest.importorskip(TRACKS[track])  # the course's track first: it configures TensorFlow
    ex = importlib.import_module(TRACKS[track] + ".exercises")
    exercises = {name: e for name, e in vars(ex).items() if hasattr(e, "verdict") and hasattr(e, "answer")}
    # Read from the notebooks, which answers.json copies (``build --check`` keeps the two equal): the
    # asset file is rewritten by any ``build`` run, tests included, so it is not read here.
    written = collect(ROOT)[TRACK_FOLDERS[track]]
    # Lessons 00-05 alone have 14: fewer means the discovery above broke, not that a lesson has none.
    assert len(exercises) >= 14 and set(written) == set(exercises)
    for name, exercise in exercises.items():
        namespace = _namespace(track)
        exec(compile(written[name], f"<{track} answer to {name}>", "exec"), namespace)
        v = exercise.verdict(namespace[name])
        assert v.passed, (name, v.message)
