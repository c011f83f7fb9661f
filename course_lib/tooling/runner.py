"""Execute course notebooks: papermill runs for CI and reports, in-place refresh of solutions.

* :func:`run` executes notebooks at a budget, each with papermill in its own subprocess
  (a crashing or hanging notebook cannot take the runner down, and a timeout can kill it),
  collects the results JSON each notebook writes to ``RESULTS_PATH`` and writes a report.
* :mod:`.refresh` re-executes solution notebooks in place (for the committed reference outputs).

Imports neither PyTorch nor TensorFlow: the notebooks do that in their own kernels.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path, PurePosixPath

import nbformat
from tqdm.auto import tqdm

from .. import budgets, claims as _claims, results as _results
from .crosscheck import cross_track
from .notebooks import discover
from .outfolder import OutFolder, RunInProgress, write_summary  # noqa: F401  (RunInProgress is part of the API)
from .processes import KERNEL_NAME, Live, interrupts, jupyter_path, kill_tree, own_kernel

#: Outer wall-clock limit per notebook, in seconds, when no ``timeout`` is given.
DEFAULT_TIMEOUTS = {"smoke": 300, "cpu": 900, "gpu": 3600}
BUDGETS = (*DEFAULT_TIMEOUTS, "auto")
#: The longest limit accepted: a day (papermill's own clocks overflow past ~2.1e6 s).
MAX_TIMEOUT = 86400.0

#: The directory that holds the ``course_lib`` package; kernels must be able to import it.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]

# Cells papermill adds to an executed notebook; they are not part of the source notebook.
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class NotebookError(RuntimeError):
    """A notebook failed to execute; the message names the notebook and the cell."""


def _check_budget(budget: str) -> None:
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; valid: {', '.join(BUDGETS)}")


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU answers ``nvidia-smi -L`` (the runner imports no framework to ask)."""
    if not shutil.which("nvidia-smi"):
        return False
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def resolve_budget(budget: str) -> str:
    """``auto`` becomes ``$COURSE_BUDGET``, else ``gpu`` when a GPU answers, else ``cpu``."""
    _check_budget(budget)
    return budgets.resolve(budget, gpu_available=budget == "auto" and gpu_visible())


def check_timeout(timeout: float | None) -> float | None:
    """A finite number of seconds in (0, MAX_TIMEOUT], or None for the budget's default."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {timeout!r}")
    return float(timeout)


def _timeout(budget: str, timeout: float | None) -> float:
    """The limit per notebook: ``timeout`` if given, else the default of the budget actually run."""
    return DEFAULT_TIMEOUTS[resolve_budget(budget)] if check_timeout(timeout) is None else float(timeout)


def submission_order(paths, rels) -> list:
    """``(path, rel)`` pairs in the order the pool starts them: lesson by lesson, the tracks side by
    side. A PyTorch kernel (one thread) next to a TensorFlow one (every core) shares two cores
    better than two TensorFlow kernels do (measured: lessons 00-05 at cpu with 2 jobs took 16.0 min
    track after track), and each lesson's cross-track claims can be decided as early as possible."""
    def key(pair):
        kind, track, name = PurePosixPath(pair[1]).parts[-3:]
        return kind, name, track
    return sorted(zip(paths, rels), key=key)


