"""The runner under interruption, misuse and failure: no process left behind, a results.json that
tells the truth, one run per output folder, bad input refused, dead kernels named, kernels on the
runner's own interpreter."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from test_runner import OK_CELL, write_nb

from course_lib.tooling import runner
from course_lib.tooling.runner import run, run_one

REPO = Path(__file__).resolve().parents[1]


def sleeper(root: Path, name: str = "00_sleep") -> Path:
    """A solution that writes its kernel's pid, then sleeps far longer than any test waits."""
    cell = f"import os, time\nopen({str(root / (name + '.pid'))!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)"
    return write_nb(root, f"solutions/pytorch/{name}.ipynb", cell)


def start_cli(root: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "course_lib", "run", "--root", str(root), "--budget", "smoke",
                             *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, limit: float = 60.0) -> None:
    end = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.2)


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT], [signal.SIGINT, signal.SIGINT]],
                         ids=["SIGTERM", "SIGINT", "SIGINT twice"])
def test_a_signal_stops_every_notebook_and_writes_a_truthful_summary(tmp_path, signals):
    sleeper(tmp_path)
    write_nb(tmp_path, "solutions/pytorch/01_later.ipynb", "x = 1")  # queued behind the sleeper (--jobs 1)
    cli = start_cli(tmp_path)
    pid_file = tmp_path / "00_sleep.pid"
    wait_for(pid_file.exists)
    kernel = int(pid_file.read_text())
    family = psutil.Process(cli.pid).children(recursive=True)
    assert kernel in {p.pid for p in family} or psutil.pid_exists(kernel)
    for signum in signals:
        cli.send_signal(signum)
        time.sleep(0.1)
    _, err = cli.communicate(timeout=60)
    assert cli.returncode == 130 and "interrupted" in err
    wait_for(lambda: not psutil.pid_exists(kernel), 15)
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    summary = json.loads((tmp_path / "build" / "results.json").read_text())
    assert summary["state"] == "interrupted"
    assert summary["notebooks"]["solutions/pytorch/00_sleep.ipynb"]["status"] == "interrupted"
    assert summary["notebooks"]["solutions/pytorch/01_later.ipynb"]["status"] == "interrupted"
    assert not (tmp_path / "build" / ".run.lock").exists()


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    sleeper(tmp_path)
    first = start_cli(tmp_path)
    try:
        wait_for((tmp_path / "00_sleep.pid").exists)
        second = subprocess.run([sys.executable, "-m", "course_lib", "run", "--root", str(tmp_path), "--budget",
                                 "smoke"], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert f"another run (pid {first.pid}) is writing into" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_a_killed_run_never_leaves_an_old_summary_looking_current(tmp_path):
    ok = write_nb(tmp_path, "solutions/pytorch/00_ok.ipynb", "TRACK = 'pytorch'\nVALUES = {'a': [1.0]}", OK_CELL)
    run(tmp_path, budget="smoke", timeout=120)
    assert (tmp_path / "build" / "report.md").exists()
    sleeper(tmp_path, "01_sleep")
    cli = start_cli(tmp_path)
    wait_for((tmp_path / "01_sleep.pid").exists)
    kernel = int((tmp_path / "01_sleep.pid").read_text())
    cli.kill()  # SIGKILL: no chance to clean up
    cli.communicate()
    os.kill(kernel, signal.SIGKILL)
    summary = json.loads((tmp_path / "build" / "results.json").read_text())
    assert summary["state"] == "running"  # not "complete": this run never finished
    assert summary["notebooks"]["solutions/pytorch/01_sleep.ipynb"]["status"] == "pending"
    assert not (tmp_path / "build" / "report.md").exists()
    # the lock of the killed run is taken over by the next one
    (tmp_path / "solutions/pytorch/01_sleep.ipynb").unlink()
    assert run(tmp_path, budget="smoke", timeout=120)["state"] == "complete" and ok.exists()


@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "0", "3e6"])
def test_cli_refuses_timeouts_that_are_not_finite_and_sane(tmp_path, bad):
    result = subprocess.run([sys.executable, "-m", "course_lib", "run", "--root", str(tmp_path), "--timeout", bad],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--timeout: must be a number of seconds in (0, 86400]" in result.stderr


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0, 1e7, True])
def test_run_refuses_bad_timeouts_before_starting_anything(tmp_path, bad):
    write_nb(tmp_path, "solutions/pytorch/00_x.ipynb", "x = 1")
    with pytest.raises(ValueError, match="timeout must be a number of seconds"):
        run(tmp_path, budget="smoke", timeout=bad)
    assert not (tmp_path / "build").exists()


