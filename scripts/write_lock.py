"""Write requirements-lock.txt from the packages installed in the current environment.

Run it with the venv's interpreter (``make lock`` does):

    .venv/bin/python scripts/write_lock.py [--output requirements-lock.txt]

It takes ``pip freeze --all --exclude-editable`` and
- drops pip itself (the venv keeps the pip it was created with) and the course package
  (``optimizing-generative-models``); setuptools and wheel stay, because packages need them
  at run time (tensorflow and torch require setuptools, astunparse requires wheel) and plain
  ``pip freeze`` would leave them unpinned on Python < 3.12,
- strips local version labels from the PyTorch packages (``torch==2.13.0+cpu`` ->
  ``torch==2.13.0``): the same lock then serves CPU machines (which take the CPU wheel
  from a find-links folder or the PyTorch CPU index) and GPU machines (which take the
  CUDA build from PyPI),
- refuses anything else it cannot pin portably (direct URLs, other local labels).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

COURSE_PACKAGE = "optimizing-generative-models"
SKIP = {COURSE_PACKAGE, "pip"}
# Packages whose builds differ only by a local label (+cpu, +cu128, ...).
LOCAL_LABEL_OK = {"torch", "torchvision", "torchaudio"}

HEADER = """\
# Full lock of the course environment: every package, exact version.
# Produced by `make lock` (scripts/write_lock.py): `pip freeze --all --exclude-editable` of
# .venv (Python {python}), without pip and the course package itself, with PyTorch's local build label
# removed (torch==2.13.0, not 2.13.0+cpu) so CPU and GPU machines install the same pins.
# Regenerate: install/upgrade packages in .venv, then run `make lock` and update the
# direct pins in pyproject.toml and environment.yml (tests/test_environment.py checks them).
# Install: `make venv` (or `pip install -r requirements-lock.txt && pip install --no-deps -e .`).
"""


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_lines(freeze_output: str) -> list[str]:
    lines: list[str] = []
    problems: list[str] = []
    for raw in freeze_output.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if not match:
            problems.append(f"cannot lock {line!r} (not a plain name==version pin)")
            continue
        name, version = match.groups()
        if normalize(name) in SKIP:
            continue
        if "+" in version:
            if normalize(name) in LOCAL_LABEL_OK:
                version = version.split("+", 1)[0]
            else:
                problems.append(f"{name}=={version} has a local version label; install it from an index")
        lines.append(f"{name}=={version}")
    if problems:
        raise SystemExit("write_lock: " + "\n  ".join(["refusing to write the lock:"] + problems))
    return sorted(lines, key=lambda s: normalize(s.split("==", 1)[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent.parent / "requirements-lock.txt"))
    args = parser.parse_args(argv)
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout
    lines = lock_lines(freeze)
    python = ".".join(map(str, sys.version_info[:2]))
    Path(args.output).write_text(HEADER.format(python=python) + "\n".join(lines) + "\n")
    print(f"wrote {args.output}: {len(lines)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
