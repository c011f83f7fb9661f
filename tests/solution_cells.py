"""Running a solution notebook's own cells in a test: its cells by id and by tag, and the namespace
they see at budget smoke (quiet, headless), as papermill would give them."""
from pathlib import Path

import numpy as np

from course_lib.tooling.notebooks import read_notebook

ROOT = Path(__file__).resolve().parents[1]


def solution_cells(notebook: str, track: str) -> tuple[dict, dict]:
    """``({cell id: source}, {tag: [source, ...]})`` of ``solutions/<track>/<notebook>``."""
    cells = read_notebook(ROOT / "solutions" / track / notebook).cells
    by_tag: dict = {}
    for cell in cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            by_tag.setdefault(tag, []).append(cell.source)
    return {c.get("id"): c.source for c in cells}, by_tag


def training_steps(notebook: str, track: str, names) -> list[str]:
    """The cells tagged ``training-step`` that define one of ``names`` (a lesson with several parts, such as
    the capstone, has a training step per part), in notebook order; each name must be defined by one of them."""
    cells = [s for s in solution_cells(notebook, track)[1]["training-step"]
             if any(s.startswith(f"def {name}(") or f"\ndef {name}(" in s for name in names)]
    for name in names:
        assert any(s.startswith(f"def {name}(") or f"\ndef {name}(" in s for s in cells), \
            f"no training-step cell of {notebook} ({track}) defines {name}"
    return cells


def smoke_namespace(monkeypatch) -> dict:
    """Set the environment of a smoke run and return the parameters cell's namespace."""
    monkeypatch.setenv("COURSE_BUDGET", "smoke")
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return {"BUDGET": "auto", "SEED": 0, "RESULTS_PATH": None}


class Counting:
    """A learner's function that counts its calls (in TensorFlow: its traces into a compiled step) and
    remembers what it answered, so a test can tell whether training used it or the checker's reference."""

    def __init__(self, fn):
        self.fn, self.calls, self.answers = fn, 0, []

    def __call__(self, *args):
        self.calls += 1
        self.answers.append(self.fn(*args))
        return self.answers[-1]


def trainable_weights(track: str, model) -> list:
    """A model's trainable weights as NumPy copies, in the framework's order."""
    if track == "pytorch":
        return [p.detach().cpu().numpy().copy() for p in model.parameters()]
    return [v.numpy().copy() for v in model.trainable_variables]


def model_state(track: str, model) -> list:
    """Everything a model holds, as NumPy copies: weights and buffers (BatchNorm's statistics, spectral
    norm's vectors)."""
    if track == "pytorch":
        return [t.detach().cpu().numpy().copy() for t in model.state_dict().values()]
    return [np.array(w) for w in model.get_weights()]


def assert_same_pairs(track: str, pairs_a, pairs_b, atol: float) -> None:
    """Each (generator, discriminator) pair of ``pairs_a`` holds the trainable weights of its match in ``pairs_b``."""
    for (g1, d1), (g2, d2) in zip(pairs_a, pairs_b, strict=True):
        for a, b in zip(trainable_weights(track, g1) + trainable_weights(track, d1),
                        trainable_weights(track, g2) + trainable_weights(track, d2), strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def exercise_cell(notebook: str, track: str, name: str) -> str:
    """The solution notebook's exercise cell that defines ``name`` and then checks it."""
    (source,) = [s for s in solution_cells(notebook, track)[1]["nbval-check-output"] if s.startswith(f"def {name}(")]
    return source


def framework_namespace(track: str) -> dict:
    """What a notebook's setup cell imports from its framework, and ``ex``, that track's checkers."""
    if track == "pytorch":
        import torch
        import torch.nn.functional as F

        from course_lib.torch import exercises as ex
        return {"torch": torch, "F": F, "ex": ex}
    import keras
    import tensorflow as tf

    from course_lib.tensorflow import exercises as ex
    return {"tf": tf, "keras": keras, "ex": ex}
