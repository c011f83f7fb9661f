"""The processes the runner starts: papermill, and the kernel papermill starts in a session of its own.

Killing papermill's process group does not reach its kernel (jupyter_client starts kernels with
``start_new_session``), so :func:`kill_tree` collects every descendant first and ends them all.
:func:`own_kernel` makes a kernel spec that runs this very interpreter, so notebooks never run on
whatever happens to be registered as ``python3``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import psutil  # a dependency of ipykernel, so present wherever notebooks can run

KERNEL_NAME = "course-python"


@contextmanager
def own_kernel():
    """Yield a ``JUPYTER_PATH`` folder holding kernel spec :data:`KERNEL_NAME` for ``sys.executable``."""
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as folder:
        spec = Path(folder) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({sys.executable})", "language": "python"}))
        yield folder


def jupyter_path(folder: str) -> str:
    """``JUPYTER_PATH`` with ``folder`` first, so our kernel spec wins over any installed one."""
    return os.pathsep.join([folder] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])


def kill_tree(proc: subprocess.Popen, grace: float = 3.0, reap: bool = True) -> None:
    """End ``proc``, its process group and every descendant (the kernel included): SIGTERM, then SIGKILL.

    ``reap=False`` leaves collecting ``proc``'s exit status to the thread already waiting on it."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    for child in family:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(family, timeout=grace)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if reap:
        proc.communicate()


class Live:
    """The papermill processes of one run, so that an interrupt can end them all."""

    def __init__(self):
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.add(proc)
        if self.stopping.is_set():  # started just as the interrupt came
            kill_tree(proc, reap=False)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def stop_all(self) -> None:
        self.stopping.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            threading.Thread(target=kill_tree, args=(proc,), kwargs={"reap": False}, daemon=True).start()


@contextmanager
def interrupts(live: Live):
    """While running: SIGINT and SIGTERM end every notebook started (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def handler(signum, frame):
        live.stop_all()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
