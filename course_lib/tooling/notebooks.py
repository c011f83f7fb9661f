"""Generate lesson notebooks from solution notebooks, and find notebooks in the course tree.

Layout (see docs/course_design.md)::

    solutions/{pytorch,tensorflow}/NN_topic.ipynb   source of truth, committed with outputs
    lessons/{pytorch,tensorflow}/NN_topic.ipynb     generated here: no outputs, exercise stubs

A bug hunt's block holds the fix, then a ``### BUGGY`` line, then the planted bug written as
comments (``# ...``): the solution runs the fix, the lesson runs the bug, uncommented
(:func:`_split_buggy`).

A lesson is a pure function of its solution (:func:`make_lesson`), serialized
deterministically (:func:`write_notebook`), so ``build`` twice changes nothing and
``build --check`` can tell whether the committed lessons are in sync.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat

from ..files import atomic_write_bytes
from .givens import mark_givens

TRACKS = ("pytorch", "tensorflow")
KINDS = ("solutions", "lessons")

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
BUGGY = "### BUGGY"  # inside a solution block: the fix above it, the planted bug (commented out) below it
CODE_STUB = "# YOUR CODE HERE"
RAISE_STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
MARKDOWN_STUB = "YOUR ANSWER HERE"

LESSON_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

# A column-0 assignment to a simple name: "x = ...", "x: int = ..." (not "x == y", not "x += 1").
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]*)?=(?!=)")


# --------------------------------------------------------------------------- lesson generation

def make_lesson(nb, name: str = "notebook"):
    """Return the lesson made from solution notebook ``nb`` (``nb`` itself is not modified).

    Outputs, execution counts, cell metadata other than ``tags``, papermill's
    ``injected-parameters`` cells and notebook metadata other than a generic Python 3
    kernelspec are dropped; ``### BEGIN SOLUTION`` .. ``### END SOLUTION`` blocks become
    stubs. ``name`` is only used in error messages (e.g. the solution's path).
    """
    nb = copy.deepcopy(nb)
    cells, solution_code = [], []
    for index, cell in enumerate(nb.cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if "injected-parameters" in tags:
            continue
        cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        source = _source_text(cell.source)
        if cell.cell_type in ("code", "markdown"):
            try:
                cell.source = _replace_solutions(source, cell.cell_type)
            except ValueError as e:
                raise ValueError(f"{name}: cell {index}: {e}") from None
            if cell.cell_type == "code":
                solution_code.append(source)
        _ensure_id(nb, cell, index)
        cells.append(cell)
    mark_givens([cell for cell in cells if cell.cell_type == "code"], _block_lines("\n".join(solution_code)))
    nb.cells = cells
    nb.metadata = nbformat.NotebookNode({
        "kernelspec": dict(LESSON_KERNELSPEC),
        "language_info": {"name": "python"},
    })
    return nb


def _source_text(source) -> str:
    # Sources are strings once read by nbformat; a notebook built from raw JSON may hold lists.
    return "".join(source) if isinstance(source, list) else source


def _ensure_id(nb, cell, index: int) -> None:
    """Give a cell of an nbformat >= 4.5 notebook that lacks an id a deterministic one.

    nbformat 4.5 requires ids; if one is missing, ``nbformat.writes`` would invent a
    random one and every build would differ. Older notebooks keep having none.
    """
    if "id" not in cell and (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = f"cell-{index}"


def _replace_solutions(source: str, cell_type: str) -> str:
    """Replace every solution block of one cell's source by its stub."""
    lines = source.split("\n")
    out: list[str] = []
    block: list[str] | None = None  # lines of the open block, None outside a block
    indent = ""
    begin_line = 0
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if block is not None:
                raise ValueError(f"{BEGIN!r} on line {lineno} inside the block opened on line {begin_line}"
                                 f" (missing {END!r})")
            block, begin_line = [], lineno
            indent = line[: len(line) - len(line.lstrip())]
        elif stripped.startswith(END):
            if block is None:
                raise ValueError(f"{END!r} on line {lineno} without a {BEGIN!r} before it")
            buggy = _split_buggy(block, begin_line, cell_type)
            out.extend(_stub(block, indent, cell_type) if buggy is None else buggy)
            block = None
        elif stripped.startswith(BUGGY) and block is None:
            raise ValueError(f"{BUGGY!r} on line {lineno} outside a solution block")
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ValueError(f"{BEGIN!r} on line {begin_line} has no matching {END!r}")
    return "\n".join(out)


def _block_lines(source: str) -> str:
    """The lines inside the solution blocks of ``source`` (markers already checked)."""
    inside, lines = False, []
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith((BEGIN, END)):
            inside = stripped.startswith(BEGIN)
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def _split_buggy(block: list[str], begin_line: int, cell_type: str) -> list[str] | None:
    """The lesson's lines for a bug hunt's block (None for an ordinary block): the lines after the
    ``### BUGGY`` line, each a comment in the solution, uncommented (``# `` or a bare ``#`` removed
    after the line's indentation). The fix above the marker is dropped from the lesson."""
    marks = [i for i, line in enumerate(block) if line.strip().startswith(BUGGY)]
    if not marks:
        return None
    where = f"the block opened on line {begin_line}"
    if cell_type != "code":
        raise ValueError(f"{BUGGY!r} in a {cell_type} cell ({where}): a bug hunt needs code")
    if len(marks) > 1:
        raise ValueError(f"{where} has {len(marks)} {BUGGY!r} lines; expected one (fix above, bug below)")
    fix, bug = block[:marks[0]], block[marks[0] + 1:]
    if not any(line.strip() for line in fix):
        raise ValueError(f"{where}: no fix above {BUGGY!r} (the solution must run the corrected code)")
    if not any(line.strip() for line in bug):
        raise ValueError(f"{where}: no buggy lines below {BUGGY!r}")
    lesson = []
    for offset, line in enumerate(bug, start=marks[0] + 2):
        body = line.lstrip()
        lead = line[: len(line) - len(body)]
        if not body or body == "#":
            lesson.append("")
        elif body.startswith("# "):
            lesson.append(lead + body[2:])
        else:
            raise ValueError(f"line {begin_line + offset} of {where}, below {BUGGY!r}, is not a comment: "
                             f"write the buggy code as '# ...' lines (the lesson uncomments them)")
    return lesson


def _stub(block: list[str], indent: str, cell_type: str) -> list[str]:
    """The lines that stand in for one solution block."""
    if cell_type == "markdown":
        return [indent + MARKDOWN_STUB]
    if indent:
        # Inside a function body: the stub must stay valid Python there, and fail loudly.
        return [indent + CODE_STUB, indent + RAISE_STUB]
    # Top level: leave placeholders so later cells that use the names still parse and run.
    names: list[str] = []
    for line in block:
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    if not names:
        return [CODE_STUB]
    return [f"{name} = None  {CODE_STUB}" for name in names]


# --------------------------------------------------------------------------- reading and writing

def read_notebook(path):
    """Read a notebook without letting nbformat invent random cell ids (keeps builds stable)."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("nbformat") != 4:
        # Old major versions need nbformat's converter; ids do not exist there anyway.
        return nbformat.reads(text, as_version=4)
    # nbformat.reads minus validation, which would fill in missing ids at random.
    return nbformat.v4.nbjson.JSONReader().to_notebook(data)


def serialize(nb) -> bytes:
    """Deterministic bytes of ``nb``: nbformat's JSON with exactly one trailing newline."""
    return (nbformat.writes(nb, version=4).rstrip("\n") + "\n").encode("utf-8")


def write_notebook(nb, path) -> bool:
    """Write ``nb`` to ``path`` only if the bytes differ (keeps mtimes stable); True if written."""
    path = Path(path)
    data = serialize(nb)
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)  # an interrupted write never leaves half a notebook
    return True


