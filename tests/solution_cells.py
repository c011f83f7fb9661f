"""Running a solution notebook's own cells in a test: its cells by id and by tag, and the namespace
they see at budget smoke (quiet, headless), as papermill would give them."""
from pathlib import Path

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
