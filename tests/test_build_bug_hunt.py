"""The bug hunt's ``### BUGGY`` marker (lesson 10): inside a solution block, the fix above the marker
runs in the solution; the planted bug below it, written as comments there, is what the lesson runs."""
from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.tooling.answers import _answer
from course_lib.tooling.notebooks import make_lesson

HUNT = (
    "def mean_of(values):\n"
    "    \"\"\"The mean of a list of numbers.\"\"\"\n"
    "    ### BEGIN SOLUTION\n"
    "    total = sum(values)\n"
    "    return total / len(values)\n"
    "    ### BUGGY\n"
    "    # total = sum(values)\n"
    "    # if total:\n"
    "    #     pass\n"
    "    #\n"
    "    # return total / (len(values) - 1)\n"
    "    ### END SOLUTION\n"
    "\n"
    "\n"
    "mean_of = ex.mean_of.check(mean_of)"
)


def _lesson_source(source, cell=new_code_cell):
    nb = new_notebook(cells=[cell(source)])
    return make_lesson(nb).cells[0].source


def test_the_lesson_runs_the_bug_and_the_solution_the_fix():
    lesson = _lesson_source(HUNT)
    assert "BEGIN SOLUTION" not in lesson and "BUGGY" not in lesson and "END SOLUTION" not in lesson
    assert "return total / len(values)" not in lesson  # the fix is not shown
    body = lesson.replace("mean_of = ex.mean_of.check(mean_of)", "")
    namespace: dict = {}
    exec(compile(body, "<lesson>", "exec"), namespace)  # valid Python, and it runs
    assert namespace["mean_of"]([1.0, 2.0, 3.0]) == 3.0  # the planted bug: divides by n - 1
    solution: dict = {}
    exec(compile(HUNT.replace("mean_of = ex.mean_of.check(mean_of)", ""), "<solution>", "exec"), solution)
    assert solution["mean_of"]([1.0, 2.0, 3.0]) == 2.0


def test_the_solutions_comment_lines_are_the_lessons_code_lines_exactly():
    lines = HUNT.split("\n")
    commented = lines[lines.index("    ### BUGGY") + 1: lines.index("    ### END SOLUTION")]
    lesson = _lesson_source(HUNT).split("\n")
    start = lesson.index('    """The mean of a list of numbers."""') + 1
    got = lesson[start: start + len(commented)]
    assert got == [line.replace("# ", "", 1) if "# " in line else "" for line in commented]
    assert got[3] == ""  # a bare "#" is an empty line


def test_the_written_answer_is_the_fix():
    answer = _answer(HUNT)
    assert "return total / len(values)" in answer
    assert "BUGGY" not in answer and "len(values) - 1" not in answer and "check(" not in answer


def test_blocks_without_the_marker_still_become_stubs():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    assert "raise NotImplementedError" in _lesson_source(source)


@pytest.mark.parametrize("source,message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### BUGGY\n    return 2\n    ### END SOLUTION",
     "is not a comment"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### BUGGY\n    ### END SOLUTION", "no buggy lines"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BUGGY\n    # return 2\n    ### END SOLUTION", "no fix"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### BUGGY\n    # return 2\n    ### BUGGY\n"
     "    # return 3\n    ### END SOLUTION", "expected one"),
    ("def f():\n    ### BUGGY\n    # return 2\n    return 1", "outside a solution block"),
])
def test_a_malformed_bug_hunt_block_raises_a_clear_error(source, message):
    with pytest.raises(ValueError, match=message):
        _lesson_source(source)


def test_the_marker_in_a_markdown_cell_is_an_error():
    with pytest.raises(ValueError, match="markdown cell"):
        _lesson_source("### BEGIN SOLUTION\nright\n### BUGGY\n# wrong\n### END SOLUTION", new_markdown_cell)
