"""Execute course notebooks: papermill runs for CI and reports, in-place refresh of solutions.

* :func:`run` executes notebooks at a budget, each with papermill in its own subprocess
  (a crashing or hanging notebook cannot take the runner down, and a timeout can kill it),
  collects the results JSON each notebook writes to ``RESULTS_PATH`` and writes a report.
* :func:`refresh` re-executes solution notebooks in place with nbclient, so the committed
  reference outputs carry no papermill cell, timestamps or timings.

Imports neither PyTorch nor TensorFlow: the notebooks do that in their own kernels.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from .. import results as _results
from .notebooks import discover, write_notebook

#: Outer wall-clock limit per notebook, in seconds, when no ``timeout`` is given.
DEFAULT_TIMEOUTS = {"smoke": 300, "cpu": 900, "gpu": 3600, "auto": 3600}
BUDGETS = tuple(DEFAULT_TIMEOUTS)

#: The directory that holds the ``course_lib`` package; kernels must be able to import it.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]

# Cells papermill adds to an executed notebook; they are not part of the source notebook.
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class NotebookError(RuntimeError):
    """A notebook failed to execute; the message names the notebook and the cell."""


def _check_budget(budget: str) -> None:
    if budget not in DEFAULT_TIMEOUTS:
        raise ValueError(f"unknown budget {budget!r}; valid: {', '.join(BUDGETS)}")


def _timeout(budget: str, timeout: float | None) -> float:
    return DEFAULT_TIMEOUTS[budget] if timeout is None else timeout


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
    """The cell papermill marked as running in a partially saved notebook (best effort)."""
    index = -1
    for cell in nb.cells:
        if _PAPERMILL_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        index += 1
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return f"cell {index}"
    return None


def _read_if_exists(path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # missing or half-written: the caller falls back to stderr
        return None


def _kill(proc: subprocess.Popen) -> None:
    """Kill papermill and everything in its process group; its kernel exits with its parent."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()


def run_one(path, root, budget: str = "smoke", out="build", timeout: float | None = None,
            seed: int = 0) -> dict:
    """Execute one notebook with papermill in a subprocess.

    Writes ``out/executed/<rel>`` and lets the notebook write ``out/results/<rel>.json``
    (``rel`` is the path relative to ``root``; a relative ``out`` is relative to ``root``).
    Returns ``{"status": "ok"|"failed", "seconds", "error", "results"}``.
    """
    _check_budget(budget)
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
    limit = _timeout(budget, timeout)

    cmd = [sys.executable, "-m", "papermill", str(path), str(executed),
           "-r", "BUDGET", budget, "-p", "SEED", str(int(seed)), "-r", "RESULTS_PATH", str(results_json),
           "--kernel", "python3", "--cwd", str(path.parent), "--no-progress-bar"]
    env = child_env(root, PYTHONHASHSEED="0", MPLBACKEND="Agg")
    start = time.perf_counter()
    # Own session, so that a timeout can kill papermill's whole process group.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    timed_out = False
    try:
        _, stderr = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc)
        stderr = ""
    seconds = round(time.perf_counter() - start, 2)

    error = None
    if timed_out:
        error = f"{rel}: timed out after {limit:g} s"
        partial = _read_if_exists(executed)
        running = partial is not None and _running_cell(partial)
        if running:
            error += f" (in {running})"
    elif proc.returncode != 0:
        nb = _read_if_exists(executed)
        detail = nb is not None and first_error(nb)
        if not detail:
            # Papermill failed before or outside a cell (bad notebook, kernel died, ...).
            tail = [ln for ln in stderr.strip().splitlines() if ln.strip()][-3:]
            detail = f"papermill exited with code {proc.returncode}: " + " / ".join(tail)
        error = f"{rel}: {detail}"

    loaded = None
    if results_json.exists():
        try:
            loaded = _results.load(results_json)
        except (ValueError, OSError) as e:  # json.JSONDecodeError is a ValueError
            error = error or f"{rel}: invalid results in {results_json.name}: {e}"
    return {"status": "failed" if error else "ok", "seconds": seconds, "error": error, "results": loaded}


def run(root, budget: str = "smoke", track: str = "all", kind: str = "solutions", only: str | None = None,
        jobs: int = 1, out="build", timeout: float | None = None, seed: int = 0) -> dict:
    """Execute the selected notebooks, write ``out/results.json`` and ``out/report.md``; return the results.

    The returned dict is ``{"budget": budget, "notebooks": {rel_path: run_one(...) result}}``
    in discovery order, whatever order the parallel ``jobs`` finish in.
    """
    from .report import write_report  # matplotlib is only needed once runs are done

    _check_budget(budget)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    root = Path(root).resolve()
    out = root / out
    paths = discover(root, kind=kind, track=track, only=only)
    rels = [p.relative_to(root).as_posix() for p in paths]
    done: dict[str, dict] = {}
    # Same switch as the notebooks' own progress bars (course_lib.progress).
    quiet = os.environ.get("COURSE_PROGRESS", "1").strip().lower() in ("0", "false", "no", "off")
    bar = tqdm(total=len(paths), desc="notebooks", unit="nb", disable=quiet)
    with bar, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_one, p, root, budget, out, timeout, seed): rel for p, rel in zip(paths, rels)}
        for future in as_completed(futures):
            rel = futures[future]
            done[rel] = future.result()
            bar.set_postfix_str(f"{rel}: {done[rel]['status']}", refresh=False)
            bar.update(1)
    summary = {"budget": budget, "notebooks": {rel: done[rel] for rel in rels}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_report(out, summary)
    return summary


def refresh(root, only: str | None = None, track: str = "all", budget: str = "cpu",
            timeout: float | None = None) -> list[Path]:
    """Re-execute solution notebooks in place to refresh their committed outputs.

    Runs nbclient (not papermill: no injected cell, no timestamps) with ``COURSE_BUDGET``
    set to ``budget``; ``timeout`` limits each cell (default per budget). A notebook is
    written only when every cell succeeded; a failure raises :class:`NotebookError`
    naming the cell. Returns the refreshed paths.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    _check_budget(budget)
    root = Path(root).resolve()
    limit = _timeout(budget, timeout)
    # No MPLBACKEND: the kernel then picks the inline backend, so figures become outputs.
    env = child_env(root, COURSE_BUDGET=budget, COURSE_PROGRESS="0", PYTHONHASHSEED="0", MPLBACKEND=None)
    refreshed = []
    for path in discover(root, kind="solutions", track=track, only=only):
        rel = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        metadata = copy.deepcopy(nb.metadata)  # restored after: execution must not rewrite it
        metadata.pop("papermill", None)
        nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
        client = NotebookClient(nb, timeout=limit, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}, record_timing=False)
        start = time.perf_counter()
        try:
            client.execute(env=env)
        except CellExecutionError as e:
            raise NotebookError(f"{rel}: {first_error(nb) or e}; notebook left unchanged") from e
        except Exception as e:  # timeouts, dead kernels: still name the notebook
            raise NotebookError(f"{rel}: {type(e).__name__}: {e}; notebook left unchanged") from e
        seconds = time.perf_counter() - start
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
            cell.metadata.pop("papermill", None)
        nb.metadata = metadata
        written = write_notebook(nb, path)
        print(f"refreshed {rel} in {seconds:.1f} s" + ("" if written else " (outputs unchanged)"), flush=True)
        refreshed.append(path)
    return refreshed
