"""A PyTorch learner never needs TensorFlow, and the reverse; shared code imports neither."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEUTRAL = ["course_lib", "course_lib.data", "course_lib.metrics", "course_lib.classifier", "course_lib.plots",
           "course_lib.checks", "course_lib.exercises", "course_lib.budgets", "course_lib.results",
           "course_lib.seeding", "course_lib.progress", "course_lib.notebooks", "course_lib.runner",
           "course_lib.report", "course_lib.__main__", "course_lib.track_exercises", "course_lib.penalties", "course_lib.history",
           "course_lib.batchnorm", "course_lib.schedules", "course_lib.early_stopping", "course_lib.regularization"]


def _loaded_after(modules):
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_shared_modules_import_no_framework():
    loaded = _loaded_after(NEUTRAL)
    assert not loaded & {"torch", "tensorflow", "keras", "jax"}


@pytest.mark.parametrize("track,other", [("course_lib.torch", {"tensorflow", "keras"}),
                                         ("course_lib.tensorflow", {"torch"})])
def test_each_track_imports_only_its_framework(track, other):
    pytest.importorskip(track.split(".")[1])
    loaded = _loaded_after([track, track + ".exercises"])
    assert not loaded & other


def test_no_course_module_imports_both_frameworks():
    import re
    for path in (ROOT / "course_lib").rglob("*.py"):
        text = path.read_text()
        has_torch = re.search(r"^\s*(import|from)\s+torch\b", text, re.M)
        has_tf = re.search(r"^\s*(import|from)\s+(tensorflow|keras)\b", text, re.M)
        assert not (has_torch and has_tf), f"{path} imports both frameworks"