# --------------------------------------------------------------------------- paths

def _counterpart(path, root, src: str, dst: str) -> Path:
    """``root/<src>/X/Y.ipynb`` -> ``root/<dst>/X/Y.ipynb`` (``path`` may be relative to root)."""
    root = Path(root).resolve()
    given = Path(path)
    absolute = (given if given.is_absolute() else root / given).resolve()
    try:
        rel = absolute.relative_to(root / src)
    except ValueError:
        raise ValueError(f"{path} is not under {root / src}") from None
    return root / dst / rel


def lesson_path(solution_path, root) -> Path:
    """``root/solutions/X/Y.ipynb`` -> ``root/lessons/X/Y.ipynb``."""
    return _counterpart(solution_path, root, "solutions", "lessons")


def solution_path(lesson, root) -> Path:
    """``root/lessons/X/Y.ipynb`` -> ``root/solutions/X/Y.ipynb``."""
    return _counterpart(lesson, root, "lessons", "solutions")


def _choices(value: str, valid: tuple, what: str) -> tuple:
    """``value`` as a tuple of valid choices ("all" means every one); a clear error otherwise."""
    if value == "all":
        return valid
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid + ('all',))}")
    return (value,)


def discover(root, kind: str = "solutions", track: str = "all", only: str | None = None) -> list[Path]:
    """Notebooks under ``root``, ordered by kind, track, then file name.

    ``kind``: solutions, lessons or all; ``track``: pytorch, tensorflow or all;
    ``only``: keep paths whose POSIX path relative to ``root`` contains this substring.
    """
    root = Path(root).resolve()
    found = []
    for k in _choices(kind, KINDS, "kind"):
        for t in _choices(track, TRACKS, "track"):
            for path in sorted((root / k / t).glob("*.ipynb")):
                if only is None or only in path.relative_to(root).as_posix():
                    found.append(path)
    return found


# --------------------------------------------------------------------------- build

def orphans(root) -> list[Path]:
    """Lessons whose solution notebook does not exist."""
    root = Path(root)
    return [p for p in discover(root, "lessons") if not solution_path(p, root).exists()]


def build(root, check: bool = False) -> list[Path]:
    """Regenerate every lesson from its solution; return the lessons that were stale.

    With ``check=False`` the stale lessons are written. With ``check=True`` nothing is
    written, and lessons without a solution (orphans) count as stale too.
    """
    root = Path(root).resolve()
    stale = []
    for solution in discover(root, "solutions"):
        rel = solution.relative_to(root).as_posix()
        lesson = make_lesson(read_notebook(solution), name=rel)
        target = lesson_path(solution, root)
        if target.exists() and target.read_bytes() == serialize(lesson):
            continue
        stale.append(target)
        if not check:
            write_notebook(lesson, target)
    if check:
        stale.extend(orphans(root))
    return stale
