"""Markdown report of a runner run: status table, per-notebook charts, tracks side by side.

Reads only the ``results.json`` structure that :func:`course_lib.tooling.runner.run` returns
(never notebook output text)::

    {"budget": "smoke", "notebooks": {"solutions/pytorch/00_x.ipynb":
        {"status": "ok", "seconds": 12.3, "error": None, "results": {...} or None}},
     "cross_track_claims": {"solutions/00_x": [{"statement", "outcome", "evidence"}, ...]}}
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from .. import results as _results


def _cell(text) -> str:
    """Make ``text`` safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _fmt(stats: dict | None) -> str:
    if stats is None:
        return "–"
    return f"{stats['mean']:.4g} ± {stats['std']:.2g} (n={stats['n']})"


def chart_name(rel: str) -> str:
    """``solutions/pytorch/00_x.ipynb`` -> ``solutions-pytorch-00_x.png`` (unique per notebook)."""
    return "-".join(PurePosixPath(rel).with_suffix(".png").parts)


def _save_chart(results: dict, path: Path, title: str) -> None:
    # A bare Figure, not pyplot: nothing global changes (no backend switch, no open
    # figure left behind), which matters when the report is written from a notebook.
    from matplotlib.figure import Figure

    from ..plots import with_without

    fig = Figure(figsize=(1.3 * len(results["variants"]) + 2, 3.4))
    floor = results.get("floor")
    ax = with_without(results, ax=fig.subplots(), reference=floor if _is_number(floor) else None)
    ax.set_title(f"{title}\n{ax.get_title()}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def _lesson_key(rel: str) -> tuple[str, str] | None:
    """(kind, lesson number) for ``kind/track/NN_topic.ipynb``; None for other layouts."""
    parts = PurePosixPath(rel).parts
    if len(parts) != 3:
        return None
    return parts[0], PurePosixPath(parts[2]).stem.split("_", 1)[0]


def _side_by_side(notebooks: dict) -> list[str]:
    """One table per lesson that has results: each variant's mean ± std in both tracks."""
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for rel, entry in notebooks.items():
        key = _lesson_key(rel)
        if key is not None and entry.get("results"):
            groups.setdefault(key, {})[PurePosixPath(rel).parts[1]] = rel
    lines: list[str] = []
    for (kind, number), by_track in sorted(groups.items()):
        tracks = sorted(by_track)
        res = {t: notebooks[by_track[t]]["results"] for t in tracks}
        stats = {t: _results.summary(res[t]) for t in tracks}
        first = res[tracks[0]]
        arrow = "lower is better" if first["lower_is_better"] else "higher is better"
        names = list(dict.fromkeys(v for t in tracks for v in stats[t]))
        lines += ["", f"### {kind} lesson {number}: {first['metric']} ({arrow})", "",
                  "| variant | " + " | ".join(tracks) + " |",
                  "|---|" + "---|" * len(tracks)]
        for name in names:
            lines.append(f"| {_cell(name)} | " + " | ".join(_fmt(stats[t].get(name)) for t in tracks) + " |")
        floors = {t: res[t].get("floor") for t in tracks}
        if any(_is_number(f) for f in floors.values()):
            lines.append("| floor | " + " | ".join(f"{floors[t]:.4g}" if _is_number(floors[t]) else "–"
                                                  for t in tracks) + " |")
    return lines


_MARKS = {"held": "✓ held", "did not hold": "✗ did not hold", "not evaluated": "· not evaluated",
          "pending": "… pending"}


def _claims_table(claims: list) -> list[str]:
    if not claims:
        return []
    lines = ["", "| claim | outcome | evidence |", "|---|---|---|"]
    for c in claims:
        lines.append(f"| {_cell(c['statement'])} | {_MARKS.get(c['outcome'], _cell(c['outcome']))} "
                     f"| {_cell(c['evidence'])} |")
    return lines


def write_report(out_dir, results_dict: dict) -> Path:
    """Write ``out_dir/report.md`` and ``out_dir/charts/*.png``; return the report's path."""
    out_dir = Path(out_dir)
    notebooks = results_dict.get("notebooks", {})
    n_failed = sum(e["status"] != "ok" for e in notebooks.values())
    # A notebook's pending cross-track claim is counted once, as decided (or still pending) across tracks.
    claims = [c for e in notebooks.values() for c in (e.get("results") or {}).get("claims", [])
              if c["outcome"] != "pending"]
    claims += [c for cs in (results_dict.get("cross_track_claims") or {}).values() for c in cs]
    counted = ", ".join(f"{sum(c['outcome'] == o for c in claims)} {o}" for o in _MARKS
                        if any(c["outcome"] == o for c in claims))
    lines = [f"# Notebook run (budget: {results_dict.get('budget')})", "",
             f"{len(notebooks) - n_failed} ok, {n_failed} failed." + (f" Claims: {counted}." if claims else ""), "",
             "| notebook | status | seconds | error |", "|---|---|---|---|"]
    for rel, entry in notebooks.items():
        error = _cell(entry.get("error") or "")
        lines.append(f"| {_cell(rel)} | {entry['status']} | {entry['seconds']:.1f} | {error} |")

    with_results = [(rel, e["results"]) for rel, e in notebooks.items() if e.get("results")]
    if with_results:
        lines += ["", "## Tracks side by side"] + _side_by_side(notebooks)
        lines += ["", "## Results per notebook"]
    for rel, res in with_results:
        name = chart_name(rel)
        _save_chart(res, out_dir / "charts" / name, rel)
        arrow = "lower is better" if res["lower_is_better"] else "higher is better"
        lines += ["", f"### {rel}", "", f"{res['metric']} ({arrow})"
                  + (f", floor {res['floor']:.4g}" if _is_number(res.get("floor")) else ""), "",
                  f"![{res['metric']}: {rel}](charts/{name})", "",
                  "| variant | mean ± std |", "|---|---|"]
        for variant, stats in _results.summary(res).items():
            lines.append(f"| {_cell(variant)} | {_fmt(stats)} |")
        lines += _claims_table(res.get("claims", []))
    across = results_dict.get("cross_track_claims") or {}
    if across:
        lines += ["", "## Claims across tracks"]
        for lesson, claims in across.items():
            lines += ["", f"### {lesson}"] + _claims_table(claims)

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
