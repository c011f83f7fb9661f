"""The repository stands alone: no tracked file refers to a file outside it."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Built from pieces so that this file does not match itself.
OUTSIDE = re.compile(r"\.\./" + r"shared\b|COURSE_" + r"DESIGN")


def test_nothing_refers_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for rel in files:
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary assets; a file deleted but not yet committed
        if OUTSIDE.search(text):
            offenders.append(rel)
    assert not offenders, f"files that refer outside the repository: {offenders}"
