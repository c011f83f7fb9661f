"""Grade participants' lesson notebooks: run each in its own kernel, collect the checkers' verdicts.

``DIR`` holds one folder per participant, their notebooks anywhere inside it. Each notebook's lesson and
track are read from its content (the ``ct.setup("NN_name", ...)`` call, the ``course_lib.torch`` or
``course_lib.tensorflow`` import), never from its file name; its expected exercises are the
``ex.<name>.check(`` calls of the course's own solution notebook of that lesson and track.

Each notebook is copied into a fresh temporary folder and run there by papermill at budget ``smoke``,
under a wall-clock limit, with ``$COURSE_VERDICTS_PATH`` set: the checkers append their verdicts to
that file (:meth:`course_lib.checks.Exercise.check`), so the grader never imports or executes a
submission in its own process, and never writes into ``DIR``. The gradebook (``gradebook.csv``: one row
per participant, notebook and exercise; ``gradebook.md``: per lesson, participants by exercises, then
the failures) is written into ``--out``.

Participants' code runs with the instructor's rights: this isolates a run, it does not sandbox it.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..files import atomic_write_text
from .processes import Live, interrupts, own_kernel
from .runner import PACKAGE_ROOT, check_timeout, max_jobs, run_one

VERDICTS_ENV = "COURSE_VERDICTS_PATH"  # course_lib.checks.VERDICTS_ENV (tooling imports no checker)
DEFAULT_TIMEOUT = 300.0
LAYOUT = "expected a folder with one folder per participant, each holding that participant's lesson notebooks"
NOT_REACHED, NOT_CHECKED = "not reached", "not checked"
FILES = ("gradebook.csv", "gradebook.md")
COLUMNS = ("participant", "notebook", "lesson", "track", "run_status", "seconds", "exercise", "verdict", "diagnosis",
           "error")

_SETUP = re.compile(r"""\.setup\(\s*(['"])(\d\d_\w+)\1""")
_IMPORT = re.compile(r"^\s*(?:import\s+course_lib\.(torch|tensorflow)\b|from\s+course_lib\.(torch|tensorflow)\b"
                     r"|from\s+course_lib\s+import\s+(?:.*\b)?(torch|tensorflow)\b)", re.M)
_CHECK = re.compile(r"\bex\.(\w+)\.check\(")
_MODULE_TRACK = {"torch": "pytorch", "tensorflow": "tensorflow"}


@dataclass
class Submission:
    """One notebook of one participant; ``problem`` says why it cannot be graded (then it is not run)."""
    participant: str
    notebook: str  # its path inside the participant's folder
    path: Path
    lesson: str = ""
    track: str = ""
    expected: list = field(default_factory=list)
    problem: str | None = None


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def expected_exercises(root, lesson: str, track: str) -> list[str]:
    """The exercises the course's solution notebook of ``lesson`` and ``track`` checks, in order."""
    nb = nbformat.read(Path(root) / "solutions" / track / f"{lesson}.ipynb", as_version=4)
    return list(dict.fromkeys(_CHECK.findall(_code(nb))))


def identify(path: Path, root) -> tuple[str, str, list[str]]:
    """``(lesson, track, expected exercises)`` of a notebook, from its content; ValueError says why not."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # noqa: BLE001 - not JSON, not a notebook, unreadable: all mean the same here
        raise ValueError(f"not a readable notebook ({type(e).__name__}: {' '.join(str(e).split())[:200]})") from None
    code = _code(nb)
    lessons = set(m[1] for m in _SETUP.findall(code))
    tracks = {_MODULE_TRACK[next(g for g in m if g)] for m in _IMPORT.findall(code)}
    if len(lessons) != 1:
        raise ValueError("no ct.setup(\"NN_name\", ...) call" if not lessons
                         else f"several lessons set up: {', '.join(sorted(lessons))}")
    if len(tracks) != 1:
        raise ValueError("imports neither course_lib.torch nor course_lib.tensorflow" if not tracks
                         else "imports both course_lib.torch and course_lib.tensorflow")
    lesson, track = lessons.pop(), tracks.pop()
    if not (Path(root) / "solutions" / track / f"{lesson}.ipynb").is_file():
        raise ValueError(f"sets up lesson {lesson!r}, which the course's {track} track does not have")
    return lesson, track, expected_exercises(root, lesson, track)


def _hidden(path: Path, base: Path) -> bool:
    # Jupyter's .ipynb_checkpoints/ holds stale copies; dot folders are never a submission.
    return any(part.startswith(".") for part in path.relative_to(base).parts)


def find_submissions(folder, root=PACKAGE_ROOT) -> tuple[list[Submission], list[str]]:
    """Every notebook under ``folder`` (one folder per participant), identified; and the participants with
    none. ValueError, saying what is expected, when ``folder`` is missing, empty or laid out otherwise."""
    folder, root = Path(folder), Path(root)
    if not (root / "solutions").is_dir():
        raise ValueError(f"{root} has no solutions/ folder: the grader needs the course's solution notebooks")
    if not folder.is_dir():
        raise ValueError(f"{folder} {'is not a folder' if folder.exists() else 'does not exist'}: {LAYOUT}")
    loose = sorted(p.name for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if loose:
        named = ", ".join(loose[:3]) + (", ..." if len(loose) > 3 else "")
        raise ValueError(f"{folder} holds notebooks directly ({named}): {LAYOUT}, "
                         f"e.g. {folder}/alice/00_baselines.ipynb")
    people = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    found, empty = [], []
    for person in people:
        paths = sorted(p for p in person.rglob("*.ipynb") if p.is_file() and not _hidden(p, person))
        if not paths:
            empty.append(person.name)
        for path in paths:
            sub = Submission(person.name, path.relative_to(person).as_posix(), path)
            try:
                sub.lesson, sub.track, sub.expected = identify(path, root)
            except ValueError as e:
                sub.problem = str(e)
            found.append(sub)
    if not found:
        raise ValueError(f"no notebooks under {folder}"
                         + (f" (folders without notebooks: {', '.join(empty)})" if empty else "") + f": {LAYOUT}")
    return found, empty


def read_verdicts(path: Path) -> dict[str, dict]:
    """The checkers' log: the last line per exercise wins (a learner may rerun a cell). A line cut short by a
    killed kernel, or not ours, is skipped."""
    verdicts = {}
    if not path.exists():
        return verdicts
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            verdicts[str(entry["exercise"])] = {"status": str(entry["status"]), "diagnosis": entry.get("diagnosis")}
        except (ValueError, KeyError, TypeError):
            continue
    return verdicts


def _outcome(entry: dict, rel: str) -> tuple[str, str | None]:
    """run_one's result as the gradebook's run status and a one-line error."""
    if entry["status"] == "ok":
        return "ok", None
    error = " ".join((entry["error"] or "").split()).removeprefix(f"{rel}: ")
    if entry["status"] == "interrupted":
        return "interrupted", error
    for start, status in (("timed out", "timed out"), ("the kernel died", "kernel died"),
                          ("papermill exited", "failed"), ("could not run", "failed")):
        if error.startswith(start):
            return status, error
    return "raised", error  # runner.first_error: the first cell that raised


def grade_one(sub: Submission, timeout: float, kernel_path: str | None = None, live: Live | None = None) -> dict:
    """Run one submission on a copy, in a fresh temporary folder; its run status, time, error and verdicts."""
    if sub.problem:
        return {"status": "unrecognised", "seconds": 0.0, "error": sub.problem, "verdicts": {}}
    # What the notebook leaves behind may be odd (read-only files, ...): it must not stop the grading.
    with tempfile.TemporaryDirectory(prefix="course-grade-", ignore_cleanup_errors=True) as tmp:
        copy = Path(tmp) / sub.path.name
        log = Path(tmp) / "verdicts.jsonl"
        try:
            shutil.copyfile(sub.path, copy)  # content only: the submission's own metadata stays as it was
            entry = run_one(copy, tmp, budget="smoke", out=Path(tmp) / "run", timeout=timeout, live=live,
                            kernel_path=kernel_path, env={VERDICTS_ENV: log, "COURSE_BUDGET": "smoke"})
        except Exception as e:  # noqa: BLE001 - one notebook the runner could not start; the others go on
            entry = {"status": "failed", "seconds": 0.0, "error": f"{copy.name}: could not run it: {e}"}
        status, error = _outcome(entry, copy.name)
        return {"status": status, "seconds": entry["seconds"], "error": error, "verdicts": read_verdicts(log)}


def exercise_rows(sub: Submission, result: dict) -> list[dict]:
    """One row per exercise: the expected ones in the lesson's order, then any other the notebook checked."""
    base = {"participant": sub.participant, "notebook": sub.notebook, "lesson": sub.lesson, "track": sub.track,
            "run_status": result["status"], "seconds": result["seconds"], "error": result["error"] or ""}
    if sub.problem:
        return [{**base, "exercise": "", "verdict": "", "diagnosis": ""}]
    rows = []
    for name in list(dict.fromkeys(sub.expected + list(result["verdicts"]))):
        v = result["verdicts"].get(name)
        verdict = v["status"] if v else (NOT_CHECKED if result["status"] == "ok" else NOT_REACHED)
        rows.append({**base, "exercise": name, "verdict": verdict, "diagnosis": (v or {}).get("diagnosis") or ""})
    return rows


def grade(folder, out="gradebook", timeout: float = DEFAULT_TIMEOUT, jobs: int = 1, force: bool = False,
          root=PACKAGE_ROOT, log=sys.stderr) -> dict:
    """Grade every notebook under ``folder`` into ``out``; one progress line per notebook on ``log``.

    Returns ``{"rows", "empty", "paths"}``. Refuses (ValueError) an ``out`` inside ``folder`` and, without
    ``force``, an ``out`` that already holds a gradebook, before anything runs."""
    folder, out = Path(folder).resolve(), Path(out).resolve()
    timeout = DEFAULT_TIMEOUT if timeout is None else check_timeout(timeout)
    if out == folder or folder in out.parents:
        raise ValueError(f"--out {out} is inside {folder}: the grader never writes into the submissions' folder")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; the gradebook needs a folder")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    old = [out / name for name in FILES if (out / name).exists()]
    if old and not force:
        raise ValueError(f"{out} already holds a gradebook ({', '.join(p.name for p in old)}); pass another --out, "
                         "or --force to replace it")
    subs, empty = find_submissions(folder, root)
    if jobs > max_jobs():
        print(f"note: --jobs {jobs} capped at {max_jobs()}, the cores this machine has", file=log)
        jobs = max_jobs()
    runnable = sum(not s.problem for s in subs)
    print(f"grading {len(subs)} notebook(s) of {len({s.participant for s in subs})} participant(s), {jobs} at a "
          f"time, at most {timeout:g} s each", file=log, flush=True)
    results, live = {}, Live()
    with own_kernel() as kernel_path, interrupts(live), ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_one, s, timeout, kernel_path, live): i for i, s in enumerate(subs)}
        for done, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            results[i] = result = future.result()
            sub, graded = subs[i], result["verdicts"].values()
            how = (f": {sub.problem}" if sub.problem else f" in {result['seconds']:.1f} s, "
                   f"{sum(v['status'] == 'correct' for v in graded)} of {len(sub.expected)} exercise(s) correct")
            print(f"[{done}/{len(subs)}] {sub.participant}/{sub.notebook}: {result['status']}{how}", file=log,
                  flush=True)
    if live.stopping.is_set():
        raise KeyboardInterrupt("grading interrupted; no gradebook written")
    rows = [row for i, sub in enumerate(subs) for row in exercise_rows(sub, results[i])]
    paths = write_gradebook(out, rows, empty, timeout)
    print(f"graded {runnable} notebook(s); unrecognised: {len(subs) - runnable}", file=log, flush=True)
    return {"rows": rows, "empty": empty, "paths": paths}


# --------------------------------------------------------------------------- the gradebook

def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _mark(row: dict) -> str:
    return {"correct": "✓", "not attempted": "–"}.get(row["verdict"]) or (
        f"✗ {row['diagnosis']}" if row["verdict"] == "wrong" else row["verdict"])


def gradebook_markdown(rows: list[dict], empty: list[str], timeout: float) -> str:
    """Per lesson, a table participant x exercise (✓ correct, ✗ diagnosis, – not attempted, not reached,
    not checked), with each notebook's run status and time; then the failures and the unrecognised notebooks."""
    notebooks = {}
    for row in rows:
        notebooks.setdefault((row["participant"], row["notebook"]), []).append(row)
    lines = ["# Gradebook", "", f"{len(notebooks)} notebook(s) of {len({p for p, _ in notebooks})} participant(s), "
             f"run at budget smoke with at most {timeout:g} s each. ✓ correct, ✗ wrong (with the diagnosis), "
             "– not attempted; *not reached*: the run stopped before that exercise's check; *not checked*: the "
             "run finished without calling it.", ""]
    for lesson in sorted({r["lesson"] for r in rows if r["lesson"]}):
        mine = {k: v for k, v in notebooks.items() if v[0]["lesson"] == lesson}
        exercises = list(dict.fromkeys(r["exercise"] for v in mine.values() for r in v))
        header = ("participant", "notebook", "track", "run", "time (s)", *exercises)
        lines += [f"## {lesson}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        for (person, notebook), v in mine.items():
            marks = {r["exercise"]: _mark(r) for r in v}
            lines.append("| " + " | ".join(_cell(c) for c in (
                person, notebook, v[0]["track"], v[0]["run_status"], f"{v[0]['seconds']:.0f}",
                *(marks.get(e, "") for e in exercises))) + " |")
        lines.append("")
    failed = [(k, v[0]) for k, v in notebooks.items() if v[0]["error"]]
    if failed:
        lines += ["## Failures", ""] + [f"- **{_cell(p)}** / {_cell(n)}: {r['run_status']}: {_cell(r['error'])}"
                                        for (p, n), r in failed] + [""]
    if empty:
        lines += ["## Participants without notebooks", "", ", ".join(_cell(p) for p in empty), ""]
    return "\n".join(lines)


def write_gradebook(out: Path, rows: list[dict], empty: list[str], timeout: float) -> list[Path]:
    """Write ``gradebook.csv`` and ``gradebook.md`` into ``out`` (each atomically); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    paths = [out / name for name in FILES]
    atomic_write_text(paths[0], table.getvalue())
    atomic_write_text(paths[1], gradebook_markdown(rows, empty, timeout))
    return paths
