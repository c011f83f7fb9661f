"""The course site: static HTML built offline from the solution notebooks and a course report.

:func:`write_source` generates a Sphinx source folder: a home page with the syllabus taken from README.md's
"Lessons" table, one page per lesson and track (a copy of the solution notebook with its committed outputs,
plus a banner that switches to the other track and offers the lesson and solution notebooks for download),
the report of a course run and the course design page. :func:`build_site` renders it with ``sphinx-build``
(configuration in ``docs/site/conf.py``, kept in the repository so the theme and its offline settings are
read and reviewed like any other file) into ``build/site/``; the source and Sphinx's own files stay in
``build/site-src/``. The committed notebooks are only read, never modified.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .notebooks import TRACKS

TRACK_TITLES = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}
CONF_DIR = Path("docs") / "site"
DEFAULT_REPORT = Path("reference") / "cpu"
# Written into every source folder this module generates, so it never clears a folder someone else made.
SOURCE_MARK = ".course-site-source"
LESSONS_HEADING = "## Lessons"
LESSONS_COLUMNS = ["#", "lesson", "headline experiment"]


class SiteError(ValueError):
    """The inputs of the site are missing or not in the expected shape; the message says what was expected."""


def lessons_table(readme: str) -> list[dict[str, str]]:
    """The rows of README.md's "Lessons" table: ``{"number", "lesson", "headline"}``, in order."""
    lines = readme.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == LESSONS_HEADING)
    except StopIteration:
        raise SiteError(f"README.md has no '{LESSONS_HEADING}' section; the site's syllabus is taken from it") from None
    table = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            table.append(line)
        elif table or line.startswith("#"):
            break
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in table]
    if len(cells) < 3 or cells[0] != LESSONS_COLUMNS:
        raise SiteError(f"README.md's '{LESSONS_HEADING}' section must open with a table with the columns "
                        f"{' | '.join(LESSONS_COLUMNS)} and one row per lesson")
    # The headline cells may contain '|' only escaped; re-join anything past the third column to be safe.
    return [{"number": row[0], "lesson": row[1], "headline": " | ".join(row[2:])} for row in cells[2:]]


def lesson_notebooks(root: Path, numbers: list[str]) -> dict[str, dict[str, dict[str, Path]]]:
    """``{number: {track: {"solution": path, "lesson": path}}}`` for every lesson and track; all must exist."""
    found: dict[str, dict[str, dict[str, Path]]] = {}
    missing = []
    for number in numbers:
        for track in TRACKS:
            for kind, folder in (("solution", "solutions"), ("lesson", "lessons")):
                paths = sorted((root / folder / track).glob(f"{number}_*.ipynb"))
                if len(paths) != 1:
                    missing.append(f"{folder}/{track}/{number}_*.ipynb ({len(paths)} found)")
                    continue
                found.setdefault(number, {}).setdefault(track, {})[kind] = paths[0]
    if missing:
        raise SiteError("every lesson in README.md needs exactly one solution and one lesson notebook per track; "
                        "missing or ambiguous: " + ", ".join(missing))
    return found


def check_report(report: Path) -> None:
    """A report folder is what ``python -m course_lib run`` writes: ``report.md`` and the ``charts/`` it shows."""
    if not report.is_dir():
        raise SiteError(f"report folder {report} not found: expected the output of `python -m course_lib run` "
                        f"(report.md, results.json, charts/), e.g. {DEFAULT_REPORT}/ or build/")
    if not (report / "report.md").is_file():
        raise SiteError(f"report folder {report} has no report.md: expected the output of `python -m course_lib run`")


def _page(track: str, path: Path) -> str:
    return f"{track}/{path.stem}"


def _banner(track: str, paths: dict[str, dict[str, Path]]) -> str:
    """The markdown of the banner on a lesson page: the two tracks (this one in bold) and the downloads."""
    switch = []
    for other in TRACKS:
        name = TRACK_TITLES[other]
        page = paths[other]["solution"].name
        switch.append(f"**{name}**" if other == track else f"[{name}](../{other}/{page})")
    lesson, solution = paths[track]["lesson"].name, paths[track]["solution"].name
    return "\n".join([
        "```{container} track-switch",
        "Track: " + " | ".join(switch),
        "",
        f"Download: {{download}}`the lesson notebook (exercises) <../_notebooks/lessons/{track}/{lesson}>` | "
        f"{{download}}`the solution notebook <../_notebooks/solutions/{track}/{solution}>`",
        "```",
    ])


