"""The course site seen by a browser: every page opened in headless Chromium, with no network.

:func:`check_site` serves a built site (``python -m course_lib site``) on 127.0.0.1 from a thread and
opens every HTML page in Debian's Chromium through Playwright. A page fails on a console error, an
uncaught exception, a failed request, an HTTP status of 400 or more, a request that leaves 127.0.0.1
(the site must work offline), an internal link to a file or anchor that does not exist, an image that
did not load, or math that MathJax left as raw TeX. It also takes screenshots of the home page and of
one lesson page per track that has both math and a figure.
"""
from __future__ import annotations

import functools
import html.parser
import os
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
TRACKS = ("pytorch", "tensorflow")
# Folders of a Sphinx build that hold assets, not pages a reader opens.
NOT_PAGES = ("_static", "_sources", "_downloads", "_images")

# Run in each page once it has loaded (and MathJax has typeset): what the checks below need.
_INSPECT = r"""() => {
  const hrefs = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const images = [...document.querySelectorAll('img')].map(
      img => ({src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0}));
  const figures = document.querySelectorAll('.cell_output img').length;
  const mathNodes = [...document.querySelectorAll('.math')];
  const untypeset = mathNodes.filter(n => !n.querySelector('mjx-container')).length;
  const typeset = document.querySelectorAll('mjx-container').length;
  const article = (document.querySelector('article') || document.body).cloneNode(true);
  article.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(n => n.remove());
  const text = article.textContent;
  const rawTex = /\\\(|\\\[|\\begin\{|\$\$|\$[^$\s][^$\n]*\\[a-zA-Z]+[^$\n]*\$/.exec(text);
  return {hrefs, images, figures, math: mathNodes.length, untypeset, typeset,
          rawTex: rawTex ? text.substr(Math.max(0, rawTex.index - 40), 120) : null};
}"""
# Resolves once MathJax has typeset the page (at once on a page without math, where Sphinx does not load it).
# Then waits for the web fonts, which MathJax asks for only once it has typeset.
_MATHJAX_DONE = ("async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise; "
                 "await document.fonts.ready; return true; }")


class SiteCheckError(RuntimeError):
    """The check could not run (no site, no browser); the message says what to do."""


@dataclass
class PageReport:
    path: str
    problems: list[str] = field(default_factory=list)
    math: int = 0
    figures: int = 0


@dataclass
class SiteReport:
    pages: list[PageReport]
    screenshots: list[Path]

    @property
    def problems(self) -> list[str]:
        return [f"{p.path}: {problem}" for p in self.pages for problem in p.problems]


class _Ids(html.parser.HTMLParser):
    """The ``id`` and ``name`` attributes of a page: the anchors a link may point to."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for key, value in attrs if key in ("id", "name") and value)


@functools.cache
def _anchors(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def _quiet_handler(directory: Path):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, format, *args):  # one line per request would bury the check's own report
            pass

    return Handler


def pages_of(site: Path) -> list[str]:
    """Every HTML page of the site, as a path relative to it (home page first)."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if p.relative_to(site).parts[0] not in NOT_PAGES)
    return sorted(pages, key=lambda p: p != "index.html")


def _link_problem(site: Path, base: str, href: str) -> str | None:
    """Why the internal link ``href`` is broken, or None when its file (and anchor) exist."""
    parts = urlsplit(href)
    if not href.startswith(base):
        return None  # mailto:, javascript:, or an external page the reader may choose to open
    rel = unquote(parts.path)[len(urlsplit(base).path):]
    target = site / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return f"link to a missing file: {rel or '/'}"
    if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _anchors(target):
        return f"link to a missing anchor: {rel}#{parts.fragment}"
    return None


