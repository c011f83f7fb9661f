"""The output folder of one run: one run at a time, and a summary that is always the current run's.

A lock file (holding the runner's pid) refuses a second run into the same folder; a lock left by a
run that was killed is taken over. The summary (``results.json``) is written atomically, and an
earlier run's report is removed as soon as a new run starts, so old statuses never read as current.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import psutil

from ..files import atomic_write_text


class RunInProgress(RuntimeError):
    """Another run is writing into the same output folder."""


class OutFolder:
    """Owns ``out`` for one run: refuses a second run, and never lets an old summary pass for current."""

    def __init__(self, out: Path):
        self.out, self.lock = out, out / ".run.lock"

    def __enter__(self):
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = self._holder()
            if pid is not None and psutil_alive(pid):
                raise RunInProgress(f"another run (pid {pid}) is writing into {self.out}; wait for it, or pass "
                                    "another --out") from None
            self.lock.unlink(missing_ok=True)  # left by a run that was killed: take it over
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        for old in ("report.md",):
            (self.out / old).unlink(missing_ok=True)
        return self

    def _holder(self) -> int | None:
        try:
            return int(self.lock.read_text().strip())
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        self.lock.unlink(missing_ok=True)


def psutil_alive(pid: int) -> bool:
    return psutil.pid_exists(pid)


def write_summary(out: Path, summary: dict) -> None:
    atomic_write_text(out / "results.json", json.dumps(summary, indent=2) + "\n")
