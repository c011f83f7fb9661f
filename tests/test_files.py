"""Atomic writes: all or nothing, and the new file gets the user's umask (not mkstemp's 0600)."""
import os
import stat

import pytest

from course_lib.files import atomic_write, atomic_write_bytes
from course_lib.tooling.notebooks import build


@pytest.fixture
def umask():
    def set_to(mask):
        os.umask(mask)
    old = os.umask(0o022)
    os.umask(old)
    yield set_to
    os.umask(old)


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    path = atomic_write_bytes(tmp_path / "x.json", b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = atomic_write_bytes(tmp_path / "x.txt", b"old")

    def half(tmp):
        with open(tmp, "wb") as f:
            f.write(b"ne")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_regenerated_lessons_are_readable_by_others(tmp_path, umask):
    """The lessons `build` writes on a shared course server must stay world-readable (0644 under umask 022)."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "solutions" / "pytorch", tmp_path / "solutions" / "pytorch",
                    ignore=shutil.ignore_patterns("checkpoints"))
    umask(0o022)
    written = build(tmp_path)
    assert written and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in written)