def test_jobs_are_capped_at_the_cores_with_a_note(tmp_path, capsys):
    write_nb(tmp_path, "solutions/pytorch/00_ok.ipynb", "TRACK = 'pytorch'\nVALUES = {'a': [1.0]}", OK_CELL)
    assert run(tmp_path, budget="smoke", jobs=10_000, timeout=120)["state"] == "complete"
    assert f"--jobs 10000 capped at {runner.max_jobs()}" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs must be a whole number"):
        run(tmp_path, budget="smoke", jobs=0)


def test_auto_takes_the_time_limit_of_the_budget_it_resolves_to(monkeypatch):
    monkeypatch.delenv("COURSE_BUDGET", raising=False)
    monkeypatch.setattr(runner, "gpu_visible", lambda: False)
    assert runner.resolve_budget("auto") == "cpu" and runner._timeout("auto", None) == 900
    monkeypatch.setattr(runner, "gpu_visible", lambda: True)
    assert runner._timeout("auto", None) == 3600
    monkeypatch.setenv("COURSE_BUDGET", "smoke")
    assert runner._timeout("auto", None) == 300


def test_an_empty_selection_is_an_error(tmp_path):
    empty = subprocess.run([sys.executable, "-m", "course_lib", "run", "--root", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    assert empty.returncode == 1 and "no solutions notebooks for track 'all'" in empty.stderr
    write_nb(tmp_path, "solutions/pytorch/00_x.ipynb", "x = 1")
    result = subprocess.run([sys.executable, "-m", "course_lib", "run", "--root", str(tmp_path), "--track",
                             "tensorflow"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "no solutions notebooks for track 'tensorflow'" in result.stderr


def test_a_dead_kernel_is_reported_with_its_cell(tmp_path):
    path = write_nb(tmp_path, "lessons/pytorch/00_crash.ipynb", "x = 1",
                    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "y = 2")
    entry = run_one(path, tmp_path, budget="smoke", timeout=120)
    assert entry["status"] == "failed"
    assert "the kernel died while running cell 2 (cell starts: import os, signal)" in entry["error"]


def test_a_solution_that_records_nothing_fails_but_a_lesson_need_not(tmp_path):
    solution = write_nb(tmp_path, "solutions/pytorch/00_quiet.ipynb", "x = 1")
    entry = run_one(solution, tmp_path, budget="smoke", timeout=120)
    assert entry["status"] == "failed" and "recorded no results" in entry["error"]
    lesson = write_nb(tmp_path, "lessons/pytorch/00_quiet.ipynb", "x = 1")
    assert run_one(lesson, tmp_path, budget="smoke", timeout=120)["status"] == "ok"


def test_kernels_run_on_the_runners_interpreter(tmp_path, monkeypatch):
    # A broken kernel registered as python3 first on JUPYTER_PATH must not be used.
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/bin/false", "{connection_file}"],
                                                  "display_name": "broken", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    cell = ("import sys\nfrom course_lib import results\n"
            "_ = results.record(RESULTS_PATH, 'm', True, {'a': [1.0]}, executable=sys.executable)")
    path = write_nb(tmp_path, "solutions/pytorch/00_which.ipynb", cell)
    entry = run_one(path, tmp_path, budget="smoke", timeout=120)
    assert entry["status"] == "ok", entry["error"]
    assert entry["results"]["executable"] == sys.executable