def max_jobs() -> int:
    """How many notebooks this machine can run at once: one per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def child_env(root, **overrides) -> dict:
    """The environment for a notebook's kernel: ours, plus ``course_lib`` importable.

    ``overrides`` set variables; an override of ``None`` removes the variable.
    """
    env = dict(os.environ)
    paths = [str(PACKAGE_ROOT)]
    root = Path(root).resolve()
    if (root / "course_lib").is_dir():
        # A checkout given as root should use its own course_lib first.
        paths.insert(0, str(root))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def first_error(nb) -> str | None:
    """Describe the first error output of an executed notebook, or None if there is none.

    The cell index counts the source notebook's cells, i.e. without the cells papermill
    inserts, so it matches what the author sees when opening the notebook.
    """
    index = -1
    for cell in nb.cells:
        if _PAPERMILL_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        index += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
                first_line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
                return (f"cell {index} (execution_count {cell.get('execution_count')}): "
                        f"{output.get('ename')}: {output.get('evalue')} (cell starts: {first_line})")
    return None


def _running_cell(nb) -> str | None:
    """The cell a notebook was in when it stopped (best effort): the one papermill marked running, else
    the last one it started (papermill marks a cell whose kernel died as completed)."""
    index, found = -1, None
    for cell in nb.cells:
        if _PAPERMILL_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        index += 1
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("status") == "running" or meta.get("start_time"):
            source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            first_line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
            found = f"cell {index} (cell starts: {first_line})"
            if meta.get("status") == "running":
                break
    return found


def _read_if_exists(path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # missing or half-written: the caller falls back to stderr
        return None


def _entry(status: str, seconds: float = 0.0, error: str | None = None, results: dict | None = None) -> dict:
    return {"status": status, "seconds": seconds, "error": error, "results": results}


def run_one(path, root, budget: str = "smoke", out="build", timeout: float | None = None,
            seed: int = 0, live: Live | None = None, kernel_path: str | None = None, *,
            env: dict | None = None) -> dict:
    """Execute one notebook with papermill in a subprocess, on this interpreter's kernel.

    Writes ``out/executed/<rel>`` and lets the notebook write ``out/results/<rel>.json``
    (``rel`` is the path relative to ``root``; a relative ``out`` is relative to ``root``).
    A solution notebook that records no results fails. Returns ``{"status": "ok"|"failed"|
    "interrupted", "seconds", "error", "results"}``. ``env``: more variables for the kernel
    (:func:`child_env`'s overrides; the grader passes where the checkers log their verdicts).
    """
    if kernel_path is None:
        with own_kernel() as folder:
            return run_one(path, root, budget, out, timeout, seed, live, folder, env=env)
    budget = resolve_budget(budget)
    limit = _timeout(budget, timeout)
    live = live or Live()
    root = Path(root).resolve()
    path = Path(path)
    path = (path if path.is_absolute() else root / path).resolve()
    rel = path.relative_to(root).as_posix()
    out = root / out  # an absolute ``out`` stays as it is
    executed = out / "executed" / rel
    results_json = (out / "results" / rel).with_suffix(".json")
    executed.parent.mkdir(parents=True, exist_ok=True)
    results_json.parent.mkdir(parents=True, exist_ok=True)
    # Leftovers from an earlier run must not pass for this run's results.
    for stale in (executed, results_json):
        stale.unlink(missing_ok=True)
    if live.stopping.is_set():
        return _entry("interrupted", error=f"{rel}: not started (the run was interrupted)")

    cmd = [sys.executable, "-m", "papermill", str(path), str(executed),
           "-r", "BUDGET", budget, "-p", "SEED", str(int(seed)), "-r", "RESULTS_PATH", str(results_json),
           "--kernel", KERNEL_NAME, "--cwd", str(path.parent), "--no-progress-bar"]
    kernel_env = child_env(root, **{"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", **(env or {}),
                                    "JUPYTER_PATH": jupyter_path(kernel_path)})
    start = time.perf_counter()
    # Own session, so that papermill's whole process group can be ended (its kernel is ended by pid).
    proc = subprocess.Popen(cmd, env=kernel_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    live.add(proc)
    timed_out = False
    try:
        _, stderr = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_tree(proc)
        stderr = ""
    finally:
        live.discard(proc)
    seconds = round(time.perf_counter() - start, 2)
    partial = _read_if_exists(executed)
    running = partial is not None and _running_cell(partial)

    error, status = None, "failed"
    if live.stopping.is_set() and proc.returncode != 0:
        status, error = "interrupted", f"{rel}: interrupted" + (f" in {running}" if running else "")
    elif timed_out:
        error = f"{rel}: timed out after {limit:g} s" + (f" (in {running})" if running else "")
    elif proc.returncode != 0:
        detail = partial is not None and first_error(partial)
        if not detail:
            tail = [ln for ln in stderr.strip().splitlines() if ln.strip()][-3:]
            if running or "DeadKernelError" in stderr or "Kernel died" in stderr:
                detail = (f"the kernel died while running {running or 'a cell'} (out of memory? a crash in native "
                          f"code?); papermill exited with code {proc.returncode}")
            else:  # papermill failed before or outside a cell (bad notebook, ...)
                detail = f"papermill exited with code {proc.returncode}: " + " / ".join(tail)
        error = f"{rel}: {detail}"

    loaded = None
    if results_json.exists():
        try:
            loaded = _results.load(results_json)
        except (ValueError, OSError) as e:  # json.JSONDecodeError is a ValueError
            error = error or f"{rel}: invalid results in {results_json.name}: {e}"
    elif not error and rel.startswith("solutions/"):
        error = f"{rel}: recorded no results (a solution must call results.record with RESULTS_PATH)"
    bad = _claims.failed(loaded)
    if bad and not error:
        error = (f"{rel}: {len(bad)} claim(s) did not hold: "
                 + "; ".join(f"{c['statement']} ({c['evidence']})" for c in bad))
    return _entry("ok" if error is None else status, seconds, error, loaded)


def run(root, budget: str = "smoke", track: str = "all", kind: str = "solutions", only: str | None = None,
        jobs: int = 1, out="build", timeout: float | None = None, seed: int = 0) -> dict:
    """Execute the selected notebooks, write ``out/results.json`` and ``out/report.md``; return the results.

    The returned dict is ``{"budget", "state": "complete"|"interrupted", "notebooks": {rel: run_one(...)
    result}, "cross_track_claims"}`` in discovery order, whatever order the parallel ``jobs`` finish in.
    ``results.json`` is rewritten (atomically) as each notebook finishes, starting with every notebook
    ``pending``. On SIGINT or SIGTERM every running notebook is ended, the unfinished ones are marked
    ``interrupted``, the summary is written and :class:`KeyboardInterrupt` is raised.
    """
    from .report import write_report  # matplotlib is only needed once runs are done

    budget = resolve_budget(budget)
    check_timeout(timeout)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    if jobs > max_jobs():
        print(f"note: --jobs {jobs} capped at {max_jobs()}, the cores this machine has", file=sys.stderr)
        jobs = max_jobs()
    root = Path(root).resolve()
    out = root / out
    paths = discover(root, kind=kind, track=track, only=only)
    if not paths:
        raise ValueError(f"no {kind} notebooks for track {track!r}" + (f" matching {only!r}" if only else "")
                         + f" under {root}")
    rels = [p.relative_to(root).as_posix() for p in paths]
    summary = {"budget": budget, "state": "running", "notebooks": {rel: _entry("pending") for rel in rels},
               "cross_track_claims": {}}
    live, lock = Live(), threading.Lock()
    # Same switch as the notebooks' own progress bars (course_lib.progress).
    quiet = os.environ.get("COURSE_PROGRESS", "1").strip().lower() in ("0", "false", "no", "off")
    with OutFolder(out), own_kernel() as kernel_path, interrupts(live):
        write_summary(out, summary)

        def one(path, rel):
            entry = run_one(path, root, budget, out, timeout, seed, live, kernel_path)
            with lock:
                summary["notebooks"][rel] = entry
                write_summary(out, summary)
            return entry

        bar = tqdm(total=len(paths), desc="notebooks", unit="nb", disable=quiet)
        with bar, ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(one, p, rel): rel for p, rel in submission_order(paths, rels)}
            for future in as_completed(futures):
                rel = futures[future]
                bar.set_postfix_str(f"{rel}: {future.result()['status']}", refresh=False)
                bar.update(1)
        summary["state"] = "interrupted" if live.stopping.is_set() else "complete"
        summary["cross_track_claims"] = cross_track({rel: e["results"] for rel, e in summary["notebooks"].items()})
        write_summary(out, summary)
        write_report(out, summary)
    if live.stopping.is_set():
        raise KeyboardInterrupt("run interrupted; unfinished notebooks are marked interrupted in "
                                f"{out / 'results.json'}")
    return summary
