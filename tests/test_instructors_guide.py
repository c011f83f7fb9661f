"""The instructors' guide gives the time of each lesson at each budget: every number in its table
is a measured one, the seconds of the committed reference runs (reference/<budget>/results.json)."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructors_guide.md"
# Guide column -> (reference run, notebook path pattern)
COLUMNS = {"cpu, PyTorch": ("cpu", "solutions/pytorch/{}.ipynb"),
           "cpu, TensorFlow": ("cpu", "solutions/tensorflow/{}.ipynb"),
           "smoke, PyTorch": ("smoke", "lessons/pytorch/{}.ipynb"),
           "smoke, TensorFlow": ("smoke", "lessons/tensorflow/{}.ipynb")}


def _table() -> tuple[list[str], list[list[str]]]:
    rows = [ln for ln in GUIDE.read_text().splitlines() if ln.startswith("| ") and "`" in ln.split("|")[1]]
    header = next(ln for ln in GUIDE.read_text().splitlines() if ln.startswith("| lesson |"))
    split = lambda ln: [c.strip() for c in ln.strip().strip("|").split("|")]  # noqa: E731
    return split(header), [split(r) for r in rows]


def _seconds(budget: str) -> dict:
    return {rel: e["seconds"] for rel, e in json.loads((ROOT / "reference" / budget / "results.json").read_text())
            ["notebooks"].items() if e["status"] == "ok"}


def test_the_guide_lists_every_lesson():
    _, rows = _table()
    lessons = sorted(p.stem for p in (ROOT / "solutions" / "pytorch").glob("*.ipynb"))
    assert [re.sub(r"`", "", r[0]) for r in rows] == lessons


@pytest.mark.parametrize("column", COLUMNS)
def test_each_time_is_the_reference_runs(column):
    header, rows = _table()
    assert column + " (s)" in header, f"the guide's table has no column {column!r} (s): {header}"
    budget, pattern = COLUMNS[column]
    seconds = _seconds(budget)
    j = header.index(column + " (s)")
    for row in rows:
        lesson = row[0].strip("`")
        measured = seconds[pattern.format(lesson)]
        assert row[j] == f"{measured:.0f}", f"{lesson}, {column}: guide {row[j]}, run {measured:.1f} s"
