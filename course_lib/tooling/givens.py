"""The givens of a lesson: lines a solution keeps for the learner's code, such as ``import math`` in the
setup or ``b1, b2, eps = 0.9, 0.999, 1e-8`` above an exercise's stub. Once the solution block is replaced
by its stub nothing in the lesson uses them, and the linter would report them as unused (F401 for an
import, F841 for a function's local); :func:`mark_givens` gives each a ``noqa`` that says why it stays.
"""
from __future__ import annotations

import re

# An unindented import binding plain names ("import a.b as c, d", "from m import a as b, c") ...
_IMPORT = re.compile(r"^(?:import\s+(?P<modules>[\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)"
                     r"|from\s+[\w.]+\s+import\s+(?P<names>\w+(?:\s+as\s+\w+)?(?:\s*,\s*\w+(?:\s+as\s+\w+)?)*))\s*$")
# ... or an indented assignment to plain names, a function's locals ("    b1, b2 = 0.9, 0.999").
_LOCALS = re.compile(r"^\s+(?P<targets>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=(?!=)")
GIVEN = "  # noqa: {rule} - given for your code"


def bound_names(line: str) -> tuple[str, list[str]] | None:
    """(the lint rule that reports it unused, the names it binds) for a line that only binds names, as
    above; None for any other line, and for a line with a comment (it may already carry a noqa)."""
    if "#" in line:
        return None
    if match := _IMPORT.match(line):
        names = []
        for part in (match["modules"] or match["names"]).split(","):
            target, _, alias = (" ".join(part.split())).partition(" as ")
            # `import a.b` binds `a`; `from m import a` and any `as` alias bind the name itself
            names.append(alias or (target if match["names"] else target.split(".")[0]))
        return "F401", names
    if match := _LOCALS.match(line):
        return "F841", [name.strip() for name in match["targets"].split(",")]
    return None


def mark_givens(code_cells, removed: str) -> None:
    """Append :data:`GIVEN` to each line of ``code_cells`` (a lesson's, edited in place) that binds only
    names the ``removed`` solution code used and the lesson does not: an import is looked up in every
    cell of the lesson, a local in its own cell."""
    def used(name, text):
        return re.search(rf"\b{re.escape(name)}\b", text) is not None

    for cell in code_cells:
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            bound = bound_names(line)
            if bound is None:
                continue
            rule, names = bound
            others = "\n".join(lines[:i] + lines[i + 1:])
            if rule == "F401":
                others += "\n" + "\n".join(c.source for c in code_cells if c is not cell)
            if all(used(n, removed) and not used(n, others) for n in names):
                lines[i] = line + GIVEN.format(rule=rule)
        cell.source = "\n".join(lines)
