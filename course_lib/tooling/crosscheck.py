"""Decide the claims that need both tracks: a lesson's PyTorch and TensorFlow notebooks each record
their values under the same statement (``Claims.tracks_agree``), and this pairs them."""
from __future__ import annotations

from pathlib import PurePosixPath

from .. import claims as _claims


def lesson_key(rel: str) -> tuple[str, str] | None:
    """(kind, notebook file name) for ``kind/track/NN_topic.ipynb``; None for other layouts."""
    parts = PurePosixPath(rel).parts
    return (parts[0], parts[2]) if len(parts) == 3 else None


def cross_track(recorded: dict) -> dict:
    """``{"kind/NN_topic": [decided claim, ...]}`` from ``{rel: results dict or None}``.

    Only lessons with at least one pending cross-track claim appear. A statement made by only one
    track, or a lesson with one track missing from the run, stays pending.
    """
    groups: dict[tuple[str, str], dict[str, dict]] = {}
    for rel, res in recorded.items():
        key = lesson_key(rel)
        if key is not None and res:
            groups.setdefault(key, {})[PurePosixPath(rel).parts[1]] = res
    out = {}
    for (kind, name), by_track in sorted(groups.items()):
        tracks = sorted(by_track)
        first = by_track[tracks[0]]
        second = by_track[tracks[1]] if len(tracks) > 1 else None
        decided = _claims.across_tracks(first, second)
        if decided:
            out[f"{kind}/{PurePosixPath(name).stem}"] = decided
    return out


def not_held(decided: dict) -> list[str]:
    """Human-readable lines for every cross-track claim that did not hold."""
    return [f"{lesson}: {c['statement']} ({c['evidence']})"
            for lesson, cs in decided.items() for c in cs if c["outcome"] == _claims.NOT_HELD]
