"""Every lesson runs end to end at budget ``smoke`` with its exercise stubs (the checkers fall
back to the references), each in its own papermill process, as a learner's first run does.

The solutions are not run here: `make test` runs each of them once under nbval, which fails on
any error and compares the checked outputs. What this test adds for a lesson (results recorded,
nothing written beside the notebook, the time limit) holds for its solution too, because the
lesson is generated from the solution and differs from it only in the exercise bodies
(`course_lib build --check`, the first step of `make test`, keeps them in sync)."""
import os
from pathlib import Path

import pytest

from course_lib.tooling.notebooks import discover
from course_lib.tooling.runner import run_one

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = discover(ROOT, kind="lessons")
# The design asks for at most 60 s per notebook at smoke, kernel start included. CI may
# allow slower machines through COURSE_SMOKE_LIMIT; the measured time is printed either way.
SMOKE_LIMIT = float(os.environ.get("COURSE_SMOKE_LIMIT", "60"))


def _written_beside(path):
    # What a learner's run keeps beside the notebook: checkpoints (lessons 02, 07) and TensorBoard logs (lesson 10)
    return {f"{folder}/{p.name}": p.stat().st_mtime_ns for folder in ("checkpoints", "logs")
            for p in (path.parent / folder).glob("*")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_runs_at_smoke_budget(path, tmp_path):
    before = _written_beside(path)
    outcome = run_one(path, ROOT, budget="smoke", out=tmp_path, timeout=300)
    print(f"{path.relative_to(ROOT)}: {outcome['status']} in {outcome['seconds']:.1f} s")
    assert outcome["status"] == "ok", outcome["error"]
    recorded = outcome["results"]
    assert recorded is not None, "the notebook recorded no results to RESULTS_PATH"
    assert recorded.get("budget") == "smoke"
    # What a run writes goes under its output folder, never into the course's own folders.
    assert _written_beside(path) == before, f"{path.name} wrote checkpoints or logs beside the notebook"
    assert outcome["seconds"] <= SMOKE_LIMIT, f"took {outcome['seconds']:.1f} s at smoke (limit {SMOKE_LIMIT:g} s)"
