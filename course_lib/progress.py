"""Progress bars for every loop that runs more than a few seconds.

Text bars (not widgets): they render in JupyterLab, in a terminal and in executed
notebooks alike. ``COURSE_PROGRESS=0`` turns them off (used when refreshing committed
outputs, so reference notebooks hold results, not timings).
"""
from __future__ import annotations

import os
import sys

from tqdm.std import tqdm


def enabled() -> bool:
    return os.environ.get("COURSE_PROGRESS", "1") not in ("0", "false", "no", "off")


def progress(iterable=None, total=None, desc: str | None = None, **kwargs):
    """A tqdm bar on stdout, or a silent pass-through when progress is switched off."""
    kwargs.setdefault("mininterval", 0.5)
    kwargs.setdefault("dynamic_ncols", False)
    kwargs.setdefault("ncols", 90)
    return tqdm(iterable, total=total, desc=desc, file=sys.stdout, disable=not enabled(), **kwargs)
