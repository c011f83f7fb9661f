"""Re-execute solution notebooks in place, to refresh their committed reference outputs.

Runs nbclient (not papermill: no injected cell, no timestamps, no timings) with
``COURSE_BUDGET`` set. Each notebook's results and claims go to a temporary
``$COURSE_RESULTS_PATH``: a notebook with a claim that did not hold, or with no results, is left
unchanged and the refresh fails; the claims that need both tracks are decided at the end.
"""
from __future__ import annotations

import copy
import os
import tempfile
import time
from pathlib import Path

import nbformat

from .. import claims as _claims, results as _results
from .crosscheck import cross_track, not_held
from .notebooks import discover, write_notebook
from .processes import KERNEL_NAME, jupyter_path, own_kernel
from .runner import NotebookError, _timeout, child_env, first_error, resolve_budget


def _refresh_one(path: Path, root: Path, budget: str, limit: float, results_json: Path) -> dict:
    """Execute one solution in place; return its results. Raises :class:`NotebookError`, leaving it unchanged."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    rel = path.relative_to(root).as_posix()
    # No MPLBACKEND: the kernel then picks the inline backend, so figures become outputs.
    env = child_env(root, COURSE_BUDGET=budget, COURSE_PROGRESS="0", PYTHONHASHSEED="0", MPLBACKEND=None,
                    **{_results.ENV_VAR: results_json})
    nb = nbformat.read(path, as_version=4)
    metadata = copy.deepcopy(nb.metadata)  # restored after: execution must not rewrite it
    metadata.pop("papermill", None)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    client = NotebookClient(nb, timeout=limit, kernel_name=KERNEL_NAME,
                            resources={"metadata": {"path": str(path.parent)}}, record_timing=False)
    start = time.perf_counter()
    try:
        client.execute(env=env)
    except CellExecutionError as e:
        raise NotebookError(f"{rel}: {first_error(nb) or e}; notebook left unchanged") from e
    except Exception as e:  # timeouts, dead kernels: still name the notebook
        raise NotebookError(f"{rel}: {type(e).__name__}: {e}; notebook left unchanged") from e
    seconds = time.perf_counter() - start
    if not results_json.exists():
        raise NotebookError(f"{rel}: recorded no results (results.record was never reached); notebook left unchanged")
    recorded = _results.load(results_json)
    bad = _claims.failed(recorded)
    if bad:
        raise NotebookError(f"{rel}: {len(bad)} claim(s) did not hold at budget {budget!r}: "
                            + "; ".join(f"{c['statement']} ({c['evidence']})" for c in bad)
                            + "; notebook left unchanged")
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nb.metadata = metadata
    written = write_notebook(nb, path)
    n_claims = len(recorded.get("claims", []))
    print(f"refreshed {rel} in {seconds:.1f} s" + ("" if written else " (outputs unchanged)")
          + (f"; {n_claims} claim(s), none failed" if n_claims else ""), flush=True)
    return recorded


def refresh(root, only: str | None = None, track: str = "all", budget: str = "cpu",
            timeout: float | None = None) -> list[Path]:
    """Re-execute solution notebooks in place to refresh their committed outputs.

    ``timeout`` limits each cell (default per budget). A notebook is written only when every
    cell succeeded, it recorded results and every claim it could decide held; otherwise
    :class:`NotebookError` names the notebook and the cell or claim. Claims across tracks are
    decided once both tracks of a lesson are refreshed. Returns the refreshed paths.
    """
    budget = resolve_budget(budget)
    root = Path(root).resolve()
    limit = _timeout(budget, timeout)
    refreshed, recorded = [], {}
    saved_path = os.environ.get("JUPYTER_PATH")
    with tempfile.TemporaryDirectory(prefix="course-refresh-") as scratch, own_kernel() as kernels:
        # nbclient looks kernel specs up in this process: ours (this interpreter) first.
        os.environ["JUPYTER_PATH"] = jupyter_path(kernels)
        try:
            for path in discover(root, kind="solutions", track=track, only=only):
                rel = path.relative_to(root).as_posix()
                recorded[rel] = _refresh_one(path, root, budget, limit,
                                             Path(scratch) / (rel.replace("/", "-") + ".json"))
                refreshed.append(path)
        finally:
            if saved_path is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = saved_path
    decided = cross_track(recorded)
    for lesson, cs in decided.items():
        for c in cs:
            print(f"{lesson}: tracks agree? {c['outcome']}: {c['statement']} ({c['evidence']})", flush=True)
    if not_held(decided):
        raise NotebookError("claims across tracks did not hold (the notebooks were refreshed): "
                            + "; ".join(not_held(decided)))
    return refreshed
