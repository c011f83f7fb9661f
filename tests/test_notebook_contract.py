"""The notebook contract (docs/course_design.md), checked on every committed notebook."""
import ast
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.tooling.notebooks import BEGIN, discover, lesson_path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = discover(ROOT, kind="solutions")
LESSONS = discover(ROOT, kind="lessons")
OTHER = {"pytorch": "tensorflow", "tensorflow": "pytorch"}
FORBIDDEN = {  # what a track's notebooks must never import
    "pytorch": re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b|course_lib\.tensorflow", re.M),
    "tensorflow": re.compile(r"^\s*(import|from)\s+torch\b|course_lib\.torch", re.M),
}


def _id(p):
    return p.relative_to(ROOT).as_posix()


def _read(p):
    return nbformat.read(p, as_version=4)


def _track(p):
    return p.parent.name


def test_course_has_notebooks_in_both_tracks():
    names = {t: sorted(p.name for p in SOLUTIONS if _track(p) == t) for t in OTHER}
    assert names["pytorch"], "no solution notebooks found"
    assert names["pytorch"] == names["tensorflow"], "each lesson must exist in both tracks"
    assert sorted(_id(p) for p in LESSONS) == sorted(_id(lesson_path(p, ROOT)) for p in SOLUTIONS)


@pytest.mark.parametrize("path", SOLUTIONS + LESSONS, ids=_id)
def test_first_code_cell_is_the_parameters_cell(path):
    first = next(c for c in _read(path).cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    values = {}
    for node in ast.parse(first.source).body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), \
            "the parameters cell holds only plain assignments of constants"
        values[node.targets[0].id] = node.value.value
    assert values == {"BUDGET": "auto", "SEED": 0, "RESULTS_PATH": None}


@pytest.mark.parametrize("path", [p for p in SOLUTIONS if _track(p) == "pytorch"], ids=_id)
def test_tracks_share_their_markdown(path):
    def shared_markdown(p):
        return [c.source for c in _read(p).cells
                if c.cell_type == "markdown" and "framework" not in c.metadata.get("tags", [])]
    twin = path.parents[1] / "tensorflow" / path.name
    mine, theirs = shared_markdown(path), shared_markdown(twin)
    assert len(mine) == len(theirs), "the tracks have a different number of shared markdown cells"
    for i, (a, b) in enumerate(zip(mine, theirs)):
        assert a == b, f"shared markdown cell {i} differs between tracks (tag it 'framework' if it must)"


@pytest.mark.parametrize("path", SOLUTIONS + LESSONS, ids=_id)
def test_track_never_imports_the_other_framework(path):
    code = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    match = FORBIDDEN[_track(path)].search(code)
    assert match is None, f"{_track(path)} notebook imports the other framework: {match.group(0)!r}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_solutions_are_committed_executed_without_papermill_churn(path):
    nb = _read(path)
    assert "papermill" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "commit solutions with outputs (make refresh)"
    assert not any(o.output_type == "error" for c in code for o in c.outputs), "a committed output is an error"
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in nb.cells)
    assert sum(c.source.count(BEGIN) for c in code) >= 1, "a solution notebook needs at least one exercise"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_no_cell_echoes_a_claim_object(path):
    """A claims cell prints its verdicts; a claim left as a cell's last expression would also show its repr."""
    echoed = [c.id for c in _read(path).cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "execute_result" and "".join(o.data.get("text/plain", "")).startswith("Claim(")]
    assert not echoed, f"cells {echoed} end in a bare claim call: assign it (`_ = claim....`)"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_lessons_have_stubs_and_no_outputs(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in code)
    assert BEGIN not in text and "NotImplementedError" in text


def test_lessons_are_in_sync_with_solutions():
    from course_lib.tooling.notebooks import build
    stale = build(ROOT, check=True)
    assert not stale, "stale lessons (run: python -m course_lib build): " + ", ".join(_id(p) for p in stale)


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_checked_cells_are_marked_by_tag_and_lessons_keep_the_tags(path):
    """nbval checks cells tagged nbval-check-output, so a learner's code carries no # NBVAL_ comments."""
    solution = _read(path)
    assert not any("NBVAL_" in c.source for c in solution.cells), "mark checked cells with the nbval-check-output tag"
    tagged = [c for c in solution.cells if "nbval-check-output" in c.metadata.get("tags", [])]
    assert tagged, "a solution needs at least one cell whose output nbval checks"
    lesson = _read(lesson_path(path, ROOT))
    assert [c.metadata.get("tags", []) for c in lesson.cells] == [c.metadata.get("tags", []) for c in solution.cells]


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_without_the_course_installed_the_notebook_says_how_to_install_it(path, tmp_path):
    import subprocess
    import sys
    setup = next(c.source for c in _read(path).cells if c.cell_type == "code" and "import course_lib." in c.source)
    guard = setup.split("\n")[:5]
    assert guard[0] == "try:" and "except ModuleNotFoundError" in guard[2], "the first import must be guarded"
    # -S: no site-packages, so neither the course nor the frameworks can be found (as on a bare kernel)
    out = subprocess.run([sys.executable, "-S", "-c", "\n".join(guard)], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 1
    assert "No module named 'course_lib': install the course first (`make venv`" in out.stderr
    assert f"pip install -e '.[{'torch' if _track(path) == 'pytorch' else 'tensorflow'}]'" in out.stderr
