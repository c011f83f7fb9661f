"""Command line of the course tooling.

    python -m course_lib build [--check] [--root DIR]
    python -m course_lib run [--budget B] [--track T] [--kind K] [--only S] [--jobs N] [--out DIR] [--timeout S]
    python -m course_lib refresh [--only S] [--track T] [--budget B] [--timeout S]
    python -m course_lib grade DIR [--out DIR] [--timeout S] [--jobs N] [--force]
    python -m course_lib site [--out DIR] [--report DIR] [--check [--screenshots DIR]]

Framework-neutral: nothing here (or in the modules it uses) imports PyTorch or TensorFlow.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .notebooks import KINDS, TRACKS
from .runner import BUDGETS, PACKAGE_ROOT

BUILD_HINT = "run: python -m course_lib build"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _timeout_seconds(text: str) -> float:
    from .runner import MAX_TIMEOUT, check_timeout

    try:
        return check_timeout(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{build,run,refresh,grade,site}")
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument("--root", type=Path, default=PACKAGE_ROOT,
                      help="course repository root (default: %(default)s)")

    p = sub.add_parser("build", parents=[root], help="generate lessons/ from solutions/")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a lesson is stale or has no solution")

    p = sub.add_parser("run", parents=[root], help="execute notebooks with papermill and write a report")
    p.add_argument("--budget", choices=BUDGETS, default="auto", help="compute budget (default: %(default)s)")
    p.add_argument("--track", choices=TRACKS + ("all",), default="all")
    p.add_argument("--kind", choices=KINDS + ("all",), default="solutions")
    p.add_argument("--only", metavar="SUBSTRING", help="only notebooks whose path contains this")
    p.add_argument("--jobs", type=_positive_int, default=1, help="notebooks run in parallel (default: 1)")
    p.add_argument("--out", type=Path, default=Path("build"),
                   help="output folder, relative to --root (default: build)")
    p.add_argument("--timeout", type=_timeout_seconds, metavar="S",
                   help="seconds per notebook (default: smoke 300, cpu 900, gpu 3600; "
                        "auto: that of the budget it resolves to)")
    p.add_argument("--seed", type=int, default=0, help="SEED parameter passed to notebooks (default: 0)")

    p = sub.add_parser("refresh", parents=[root], help="re-execute solutions in place to refresh their outputs")
    p.add_argument("--only", metavar="SUBSTRING", help="only notebooks whose path contains this")
    p.add_argument("--track", choices=TRACKS + ("all",), default="all")
    p.add_argument("--budget", choices=BUDGETS, default="cpu", help="COURSE_BUDGET for the run (default: %(default)s)")
    p.add_argument("--timeout", type=_timeout_seconds, metavar="S", help="seconds per cell (default per budget)")

    p = sub.add_parser("grade", parents=[root], help="run participants' notebooks and write a gradebook")
    p.add_argument("dir", type=Path, metavar="DIR", help="one folder per participant, holding their lesson notebooks")
    p.add_argument("--out", type=Path, default=Path("gradebook"),
                   help="folder for gradebook.csv and gradebook.md, outside DIR (default: ./gradebook)")
    p.add_argument("--timeout", type=_timeout_seconds, metavar="S", default=300.0,
                   help="seconds per notebook, kernel start included (default: %(default)g)")
    p.add_argument("--jobs", type=_positive_int, default=1, help="notebooks run in parallel (default: 1)")
    p.add_argument("--force", action="store_true", help="replace a gradebook already in --out")

    p = sub.add_parser("site", parents=[root], help="build the course site (static HTML, offline), or check it")
    p.add_argument("--out", type=Path, default=Path("build/site"),
                   help="site folder, relative to --root (default: %(default)s)")
    p.add_argument("--report", type=Path, default=Path("reference/cpu"),
                   help="a course run's output (report.md, charts/), relative to --root (default: %(default)s)")
    p.add_argument("--check", action="store_true",
                   help="do not build: open every page of the built site in headless Chromium and take screenshots")
    p.add_argument("--screenshots", type=Path, default=Path("build/site-screenshots"),
                   help="with --check: folder for the PNG screenshots, relative to --root (default: %(default)s)")
    return parser


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def cmd_build(args) -> int:
    from . import answers
    from .notebooks import build, orphans

    answers_path = answers.path_for(args.root)
    try:
        stale = build(args.root, check=args.check)
        answers_stale = answers_path is not None and answers.stale(args.root, answers_path)
    except ValueError as e:  # e.g. unbalanced solution markers, named by notebook and cell
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.check:
        for path in stale:
            print(f"stale lesson: {_rel(path, args.root)}  ({BUILD_HINT})")
        if answers_stale:
            print(f"stale answers: {_rel(answers_path, args.root)}  ({BUILD_HINT})")
        if stale or answers_stale:
            print(f"{len(stale) + answers_stale} file(s) out of date with solutions/; {BUILD_HINT}", file=sys.stderr)
            return 1
        print("lessons and answers are up to date")
        return 0
    if answers_stale:
        answers.write(args.root, answers_path)
        print(f"wrote {_rel(answers_path, args.root)}")
    for path in stale:
        print(f"wrote {_rel(path, args.root)}")
    for path in orphans(args.root):
        print(f"warning: {_rel(path, args.root)} has no solution notebook; delete it or add the solution",
              file=sys.stderr)
    print(f"{len(stale)} lesson(s) written" if stale else "lessons are up to date")
    return 0


def cmd_run(args) -> int:
    from .crosscheck import not_held
    from .runner import RunInProgress, run

    # The runner handles SIGINT and SIGTERM while notebooks run; before and after that, a further
    # Ctrl-C must not cut the summary short (a second Ctrl-C used to kill the runner mid-write).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    try:
        summary = run(args.root, budget=args.budget, track=args.track, kind=args.kind, only=args.only,
                      jobs=args.jobs, out=args.out, timeout=args.timeout, seed=args.seed)
    except (ValueError, RunInProgress) as e:  # nothing selected, a run already using --out, ...
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"interrupted: {e}", file=sys.stderr)
        return 130
    failed = {rel: e for rel, e in summary["notebooks"].items() if e["status"] != "ok"}
    for rel, entry in summary["notebooks"].items():
        print(f"{entry['status']:6} {entry['seconds']:8.1f} s  {rel}")
    out = (Path(args.root) / args.out).resolve()
    print(f"report: {out / 'report.md'}")
    across = not_held(summary.get("cross_track_claims", {}))
    if failed:
        print(f"\n{len(failed)} notebook(s) failed:", file=sys.stderr)
        for rel, entry in failed.items():
            print(f"FAILED {rel}\n    {entry['error']}", file=sys.stderr)
    for line in across:
        print(f"CLAIM ACROSS TRACKS DID NOT HOLD {line}", file=sys.stderr)
    return 1 if failed or across else 0


def cmd_refresh(args) -> int:
    from .refresh import refresh
    from .runner import NotebookError

    try:
        done = refresh(args.root, only=args.only, track=args.track, budget=args.budget, timeout=args.timeout)
    except NotebookError as e:
        print(f"refresh failed: {e}", file=sys.stderr)
        return 1
    if not done:
        print("no solution notebooks matched", file=sys.stderr)
        return 1 if args.only else 0
    return 0


def cmd_grade(args) -> int:
    from .grading import grade

    try:
        done = grade(args.dir, out=args.out, timeout=args.timeout, jobs=args.jobs, force=args.force, root=args.root)
    except ValueError as e:  # DIR missing, empty or laid out otherwise; --out inside DIR or already used
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"interrupted: {e}", file=sys.stderr)
        return 130
    for path in done["paths"]:
        print(f"gradebook: {path}")
    return 0


def cmd_site(args) -> int:
    import subprocess

    from .site import SiteError, build_site
    from .site_check import SiteCheckError, check_site

    out = args.root / args.out
    if args.check:
        try:
            report = check_site(out, args.root / args.screenshots)
        except SiteCheckError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        for path in report.screenshots:
            print(f"screenshot: {_rel(path, args.root)}")
        for problem in report.problems:
            print(f"PROBLEM {problem}", file=sys.stderr)
        print(f"{len(report.pages)} page(s) checked, {len(report.problems)} problem(s)")
        return 1 if report.problems else 0
    try:
        index = build_site(args.root, args.root / args.report, out)
    except SiteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"error: sphinx-build failed (exit {e.returncode}); its messages are above", file=sys.stderr)
        return 1
    print(f"site: {_rel(index, args.root)}")
    return 0


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root} is not a directory")
    return {"build": cmd_build, "run": cmd_run, "refresh": cmd_refresh, "grade": cmd_grade,
            "site": cmd_site}[args.command](args)

