"""A PyTorch learner never needs TensorFlow, and the reverse; shared code imports neither."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK_PACKAGES = ("torch", "tensorflow")


def _neutral_modules() -> list[str]:
    """Every module of course_lib outside the two framework packages (``__main__`` excluded: it runs the CLI)."""
    names = []
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[1] in FRAMEWORK_PACKAGES or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


NEUTRAL = _neutral_modules()


def _loaded_after(modules):
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_shared_modules_import_no_framework():
    assert "course_lib.exercises.tracks" in NEUTRAL and "course_lib.tooling.runner" in NEUTRAL
    loaded = _loaded_after(NEUTRAL)
    assert not loaded & {"torch", "tensorflow", "keras", "jax"}


@pytest.mark.parametrize("track,other", [("course_lib.torch", {"tensorflow", "keras"}),
                                         ("course_lib.tensorflow", {"torch"})])
def test_each_track_imports_only_its_framework(track, other):
    pytest.importorskip(track.split(".")[1])
    # every module of the track: monitoring too, whose TensorBoard would load TensorFlow if it could
    modules = [f"{track}.{path.stem}" for path in sorted((ROOT / track.replace(".", "/")).glob("*.py"))
               if path.stem != "__init__"]
    assert f"{track}.monitoring" in modules and f"{track}.exercises" in modules
    loaded = _loaded_after([track, *modules])
    assert not loaded & other


def test_no_course_module_imports_both_frameworks():
    import re
    for path in (ROOT / "course_lib").rglob("*.py"):
        text = path.read_text()
        has_torch = re.search(r"^\s*(import|from)\s+torch\b", text, re.M)
        has_tf = re.search(r"^\s*(import|from)\s+(tensorflow|keras)\b", text, re.M)
        assert not (has_torch and has_tf), f"{path} imports both frameworks"


def test_notebook_side_never_imports_tooling():
    """The tooling sits above everything it uses: no module a notebook imports reaches up into it."""
    import re
    for path in (ROOT / "course_lib").rglob("*.py"):
        rel = path.relative_to(ROOT / "course_lib")
        if rel.parts[0] == "tooling" or rel.name == "__main__.py":
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(course_lib)?\.*tooling\b", text, re.M), \
            f"{rel} imports course_lib.tooling"


def test_modules_stay_small():
    """Small modules named by concept: none over about 300 lines."""
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "course_lib").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 320}
    assert not long, f"modules over 320 lines: {long}"
