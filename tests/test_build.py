"""Lesson generation: solution stubs, stripping, deterministic output, ``build --check``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.tooling.notebooks import build, discover, lesson_path, make_lesson, read_notebook, write_notebook

REPO = Path(__file__).resolve().parents[1]
RAISE = 'raise NotImplementedError("Exercise: replace this line with your code")'


def solution_notebook():
    """A solution as it looks after papermill or a Jupyter session: outputs and clutter."""
    nb = new_notebook()
    nb.metadata = {"kernelspec": {"name": "venv", "display_name": "My venv", "language": "python"},
                   "language_info": {"name": "python", "version": "3.11.7"},
                   "papermill": {"start_time": "2024-01-01T00:00:00"}}
    params = new_code_cell('BUDGET = "auto"\nSEED = 0\nRESULTS_PATH = None', execution_count=1,
                           metadata={"tags": ["parameters"], "papermill": {"duration": 0.1},
                                     "execution": {"iopub.execute_input": "2024-01-01"}})
    injected = new_code_cell('BUDGET = "smoke"', metadata={"tags": ["injected-parameters"]})
    function = new_code_cell(
        "def add_one(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    ### END SOLUTION\n"
        "\n"
        "print(add_one(1))",
        execution_count=2, metadata={"collapsed": False, "scrolled": True, "tags": ["exercise"]},
        outputs=[new_output("stream", name="stdout", text="2\n")])
    top_level = new_code_cell(
        "### BEGIN SOLUTION\n"
        "lr = 0.1\n"
        "for step in range(3):\n"
        "    inner = step\n"
        "lr = lr / 2\n"
        "steps: int = 3\n"
        "### END SOLUTION\n"
        "print(lr)",
        execution_count=3,
        outputs=[new_output("execute_result", data={"text/plain": "0.05"}, execution_count=3)])
    no_assignment = new_code_cell("### BEGIN SOLUTION\nprint('hi')\n### END SOLUTION", execution_count=4)
    answer = new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
                               metadata={"tags": ["framework"]})
    nb.cells = [params, injected, function, top_level, no_assignment, answer]
    return nb


def write_solution(root: Path, nb=None, track="pytorch", name="00_demo.ipynb") -> Path:
    path = root / "solutions" / track / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb if nb is not None else solution_notebook(), path)
    return path


def cli(*args):
    return subprocess.run([sys.executable, "-m", "course_lib", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------- make_lesson

def test_indented_block_becomes_raise_not_implemented():
    lesson = make_lesson(solution_notebook())
    source = lesson.cells[1].source
    assert source == f"def add_one(x):\n    # YOUR CODE HERE\n    {RAISE}\n\nprint(add_one(1))"
    compile(source, "<lesson>", "exec")  # stubs must never be syntax errors


def test_top_level_block_becomes_none_placeholders():
    lesson = make_lesson(solution_notebook())
    # Distinct column-0 targets in order; "inner" (indented) and the loop are not targets.
    assert lesson.cells[2].source == ("lr = None  # YOUR CODE HERE\n"
                                      "steps = None  # YOUR CODE HERE\n"
                                      "print(lr)")
    assert lesson.cells[3].source == "# YOUR CODE HERE"
    for cell in lesson.cells[1:4]:
        compile(cell.source, "<lesson>", "exec")


def test_givens_only_the_solution_used_stay_and_lint_clean(tmp_path):
    """An import or a local that only the removed solution used stays in the lesson (the learner's code
    needs it) with a noqa that says why; names the lesson still uses are left as they are."""
    nb = new_notebook()
    nb.cells = [new_code_cell("import math\nimport os\n\nprint(os.sep)"),
                new_code_cell("def f(x):\n    b1, b2 = 0.9, 0.99\n    n = len(x)\n    print(n)\n"
                              "    ### BEGIN SOLUTION\n    return math.cos(b1 * b2) * n\n    ### END SOLUTION\n")]
    lesson = make_lesson(nb)
    assert lesson.cells[0].source == "import math  # noqa: F401 - given for your code\nimport os\n\nprint(os.sep)"
    assert lesson.cells[1].source == ("def f(x):\n    b1, b2 = 0.9, 0.99  # noqa: F841 - given for your code\n"
                                      f"    n = len(x)\n    print(n)\n    # YOUR CODE HERE\n    {RAISE}\n")
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment")
    path = tmp_path / "lesson.ipynb"
    write_notebook(lesson, path)
    run = subprocess.run([str(ruff), "check", "--isolated", "--select", "F", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_markdown_block_becomes_answer_placeholder():
    lesson = make_lesson(solution_notebook())
    assert lesson.cells[4].source == "Why?\n\nYOUR ANSWER HERE"


def test_outputs_counts_and_metadata_stripped_tags_kept():
    solution = solution_notebook()
    lesson = make_lesson(solution)
    assert [c.metadata for c in lesson.cells] == [
        {"tags": ["parameters"]}, {"tags": ["exercise"]}, {}, {}, {"tags": ["framework"]}]
    code = [c for c in lesson.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert lesson.metadata == {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}
    # The injected-parameters cell is gone; ids are kept for stable diffs.
    assert [c.id for c in lesson.cells] == [c.id for i, c in enumerate(solution.cells) if i != 1]
    # make_lesson is pure.
    assert solution.cells[2].outputs and "papermill" in solution.metadata


def test_old_notebooks_keep_having_no_cell_ids(tmp_path):
    nb = solution_notebook()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    write_notebook(make_lesson(nb), tmp_path / "lesson.ipynb")
    assert all("id" not in c for c in read_notebook(tmp_path / "lesson.ipynb").cells)


@pytest.mark.parametrize("source, line", [
    ("x = 1\n### BEGIN SOLUTION\nx = 2", "no matching"),
    ("### END SOLUTION\nx = 2", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside"),
])
def test_unbalanced_markers_raise_naming_the_cell(source, line):
    nb = new_notebook(cells=[new_code_cell("a = 1"), new_code_cell(source)])
    with pytest.raises(ValueError, match=rf"demo\.ipynb: cell 1: .*{line}"):
        make_lesson(nb, name="demo.ipynb")


def test_unbalanced_markers_in_markdown_raise():
    nb = new_notebook(cells=[new_markdown_cell("### BEGIN SOLUTION\nBecause.")])
    with pytest.raises(ValueError, match="cell 0"):
        make_lesson(nb)


# --------------------------------------------------------------------------- paths and discovery

def test_lesson_path_and_discover(tmp_path):
    a = write_solution(tmp_path, track="tensorflow", name="01_b.ipynb")
    b = write_solution(tmp_path, track="pytorch", name="01_b.ipynb")
    c = write_solution(tmp_path, track="pytorch", name="00_a.ipynb")
    root = tmp_path.resolve()
    assert lesson_path(b, tmp_path) == root / "lessons" / "pytorch" / "01_b.ipynb"
    assert lesson_path("solutions/pytorch/01_b.ipynb", tmp_path) == root / "lessons" / "pytorch" / "01_b.ipynb"
    with pytest.raises(ValueError, match="not under"):
        lesson_path(tmp_path / "lessons" / "pytorch" / "00_a.ipynb", tmp_path)
    assert discover(tmp_path) == [c.resolve(), b.resolve(), a.resolve()]
    assert discover(tmp_path, track="tensorflow") == [a.resolve()]
    assert discover(tmp_path, only="pytorch/01") == [b.resolve()]
    assert discover(tmp_path, kind="lessons") == []
    with pytest.raises(ValueError, match="valid: pytorch, tensorflow, all"):
        discover(tmp_path, track="jax")
    with pytest.raises(ValueError, match="valid: solutions, lessons, all"):
        discover(tmp_path, kind="exercises")


# --------------------------------------------------------------------------- build

def test_build_is_idempotent_byte_for_byte(tmp_path):
    write_solution(tmp_path)
    lesson = tmp_path / "lessons" / "pytorch" / "00_demo.ipynb"
    assert build(tmp_path) == [lesson.resolve()]
    data = lesson.read_bytes()
    assert data.endswith(b"}\n") and not data.endswith(b"\n\n")
    os.utime(lesson, ns=(1_000_000_000, 1_000_000_000))  # any rewrite would change this
    assert build(tmp_path) == []
    assert build(tmp_path, check=True) == []
    assert lesson.read_bytes() == data
    assert lesson.stat().st_mtime_ns == 1_000_000_000
    assert write_notebook(read_notebook(lesson), lesson) is False


def test_build_check_writes_nothing_and_reports_stale(tmp_path):
    solution = write_solution(tmp_path)
    lesson = tmp_path / "lessons" / "pytorch" / "00_demo.ipynb"
    assert build(tmp_path, check=True) == [lesson.resolve()]
    assert not lesson.exists()
    build(tmp_path)
    nb = nbformat.read(solution, as_version=4)
    nb.cells[2].source += "\nprint('changed')"
    nbformat.write(nb, solution)
    before = lesson.read_bytes()
    assert build(tmp_path, check=True) == [lesson.resolve()]
    assert lesson.read_bytes() == before


def test_cli_check_fails_naming_stale_and_orphan_lessons(tmp_path):
    write_solution(tmp_path)
    result = cli("build", "--check", "--root", str(tmp_path))
    assert result.returncode == 1
    assert "lessons/pytorch/00_demo.ipynb" in result.stdout
    assert "python -m course_lib build" in result.stdout + result.stderr

    result = cli("build", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "lessons/pytorch/00_demo.ipynb" in result.stdout
    assert cli("build", "--check", "--root", str(tmp_path)).returncode == 0

    orphan = tmp_path / "lessons" / "tensorflow" / "09_gone.ipynb"
    orphan.parent.mkdir(parents=True)
    orphan.write_text(nbformat.writes(new_notebook()))
    result = cli("build", "--check", "--root", str(tmp_path))
    assert result.returncode == 1
    assert "lessons/tensorflow/09_gone.ipynb" in result.stdout


def test_cli_build_reports_unbalanced_markers(tmp_path):
    write_solution(tmp_path, new_notebook(cells=[new_code_cell("### BEGIN SOLUTION\nx = 1")]))
    result = cli("build", "--root", str(tmp_path))
    assert result.returncode == 1
    assert "solutions/pytorch/00_demo.ipynb: cell 0" in result.stderr


def test_cli_rejects_bad_choices():
    result = cli("run", "--track", "jax")
    assert result.returncode == 2
    assert "pytorch" in result.stderr and "tensorflow" in result.stderr


def test_missing_ids_in_new_notebooks_get_stable_ids(tmp_path):
    # nbformat 4.5 requires ids; nbformat would otherwise invent random ones on every build.
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_markdown_cell("text")])
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        del cell["id"]
    path = tmp_path / "solutions" / "pytorch" / "00_noid.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    build(tmp_path)
    lesson = tmp_path / "lessons" / "pytorch" / "00_noid.ipynb"
    first = lesson.read_bytes()
    assert [c.id for c in read_notebook(lesson).cells] == ["cell-0", "cell-1"]
    lesson.unlink()
    build(tmp_path)
    assert lesson.read_bytes() == first
