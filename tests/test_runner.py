"""Notebook execution: papermill runs, results.json, report, failures, timeouts, refresh.

Each papermill run starts a kernel (~2-3 s), so the notebooks are tiny and the main
run is shared by several tests through a module-scoped fixture.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_lib.tooling.refresh import refresh
from course_lib.tooling.runner import NotebookError, run, run_one, submission_order

REPO = Path(__file__).resolve().parents[1]
PARAMETERS = 'BUDGET = "auto"\nSEED = 0\nRESULTS_PATH = None'

OK_CELL = """\
import os
from course_lib import results
# The runner's contract with the kernel: seeded hashing, headless plots, cwd = notebook folder.
assert os.environ["PYTHONHASHSEED"] == "0" and os.environ["MPLBACKEND"] == "Agg"
assert os.path.basename(os.getcwd()) == TRACK, os.getcwd()
res = results.record(RESULTS_PATH, "m", True, VALUES, floor=0.5, budget=BUDGET, seed=SEED)
"""


def write_nb(root: Path, rel: str, *sources: str) -> Path:
    """A notebook at ``root/rel`` with the parameters cell first, then ``sources``."""
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
                      + [new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def ok_notebook(root: Path, track: str, values: list[float]) -> Path:
    setup = f"TRACK = {track!r}\nVALUES = {{'a': {values!r}}}"
    return write_nb(root, f"solutions/{track}/00_ok.ipynb", setup, OK_CELL)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A tiny course: lesson 00 in both tracks (ok), lesson 01 in pytorch (fails in cell 2)."""
    root = tmp_path_factory.mktemp("course")
    ok_notebook(root, "pytorch", [1.0, 2.0])
    ok_notebook(root, "tensorflow", [1.5, 2.5])
    write_nb(root, "solutions/pytorch/01_fail.ipynb", "x = 1", "1/0")
    summary = run(root, budget="smoke", jobs=3, timeout=120)
    return root, summary


def test_results_json_schema(course):
    root, summary = course
    on_disk = json.loads((root / "build" / "results.json").read_text())
    assert on_disk == summary
    assert summary["budget"] == "smoke"
    assert list(summary["notebooks"]) == ["solutions/pytorch/00_ok.ipynb", "solutions/pytorch/01_fail.ipynb",
                                          "solutions/tensorflow/00_ok.ipynb"]
    for entry in summary["notebooks"].values():
        assert set(entry) == {"status", "seconds", "error", "results"}
        assert isinstance(entry["seconds"], float) and entry["seconds"] > 0


def test_ok_notebook_results_are_loaded(course):
    root, summary = course
    entry = summary["notebooks"]["solutions/pytorch/00_ok.ipynb"]
    assert entry["status"] == "ok", entry["error"]
    assert entry["error"] is None
    assert entry["results"]["variants"] == {"a": [1.0, 2.0]}
    assert entry["results"]["budget"] == "smoke" and entry["results"]["seed"] == 0
    assert (root / "build" / "results" / "solutions" / "pytorch" / "00_ok.json").exists()
    assert (root / "build" / "executed" / "solutions" / "pytorch" / "00_ok.ipynb").exists()


def test_failing_notebook_names_cell_and_error(course):
    _, summary = course
    entry = summary["notebooks"]["solutions/pytorch/01_fail.ipynb"]
    assert entry["status"] == "failed"
    assert entry["results"] is None
    assert "solutions/pytorch/01_fail.ipynb" in entry["error"]
    assert "cell 2 " in entry["error"]  # index in the source notebook, papermill's cells not counted
    assert "ZeroDivisionError" in entry["error"] and "1/0" in entry["error"]


