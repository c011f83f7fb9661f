"""The grader: participants' notebooks run in kernels of their own, on copies, and the gradebook says per
exercise what each participant achieved, and how each run ended (ok, raised, timed out, kernel died).

One grading run (``python -m course_lib grade`` through its ``main``) of lesson 02, the fastest PyTorch
lesson at smoke, is shared by the assertions. Its submissions are made from the course's own notebooks."""
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from course_lib.exercises.lesson02_early_stopping import BEST_STEP_MISTAKES
from course_lib.tooling.cli import main
from course_lib.tooling.grading import Submission, exercise_rows, find_submissions, read_verdicts

ROOT = Path(__file__).resolve().parents[1]
LESSON = "02_early_stopping"
SOLUTION = ROOT / "solutions" / "pytorch" / f"{LESSON}.ipynb"
SHIPPED = ROOT / "lessons" / "pytorch" / f"{LESSON}.ipynb"
FIRST, SECOND = "should_stop", "best_step"
# Seconds per notebook: the course's own limit at smoke (tests/test_notebooks.py). The others took 21-42 s here,
# two at a time on a busy machine (10 s alone). The hanging one costs this much, but its participant comes first:
# it hangs while the other job grades the rest.
TIMEOUT = float(os.environ.get("COURSE_SMOKE_LIMIT", "60"))
# best_step answered with the last evaluation's index: the checker's known mistake of that name
LAST_STEP = next(m for m in BEST_STEP_MISTAKES if m.impl([1.0, 3.0, 2.0], 0.0) == 2).name


