"""Written-out answers for ``ex.<name>.solution()``, taken from the solution notebooks.

Each exercise's answer is its solution notebook's own code cell (the ``def`` with its
``### BEGIN SOLUTION`` block), minus the markers and the checker call, so what a learner is
shown is exactly what the reference outputs were computed with. They ship in
``course_lib/assets/answers.json`` ({track: {exercise: code}}), because learners may run the
package without the ``solutions/`` folder; ``build`` writes the file and ``build --check``
fails when it is stale.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .notebooks import BEGIN, BUGGY, END, TRACKS, discover, read_notebook

ANSWERS_PATH = Path(__file__).resolve().parents[1] / "assets" / "answers.json"


def path_for(root) -> Path | None:
    """The answers file of the course checkout at ``root``; None when ``root`` holds no ``course_lib``
    (a bare folder of notebooks, as in tests): its answers belong to no package."""
    package = Path(root) / "course_lib"
    return package / "assets" / "answers.json" if package.is_dir() else None

_DEF = re.compile(r"^def (\w+)\(", re.M)
_CHECK = re.compile(r"^(\w+)\s*=\s*ex\.(\w+)\.check\(")


def _answer(source: str) -> str:
    """The cell without solution markers and without the line that hands it to the checker; in a bug
    hunt's block, without the ``### BUGGY`` line and the commented-out bug below it (the answer is the fix)."""
    kept, in_bug = [], False
    for line in source.splitlines():
        stripped = line.strip()
        in_bug = (in_bug or stripped.startswith(BUGGY)) and not stripped.startswith(END)
        if not in_bug and stripped not in (BEGIN, END) and not _CHECK.match(line):
            kept.append(line)
    return "\n".join(kept).strip() + "\n"


def collect(root) -> dict:
    """``{track: {exercise name: code}}`` from every solution notebook under ``root``."""
    answers: dict = {track: {} for track in TRACKS}
    for path in discover(root, kind="solutions"):
        track = path.parent.name
        for cell in read_notebook(path).cells:
            source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            if cell.cell_type != "code" or BEGIN not in source:
                continue
            checked = {m.group(2) for line in source.splitlines() if (m := _CHECK.match(line))}
            for name in _DEF.findall(source):
                if name in checked:
                    answers[track][name] = _answer(source)
    return answers


def serialize(answers: dict) -> bytes:
    return (json.dumps(answers, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def stale(root, path: Path = ANSWERS_PATH) -> bool:
    """True when ``path`` does not hold the answers the solutions under ``root`` give."""
    return not path.exists() or path.read_bytes() != serialize(collect(root))


def write(root, path: Path = ANSWERS_PATH) -> bool:
    """Write the answers file when it changed; True if written."""
    from ..files import atomic_write_bytes

    data = serialize(collect(root))
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True