def _launch(playwright):
    if not CHROMIUM.exists():
        raise SiteCheckError(f"Chromium not found at {CHROMIUM}: install it with `sudo apt-get install chromium` "
                             "(or set COURSE_CHROMIUM to a Chromium executable)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def _screenshot_pages(reports: list[PageReport]) -> dict[str, str]:
    """Home page and, per track, the first lesson page with math and a figure: ``{file stem: page}``."""
    chosen = {"home": "index.html"}
    for track in TRACKS:
        for report in reports:
            if report.path.startswith(f"{track}/") and report.math and report.figures:
                chosen[f"{track}-{Path(report.path).stem}"] = report.path
                break
    return chosen


def check_site(site: Path, screenshots: Path | None = None, progress=print) -> SiteReport:
    """Open every page of the built ``site`` in headless Chromium; return what was wrong and the screenshots."""
    site = Path(site).resolve()
    if not (site / "index.html").is_file():
        raise SiteCheckError(f"no site at {site} (no index.html): build it first with `python -m course_lib site`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SiteCheckError("the site check needs Playwright's Python package: pip install playwright "
                             "(its browser download is not needed: it uses the system's Chromium)") from None

    _anchors.cache_clear()  # a site rebuilt at the same path since the last check has other pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), _quiet_handler(site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/"
    pages = pages_of(site)
    reports: list[PageReport] = []
    shots: list[Path] = []
    try:
        with sync_playwright() as p:
            browser = _launch(p)
            context = browser.new_context(viewport=VIEWPORT, service_workers="block")
            current: list[PageReport] = []  # the page being checked; events are charged to it

            def note(problem: str) -> None:
                if current and problem not in current[-1].problems:
                    current[-1].problems.append(problem)

            def route(r):
                if urlsplit(r.request.url).hostname == "127.0.0.1":
                    r.continue_()
                else:  # offline by design: any other host is a failure, and is never contacted
                    note(f"request leaves 127.0.0.1: {r.request.url}")
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and note(f"console error: {m.text}"))
            page.on("pageerror", lambda e: note(f"page error: {e}"))
            leaving: list[bool] = [False]  # requests cut short because the check moves on are not the page's fault
            page.on("requestfailed", lambda r: (leaving[0] and r.failure == "net::ERR_ABORTED")
                    or note(f"request failed: {r.url} ({r.failure})"))
            page.on("response", lambda r: r.status >= 400 and note(f"HTTP {r.status}: {r.url}"))
            for i, rel in enumerate(pages, 1):
                report = PageReport(rel)
                current.append(report)
                leaving[0] = False
                page.goto(base + rel, wait_until="load")
                page.evaluate(_MATHJAX_DONE)
                found = page.evaluate(_INSPECT)
                report.math, report.figures = found["math"], found["figures"]
                for href in dict.fromkeys(found["hrefs"]):
                    problem = _link_problem(site, base, href)
                    if problem:
                        note(problem)
                for image in found["images"]:
                    if not image["ok"]:
                        note(f"image not shown: {image['src']}")
                if found["math"] and (found["untypeset"] or not found["typeset"]):
                    note(f"MathJax typeset {found['typeset']} formulas; {found['untypeset']} left as TeX")
                if found["rawTex"]:
                    note(f"raw TeX in the text: ...{found['rawTex']}...")
                # Leave the page before the next one is charged with events: late ones still count against this page.
                leaving[0] = True
                page.goto("about:blank")
                reports.append(report)
                progress(f"[{i}/{len(pages)}] {rel}: " + (f"{len(report.problems)} problem(s)" if report.problems
                                                         else "ok"))
            current.clear()  # the screenshots reload pages that were checked already
            if screenshots is not None:
                shots = _take_screenshots(page, base, _screenshot_pages(reports), Path(screenshots))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return SiteReport(reports, shots)


def _take_screenshots(page, base: str, chosen: dict[str, str], folder: Path) -> list[Path]:
    """The first screen of each chosen page, and for a lesson also the screen around its first figure."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    for stem, rel in chosen.items():
        page.goto(base + rel, wait_until="load")
        page.evaluate(_MATHJAX_DONE)
        path = folder / f"{stem}.png"
        page.screenshot(path=str(path), full_page=stem == "home")
        shots.append(path)
        if stem != "home":
            # The first figure, with the formulas and text just above it: what a learner reads the lesson for.
            page.locator(".cell_output img").first.evaluate("img => img.scrollIntoView({block: 'center'})")
            path = folder / f"{stem}-figure.png"
            page.screenshot(path=str(path))
            shots.append(path)
    return shots