def lesson_page(notebook: nbformat.NotebookNode, banner: str) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with ``banner`` as a markdown cell right under the title."""
    nb = nbformat.from_dict(notebook)  # a deep copy: the caller's notebook stays as it was read
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "markdown" and first.source.startswith("# "):
        title, _, rest = first.source.partition("\n")
        cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_markdown_cell(banner)]
        if rest.strip():
            cells.append(nbformat.v4.new_markdown_cell(rest.strip("\n"), metadata=first.metadata))
        nb.cells[:1] = cells
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(banner))
    for cell in nb.cells:
        cell.pop("id", None)  # ids of the inserted cells would be random; without ids the copy is reproducible
    nb.nbformat_minor = 4
    return nb


def _home(readme: str, rows: list[dict[str, str]], pages: dict[str, dict[str, str]], report_title: str) -> str:
    intro = readme.split("\n\n")[1].strip() if readme.count("\n\n") else ""
    # The syllabus table needs the width the page's own table of contents (two entries) would take.
    lines = ["---", "html_theme.sidebar_secondary.remove: true", "---", "",
             "# Optimizing Generative Models", "", intro, "",
             "Every lesson has a page per track: the solution notebook with its reference outputs (budget `cpu`). "
             "Each page links to the same lesson in the other track and offers the lesson notebook, with the "
             "exercises, and the solution notebook for download.", "",
             "## Syllabus", "",
             "| # | lesson | " + " | ".join(TRACK_TITLES[t] for t in TRACKS) + " | headline experiment |",
             "|---|---|" + "---|" * len(TRACKS) + "---|"]
    for row in rows:
        links = " | ".join(f"[{TRACK_TITLES[t]}]({pages[row['number']][t]}.ipynb)" for t in TRACKS)
        lines.append(f"| {row['number']} | {row['lesson']} | {links} | {row['headline']} |")
    lines += ["", "## Also on this site", "",
              f"- [{report_title}](report/report.md): the run the reference outputs come from, "
              "every chart and every claim checked by code.",
              "- [Course design](course_design.md): the lesson pattern, the evidence standards and the notebook "
              "contract.",
              ""]
    lines += ["```{toctree}", ":hidden:", ":caption: Lessons", ""] + [f"{t}/index" for t in TRACKS] + ["```", ""]
    lines += ["```{toctree}", ":hidden:", ":caption: About the course", "",
              f"{report_title} <report/report>", "course_design", "```", ""]
    return "\n".join(lines)


def _track_index(track: str, rows: list[dict[str, str]], pages: dict[str, dict[str, str]]) -> str:
    """One track's page: its lessons in order. In the navigation it opens on that track's lessons only."""
    others = ", ".join(f"[{TRACK_TITLES[t]}](../{t}/index.md)" for t in TRACKS if t != track)
    lessons = [f"/{pages[row['number']][track]}" for row in rows]  # absolute: relative to the source root
    return "\n".join([f"# {TRACK_TITLES[track]} track", "",
                      f"The {len(rows)} lessons in {TRACK_TITLES[track]}, in order. The same lessons, with the same "
                      f"experiments and numbers of seeds, in the other track: {others}.", "",
                      "```{toctree}", ":maxdepth: 1", ":titlesonly:", "", *lessons, "```", ""])


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _prepare(folder: Path, mark: str, what: str, *, empty: bool = True) -> None:
    """Empty ``folder`` if it is one this module made (it holds ``mark``); refuse any other non-empty folder."""
    if folder.exists() and not folder.is_dir():
        raise SiteError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / mark).exists():
            raise SiteError(f"{folder} exists and is not a {what} made by `python -m course_lib site`; "
                            f"choose another folder or remove it yourself")
        if empty:
            shutil.rmtree(folder)
    if empty:
        folder.mkdir(parents=True, exist_ok=True)


def write_source(root: Path, report: Path, src: Path) -> list[str]:
    """Generate the Sphinx source folder ``src``; return the documents written (without suffix)."""
    root, report = Path(root), Path(report)
    check_report(report)
    readme = (root / "README.md").read_text(encoding="utf-8")
    rows = lessons_table(readme)
    paths = lesson_notebooks(root, [row["number"] for row in rows])
    if src.exists() and any(src.iterdir()):
        raise SiteError(f"{src} is not empty; the site source is written into a new folder")

    pages = {n: {t: _page(t, p["solution"]) for t, p in by_track.items()} for n, by_track in paths.items()}
    for number, by_track in paths.items():
        for track, files in by_track.items():
            nb = nbformat.read(files["solution"], as_version=4)
            page = lesson_page(nb, _banner(track, by_track))
            _write(src / f"{pages[number][track]}.ipynb", nbformat.writes(page).encode())
            for kind, folder in (("lesson", "lessons"), ("solution", "solutions")):
                _write(src / "_notebooks" / folder / track / files[kind].name, files[kind].read_bytes())

    report_md = (report / "report.md").read_text(encoding="utf-8")
    first = report_md.splitlines()[0] if report_md else ""
    report_title = first[2:].strip() if first.startswith("# ") else "Course report"
    report_title = f"Course report: {report_title[0].lower()}{report_title[1:]}" if report_title else "Course report"
    _write(src / "report" / "report.md", report_md.encode())
    for chart in sorted((report / "charts").glob("*.png")):
        _write(src / "report" / "charts" / chart.name, chart.read_bytes())
    design = root / "docs" / "course_design.md"
    _write(src / "course_design.md", design.read_bytes())
    _write(src / "index.md", _home(readme, rows, pages, report_title).encode())
    for track in TRACKS:
        _write(src / track / "index.md", _track_index(track, rows, pages).encode())
    return (["index", "report/report", "course_design"] + [f"{t}/index" for t in TRACKS]
            + [p for by in pages.values() for p in by.values()])


def build_site(root: Path, report: Path, out: Path, *, work: Path | None = None, jobs: int = 2,
               quiet: bool = False) -> Path:
    """Write the source folder, render it with ``sphinx-build`` and put the HTML in ``out``; return ``out/index.html``.

    Everything Sphinx and MyST-NB write besides the HTML (the source, doctrees, extracted outputs) stays in
    ``work``, by default a sibling of ``out`` named ``<out>-src``. ``out`` is replaced only when the build
    succeeded. Raises :class:`SiteError` on bad input and :class:`subprocess.CalledProcessError` when Sphinx
    fails (its messages are on the terminal).
    """
    root, out = Path(root).resolve(), Path(out).resolve()
    work = Path(work).resolve() if work is not None else out.with_name(out.name + "-src")
    # Checked before anything is written: a folder that is not an earlier site is someone's and stays untouched.
    check_report(Path(report))
    _prepare(out, ".buildinfo", "site", empty=False)
    _prepare(work, SOURCE_MARK, "site work folder")
    (work / SOURCE_MARK).write_text("made by python -m course_lib site; emptied on every build\n")
    src, html = work / "source", work / "html"
    write_source(root, Path(report).resolve(), src)
    # MyST-NB writes the notebooks' images next to the output folder (html/../jupyter_execute): inside work.
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-j", str(jobs), "-c", str(root / CONF_DIR),
               "-d", str(work / "doctrees"), "--fail-on-warning", "--keep-going", str(src), str(html)]
    if quiet:
        command.insert(3, "-q")
    # Sphinx's progress goes through as it comes, except its last line, which names the work folder the HTML
    # is about to leave.
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as sphinx:
        for line in sphinx.stdout:
            if not line.startswith("The HTML pages are in"):
                print(line, end="", flush=True)
    if sphinx.returncode:
        raise subprocess.CalledProcessError(sphinx.returncode, command)
    _prepare(out, ".buildinfo", "site")
    out.rmdir()
    shutil.move(html, out)
    return out / "index.html"