def test_report_has_table_charts_and_tracks_side_by_side(course):
    root, _ = course
    report = (root / "build" / "report.md").read_text()
    assert "| solutions/pytorch/01_fail.ipynb | failed |" in report
    assert "ZeroDivisionError" in report
    assert "| a | 1.5 ± 0.71 (n=2) | 2 ± 0.71 (n=2) |" in report  # pytorch | tensorflow
    for name in ("solutions-pytorch-00_ok.png", "solutions-tensorflow-00_ok.png"):
        assert (root / "build" / "charts" / name).stat().st_size > 1000
        assert f"(charts/{name})" in report


def test_cli_run_exits_1_naming_the_failed_notebook(course):
    root, _ = course
    result = subprocess.run([sys.executable, "-m", "course_lib", "run", "--root", str(root), "--budget", "smoke",
                             "--only", "01_fail", "--out", "build_cli"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "FAILED solutions/pytorch/01_fail.ipynb" in result.stderr
    assert "ZeroDivisionError" in result.stderr
    assert (root / "build_cli" / "report.md").exists()


def test_timeout_marks_notebook_failed(tmp_path):
    path = write_nb(tmp_path, "solutions/pytorch/02_slow.ipynb", "import time\ntime.sleep(120)")
    start = time.perf_counter()
    entry = run_one(path, tmp_path, budget="smoke", out="build", timeout=10, seed=0)
    assert time.perf_counter() - start < 30
    assert entry["status"] == "failed"
    assert "02_slow.ipynb: timed out after 10 s" in entry["error"]
    # Best effort (needs the kernel to have started within the limit): the running cell.
    assert entry["error"].endswith("(in cell 1 (cell starts: import time))") or entry["error"].endswith(" s")


def test_refresh_rewrites_outputs_in_place_without_papermill_traces(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # refresh must not pass this on: figures must become outputs
    path = write_nb(tmp_path, "solutions/pytorch/00_ok.ipynb",
                    "import os\nprint(os.environ['COURSE_BUDGET'], os.environ['COURSE_PROGRESS'])",
                    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
                    "from course_lib import results\n_ = results.record(RESULTS_PATH, 'm', True, {'a': [1.0]})")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["papermill"] = {"duration": 1.0}
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    nbformat.write(nb, path)
    metadata_before = nb.metadata

    assert refresh(tmp_path, budget="smoke") == [path.resolve()]
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "smoke 0\n"
    assert any("image/png" in o.get("data", {}) for o in nb.cells[2].outputs)
    assert nb.cells[0].metadata == {"tags": ["parameters"]}
    assert all(c.metadata == {} for c in nb.cells[1:])
    assert nb.metadata == metadata_before


def test_refresh_fails_when_a_solution_records_no_results(tmp_path):
    path = write_nb(tmp_path, "solutions/pytorch/00_quiet.ipynb", "x = 1")
    before = path.read_bytes()
    with pytest.raises(NotebookError, match=r"00_quiet\.ipynb: recorded no results"):
        refresh(tmp_path, budget="smoke")
    assert path.read_bytes() == before


def test_refresh_failure_leaves_notebook_untouched(tmp_path):
    path = write_nb(tmp_path, "solutions/tensorflow/01_fail.ipynb", "x = 1", "1/0")
    before = path.read_bytes()
    with pytest.raises(NotebookError, match=r"01_fail\.ipynb: cell 2 .*ZeroDivisionError"):
        refresh(tmp_path, track="tensorflow", budget="smoke")
    assert path.read_bytes() == before


def test_parallel_runs_start_lesson_by_lesson_with_the_tracks_side_by_side():
    rels = [f"solutions/{t}/{n}.ipynb" for t in ("pytorch", "tensorflow") for n in ("00_a", "01_b")]
    paths = [Path("/r") / r for r in rels]
    order = [rel for _, rel in submission_order(paths, rels)]
    assert order == ["solutions/pytorch/00_a.ipynb", "solutions/tensorflow/00_a.ipynb",
                     "solutions/pytorch/01_b.ipynb", "solutions/tensorflow/01_b.ipynb"]
    assert all(p == Path("/r") / rel for p, rel in submission_order(paths, rels))
