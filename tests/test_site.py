"""The course site: generated from the committed notebooks and report, every page opened in headless Chromium.

The browser test builds the site from the committed course report (``reference/cpu/``; the environment
variable COURSE_SITE_REPORT names another report folder). Without Chromium it is skipped, except under
CI (the variable CI is set), where Chromium is installed and its absence is a failure.
"""
import os
import struct
from pathlib import Path

import nbformat
import pytest

from course_lib.tooling import site, site_check

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path(os.environ.get("COURSE_SITE_REPORT") or ROOT / "reference" / "cpu")
TRACKS = ("pytorch", "tensorflow")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI the browser test must run, so CI installs it")
    pytest.skip(reason)


def _fake_report(folder: Path) -> Path:
    (folder / "charts").mkdir(parents=True)
    (folder / "charts" / "x.png").write_bytes(b"not looked at by the generator")
    (folder / "report.md").write_text("# Notebook run (budget: smoke)\n\n![chart](charts/x.png)\n")
    return folder


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The generated Sphinx source (no Sphinx run), from the committed notebooks and a small report."""
    tmp = tmp_path_factory.mktemp("site-source")
    committed = {p: p.read_bytes() for p in sorted(ROOT.glob("solutions/*/*.ipynb"))}
    docs = site.write_source(ROOT, _fake_report(tmp / "report"), tmp / "src")
    assert {p: p.read_bytes() for p in committed} == committed, "the committed notebooks must not change"
    return tmp / "src", docs


def _readme_rows():
    return site.lessons_table((ROOT / "README.md").read_text(encoding="utf-8"))


def test_lessons_table_is_read_from_the_readme():
    readme = ("# Course\n\nIntro.\n\n## Lessons\n\n| # | lesson | headline experiment |\n|---|---|---|\n"
              "| 00 | baselines | a VAE and a GAN |\n| 01 | regularization | L2 vs `AdamW` |\n\nSee also.\n")
    assert site.lessons_table(readme) == [
        {"number": "00", "lesson": "baselines", "headline": "a VAE and a GAN"},
        {"number": "01", "lesson": "regularization", "headline": "L2 vs `AdamW`"}]
    with pytest.raises(site.SiteError, match="Lessons"):
        site.lessons_table("# Course\n\nNo table here.\n")
    with pytest.raises(site.SiteError, match="headline experiment"):
        site.lessons_table("## Lessons\n\n| # | topic |\n|---|---|\n| 00 | x |\n")


def test_home_page_lists_every_readme_lesson_with_both_tracks(source):
    src, _ = source
    home = (src / "index.md").read_text(encoding="utf-8")
    rows = _readme_rows()
    assert [r["number"] for r in rows] == sorted({p.name[:2] for p in ROOT.glob("solutions/*/[0-9][0-9]_*.ipynb")})
    for row in rows:
        line = next(line for line in home.splitlines() if line.startswith(f"| {row['number']} |"))
        assert row["lesson"] in line and row["headline"] in line
        for track in TRACKS:
            page = next(ROOT.glob(f"solutions/{track}/{row['number']}_*.ipynb")).name
            assert f"({track}/{page})" in line
            # In the navigation: the home page lists the tracks, each track's page its lessons.
            assert f"{track}/index" in home.split("```{toctree}", 1)[1]
            assert f"/{track}/{page[:-len('.ipynb')]}\n" in (src / track / "index.md").read_text(encoding="utf-8")


def test_lesson_pages_switch_to_the_same_lesson_in_the_other_track(source):
    src, docs = source
    for solution in sorted(ROOT.glob("solutions/*/[0-9][0-9]_*.ipynb")):
        track = solution.parent.name
        other = next(t for t in TRACKS if t != track)
        assert f"{track}/{solution.stem}" in docs
        page = nbformat.read(src / track / solution.name, as_version=4)
        original = nbformat.read(solution, as_version=4)
        assert page.cells[0].source == original.cells[0].source.split("\n", 1)[0]  # the title stays first
        banner = page.cells[1].source
        other_page = ROOT / "solutions" / other / solution.name
        assert other_page.is_file() and f"[{site.TRACK_TITLES[other]}](../{other}/{solution.name})" in banner
        # The downloads are the committed notebooks, byte for byte: the exercises and the solution.
        lesson = ROOT / "lessons" / track / solution.name
        for kind, committed in (("lessons", lesson), ("solutions", solution)):
            assert f"../_notebooks/{kind}/{track}/{solution.name}>" in banner
            assert (src / "_notebooks" / kind / track / solution.name).read_bytes() == committed.read_bytes()
        # Every cell of the solution is on the page, outputs included.
        assert page.cells[-1].source == original.cells[-1].source
        assert sum(len(c.get("outputs", [])) for c in page.cells) == sum(len(c.get("outputs", []))
                                                                        for c in original.cells)


def test_missing_inputs_give_clear_errors(tmp_path):
    with pytest.raises(site.SiteError, match=r"report folder .*nowhere not found.*report\.md"):
        site.build_site(ROOT, tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(site.SiteError, match="has no report.md"):
        site.build_site(ROOT, tmp_path / "empty", tmp_path / "out")
    with pytest.raises(site.SiteError, match=r"lessons/pytorch/99_\*\.ipynb"):
        site.lesson_notebooks(ROOT, ["00", "99"])
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_site_is_left_alone(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(site.SiteError, match="not a site"):
        site.build_site(ROOT, _fake_report(tmp_path / "report"), mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def _browser():
    if not site_check.CHROMIUM.exists():
        _unavailable(f"no Chromium at {site_check.CHROMIUM}: apt-get install chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")


def test_browser_check_finds_what_a_reader_would_see_broken(tmp_path):
    """A two-page site with one of each fault: the check must name every one (else a pass means nothing)."""
    _browser()
    (tmp_path / "good.html").write_text('<html><body><p id="here">fine</p></body></html>')
    (tmp_path / "index.html").write_text(
        '<html><body><article><p>Raw $\\alpha + \\beta$ left behind.</p>'
        '<a href="good.html#here">ok</a> <a href="good.html#gone">bad anchor</a> <a href="nothing.html">bad</a>'
        '<img src="missing.png"><script src="https://cdn.example.org/x.js"></script>'
        '<script>console.error("boom")</script></article></body></html>')
    report = site_check.check_site(tmp_path, progress=lambda line: None)
    problems = "\n".join(report.problems)
    assert [p.path for p in report.pages] == ["index.html", "good.html"]
    for expected in ("raw TeX", "missing anchor: good.html#gone", "missing file: nothing.html",
                     "image not shown", "request leaves 127.0.0.1: https://cdn.example.org/x.js",
                     "console error: boom", "HTTP 404"):
        assert expected in problems, f"{expected!r} not reported in:\n{problems}"
    assert all(p.startswith("index.html: ") for p in report.problems)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    _browser()  # before the build: without a browser there is nothing to build for
    if not (REPORT / "report.md").is_file():
        pytest.fail(f"no course report at {REPORT}: commit reference/cpu/ (python -m course_lib run --budget cpu "
                    "--out reference/cpu) or set COURSE_SITE_REPORT to a report folder")
    out = tmp_path_factory.mktemp("site") / "site"
    site.build_site(ROOT, REPORT, out, quiet=True)
    return out


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_every_page_opens_cleanly_in_chromium(built_site, tmp_path):
    report = site_check.check_site(built_site, tmp_path / "shots", progress=lambda line: None)
    assert report.problems == []
    checked = {p.path for p in report.pages}
    lessons = {f"{p.parent.name}/{p.stem}.html" for p in ROOT.glob("solutions/*/[0-9][0-9]_*.ipynb")}
    assert lessons | {"index.html", "report/report.html", "course_design.html"} <= checked
    # Screenshots: the home page, and per track a lesson page with math and a figure (first screen, figure).
    names = sorted(p.name for p in report.screenshots)
    assert names[0] == "home.png" and len(names) == 5
    for track in TRACKS:
        shot = next(p for p in report.screenshots if p.name.startswith(f"{track}-") and "figure" not in p.name)
        page = next(p for p in report.pages if p.path == f"{track}/{shot.stem[len(track) + 1:]}.html")
        assert page.math and page.figures
    for shot in report.screenshots:
        width, height = _png_size(shot)
        assert width == site_check.VIEWPORT["width"] and height >= site_check.VIEWPORT["height"]