def _with_cell(nb, source: str, after: str):
    """``nb`` with a code cell ``source`` inserted after the first cell whose code contains ``after``."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # a deep copy that stays a notebook
    at = next(i for i, c in enumerate(nb.cells) if after in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    return nb


def _wrong_best_step(nb):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cell = next(c for c in nb.cells if f"ex.{SECOND}.check(" in c.source)
    body = "def best_step(val_losses, min_delta):\n    return len(val_losses) - 1\n\n\n"
    cell.source = body + cell.source[cell.source.index(f"{SECOND} = ex.{SECOND}.check("):]
    return nb


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    submissions, witness = base / "submissions", base / "witness.json"
    solution, shipped = nbformat.read(SOLUTION, as_version=4), nbformat.read(SHIPPED, as_version=4)
    after_first = f"ex.{FIRST}.check("
    made = {  # participant: (file name, notebook); file names say nothing: the content tells the lesson
        "bea": ("mine.ipynb", solution),
        "cy": ("lesson.ipynb", _with_cell(_wrong_best_step(solution), "import json, os\n"
                                          f"open({str(witness)!r}, 'w').write(json.dumps({{'pid': os.getpid(), "
                                          "'cwd': os.getcwd()}))", f"ex.{SECOND}.check(")),
        "dan": (f"{LESSON}.ipynb", shipped),
        "al": ("week2/early.ipynb", _with_cell(solution, "import time\ntime.sleep(600)", after_first)),
        "eve": ("crash.ipynb", _with_cell(solution, "import os\nos._exit(1)", after_first)),
        "fay": ("raises.ipynb", _with_cell(solution, "raise RuntimeError('my own bug')", after_first)),
        "gus": ("notes.ipynb", nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])),
    }
    for person, (name, nb) in made.items():
        (submissions / person / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, submissions / person / name)
    # Jupyter's autosave copies are not submissions
    (submissions / "bea" / ".ipynb_checkpoints").mkdir()
    nbformat.write(solution, submissions / "bea" / ".ipynb_checkpoints" / "mine-checkpoint.ipynb")
    (submissions / "hal").mkdir()  # a participant who handed in nothing
    before, modules = _files(submissions), set(sys.modules)
    out = base / "gradebook"
    code = main(["grade", str(submissions), "--out", str(out), "--timeout", str(TIMEOUT), "--jobs", "2"])
    rows = list(csv.DictReader((out / "gradebook.csv").read_text("utf-8").splitlines()))
    return {"code": code, "submissions": submissions, "before": before, "out": out, "witness": witness,
            "new_modules": set(sys.modules) - modules, "markdown": (out / "gradebook.md").read_text("utf-8"),
            "rows": {(r["participant"], r["exercise"]): r for r in rows}, "all_rows": rows}


def _run(graded, person):
    return next(r for (p, _), r in graded["rows"].items() if p == person)


def test_the_run_finishes_and_every_notebook_has_its_rows(graded):
    assert graded["code"] == 0
    assert {r["participant"] for r in graded["all_rows"]} == {"bea", "cy", "dan", "al", "eve", "fay", "gus"}
    assert not any(".ipynb_checkpoints" in r["notebook"] for r in graded["all_rows"])
    for person in ("bea", "cy", "dan", "al", "eve", "fay"):
        row = _run(graded, person)
        assert (row["lesson"], row["track"]) == (LESSON, "pytorch"), row
        assert [e for p, e in graded["rows"] if p == person] == [FIRST, SECOND]


def test_verdicts_per_exercise(graded):
    rows = graded["rows"]

    def verdict(person, exercise):
        return rows[person, exercise]["verdict"], rows[person, exercise]["diagnosis"]

    assert verdict("bea", FIRST) == verdict("bea", SECOND) == ("correct", "")
    assert verdict("cy", FIRST) == ("correct", "") and verdict("cy", SECOND) == ("wrong", LAST_STEP)
    assert verdict("dan", FIRST) == verdict("dan", SECOND) == ("not attempted", "")
    for person in ("al", "eve", "fay"):  # the run stopped after the first exercise's check
        assert verdict(person, FIRST) == ("correct", "") and verdict(person, SECOND) == ("not reached", "")


def test_how_each_run_ended(graded):
    status = {p: (_run(graded, p)["run_status"], _run(graded, p)["error"]) for p in ("bea", "cy", "dan", "al",
                                                                                     "eve", "fay", "gus")}
    for person in ("bea", "cy", "dan"):
        assert status[person] == ("ok", "")
    assert status["al"][0] == "timed out" and f"after {TIMEOUT:g} s" in status["al"][1]
    assert float(_run(graded, "al")["seconds"]) >= TIMEOUT
    assert status["eve"][0] == "kernel died"
    assert status["fay"][0] == "raised" and "RuntimeError: my own bug" in status["fay"][1]
    assert "\n" not in status["fay"][1]
    assert status["gus"][0] == "unrecognised" and "setup" in status["gus"][1]


def test_the_markdown_summary(graded):
    md = graded["markdown"]
    table = md[md.index(f"## {LESSON}"):]
    header = next(line for line in table.splitlines() if line.startswith("| participant"))
    assert header.endswith(f"| {FIRST} | {SECOND} |")
    lines = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| ")}
    assert lines["bea"].endswith("| ✓ | ✓ |")
    assert lines["cy"].endswith(f"| ✓ | ✗ {LAST_STEP} |")
    assert lines["dan"].endswith("| – | – |")
    assert "| timed out |" in lines["al"] and lines["al"].endswith("| ✓ | not reached |")
    assert "| kernel died |" in lines["eve"] and "| raised |" in lines["fay"]
    failures = md[md.index("## Failures"):]
    assert "RuntimeError: my own bug" in failures and "**gus** /" in failures and "**al** /" in failures
    assert "hal" in md[md.index("## Participants without notebooks"):]


def test_submissions_are_left_untouched_and_ran_elsewhere(graded):
    assert _files(graded["submissions"]) == graded["before"]  # same files, bytes and mtimes; nothing new
    seen = json.loads(graded["witness"].read_text())
    assert seen["pid"] != os.getpid()
    cwd = Path(seen["cwd"])
    assert cwd.is_relative_to(Path(tempfile.gettempdir()).resolve()) and not cwd.exists()  # a temporary copy
    assert not cwd.is_relative_to(graded["submissions"])
    here = str(graded["submissions"])
    assert not any(p.startswith(here) for p in sys.path)
    assert not [m for m in graded["new_modules"] if str(getattr(sys.modules.get(m), "__file__", "")).startswith(here)]


def test_an_earlier_gradebook_is_replaced_only_when_asked(tmp_path, capsys):
    submissions, out = tmp_path / "submissions", tmp_path / "gradebook"
    notes = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])  # not run: unrecognised
    for person in ("ada", "bo"):
        (submissions / person).mkdir(parents=True)
        nbformat.write(notes, submissions / person / "notes.ipynb")
        if person == "ada":
            assert main(["grade", str(submissions), "--out", str(out)]) == 0
            first = (out / "gradebook.md").read_text("utf-8")
    assert main(["grade", str(submissions), "--out", str(out)]) == 1
    assert "already holds a gradebook" in capsys.readouterr().err
    assert (out / "gradebook.md").read_text("utf-8") == first
    assert main(["grade", str(submissions), "--out", str(out), "--force"]) == 0
    assert "**bo** /" in (out / "gradebook.md").read_text("utf-8") and "**bo** /" not in first


@pytest.mark.parametrize("layout, expected", [
    ("missing", "does not exist"), ("empty", "no notebooks"), ("loose", "holds notebooks directly"),
    ("out inside", "inside")])
def test_bad_folders_are_refused_with_what_is_expected(tmp_path, capsys, layout, expected):
    submissions, out = tmp_path / "submissions", tmp_path / "gradebook"
    if layout != "missing":
        (submissions / "bea").mkdir(parents=True)
    if layout in ("loose", "out inside"):
        nbformat.write(nbformat.read(SHIPPED, as_version=4), submissions / ("bea" if layout == "out inside" else "")
                       / "02.ipynb")
    if layout == "out inside":
        out = submissions / "gradebook"
    assert main(["grade", str(submissions), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert expected in err and ("one folder per participant" in err or layout == "out inside"), err
    assert not out.exists()


def test_a_notebook_is_identified_by_its_content(tmp_path):
    tf = nbformat.read(ROOT / "lessons" / "tensorflow" / "03_lr_schedules.ipynb", as_version=4)
    (tmp_path / "bea").mkdir()
    nbformat.write(tf, tmp_path / "bea" / "00_baselines_pytorch.ipynb")  # a misleading name
    (tmp_path / "bea" / "broken.ipynb").write_text("{ not json")
    tf_sub, broken = find_submissions(tmp_path)[0]
    assert (tf_sub.lesson, tf_sub.track, tf_sub.problem) == ("03_lr_schedules", "tensorflow", None)
    assert tf_sub.expected == ["lr_at", "warmup_cosine"]
    assert broken.problem.startswith("not a readable notebook")


def test_the_last_verdict_of_an_exercise_wins_and_a_missing_one_is_explained(tmp_path):
    log = tmp_path / "verdicts.jsonl"
    log.write_text('{"exercise": "a", "status": "wrong", "diagnosis": "raised"}\n'
                   '{"exercise": "a", "status": "correct", "diagnosis": null}\n'
                   '{"exercise": "c", "status": "correct", "diagnosis": null}\n'
                   '{"exercise": "b", "stat')  # a kernel killed mid-line
    verdicts = read_verdicts(log)
    assert verdicts == {"a": {"status": "correct", "diagnosis": None}, "c": {"status": "correct", "diagnosis": None}}
    sub = Submission("ada", "x.ipynb", tmp_path / "x.ipynb", LESSON, "pytorch", ["a", "b"])
    for status, missing in (("ok", "not checked"), ("timed out", "not reached")):
        rows = exercise_rows(sub, {"status": status, "seconds": 1.0, "error": None, "verdicts": verdicts})
        assert [(r["exercise"], r["verdict"]) for r in rows] == [("a", "correct"), ("b", missing), ("c", "correct")]
