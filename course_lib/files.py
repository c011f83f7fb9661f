"""Writing files so that a crash never leaves half of one: write a temporary file beside the
target, flush it to disk, then rename it over the target (atomic on one file system).

Used for results, checkpoints, lessons and shipped assets. The new file gets the mode any
newly created file would get (0666 minus the user's umask), not the 0600 of a bare
``tempfile.mkstemp``: on a shared course server other users must still be able to read it.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def atomic_write(path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``.

    ``path`` holds either the old complete file or the new complete file, never half of one;
    if ``write`` fails (or is interrupted), the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb") as f:  # make sure the bytes are on disk before the rename
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    """Atomically replace ``path`` with ``data``."""
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
    return atomic_write(path, write)


def atomic_write_text(path, text: str) -> Path:
    """Atomically replace ``path`` with ``text`` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def run_folder(results_path, name: str) -> Path:
    """Where a notebook run keeps what it writes besides its results (checkpoints, say).

    Beside the results when the runner gave a path (``RESULTS_PATH``, or ``$COURSE_RESULTS_PATH``
    under ``refresh``), so a run never writes into the course's own folders; otherwise ``name``
    in the current folder, the learner's own copy of the notebook.
    """
    from .results import destination  # results imports this module

    where = destination(results_path)
    if where is None:
        return Path(name)
    where = Path(where)
    return where.parent / f"{where.stem}-{name}"
