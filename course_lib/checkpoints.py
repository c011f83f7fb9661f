"""Checkpoint files without pickle: arrays in an ``.npz`` archive, everything else as JSON.

A checkpoint is one zip archive in NumPy's ``.npz`` layout, written atomically
(:func:`course_lib.files.atomic_write`). Its first member, ``__checkpoint__``, is a 0-d unicode
array holding a JSON header: the format, the run's metadata, the dtype and shape of every array,
and the nested state with each array replaced by a reference to its member, whose name is the
array's path in the state (``trainer/model/encoder.0.weight``). Counters, histories, RNG states
and hyperparameters stay in the JSON. Loading reads the header, checks the metadata (:func:`check_meta`),
and only then reads the arrays, with ``allow_pickle=False``: nothing in the file can run code.
Imports neither framework; the tracks pass a ``convert`` hook (tensor -> array) and a ``restore``
hook (array -> tensor).
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .files import atomic_write

FORMAT, VERSION, HEADER = "course_lib checkpoint", 1, "__checkpoint__"
KIND = "__kind__"
# what malformed bytes can raise while a file is read; anything else (a bug, Ctrl-C) passes through
_BAD_BYTES = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, IndexError, ValueError, TypeError,
              OverflowError, NotImplementedError, RuntimeError)
_STARTED = time.time()  # no later than any checkpoint this process writes; older temporary files are stale


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint: truncated, corrupt, or in another format."""


def check_meta(saved: dict, expected: dict, path) -> None:
    """Refuse to resume from a checkpoint written by a different run (another seed, budget, track)."""
    diff = {k: (saved.get(k), v) for k, v in expected.items() if saved.get(k) != v}
    if diff:
        detail = ", ".join(f"{k}: file has {a!r}, this run has {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"{path} belongs to a different run ({detail}); pass another path or delete it")


def remove_stale_temps(path, before: float | None = None) -> list[str]:
    """Remove ``.<name>.XXXXXXXX.tmp`` files of checkpoint ``path`` last modified before this process
    started: what a save that was killed (power cut, SIGKILL) left behind. Returns their names."""
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    before = _STARTED if before is None else before
    removed = []
    if path.parent.is_dir():
        for entry in os.scandir(path.parent):
            try:
                if pattern.fullmatch(entry.name) and entry.is_file() and entry.stat().st_mtime < before:
                    os.remove(entry.path)
                    removed.append(entry.name)
            except FileNotFoundError:  # another process cleaned it up first
                pass
    return sorted(removed)


# --- nested state <-> JSON + arrays ----------------------------------------------------


def _encode(obj, key: str, arrays: dict, convert) -> object:
    """JSON for ``obj``; arrays (and what ``convert`` turns into one) go to ``arrays[key]``."""
    tensor = convert(obj) if convert is not None else None
    if tensor is not None or isinstance(obj, np.ndarray):
        arr = np.asarray(obj if tensor is None else tensor)
        if arr.dtype.hasobject:
            raise TypeError(f"{key}: arrays of Python objects cannot go into a checkpoint")
        unique, n = key, 1
        while unique in arrays or unique == HEADER:
            unique, n = f"{key}~{n}", n + 1
        arrays[unique] = arr
        return {KIND: "array" if tensor is None else "tensor", "key": unique}
    if isinstance(obj, np.generic):
        return {KIND: "scalar", "dtype": obj.dtype.str, "value": _encode(obj.item(), key, arrays, None)}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {KIND: "float", "value": repr(obj)}
    if isinstance(obj, list):
        return [_encode(v, f"{key}/{i}", arrays, convert) for i, v in enumerate(obj)]
    if isinstance(obj, tuple):
        return {KIND: "tuple", "items": [_encode(v, f"{key}/{i}", arrays, convert) for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        items = [(k, _encode(v, f"{key}/{k}" if key else str(k), arrays, convert)) for k, v in obj.items()]
        if all(isinstance(k, str) for k in obj) and KIND not in obj:
            return dict(items)
        if not all(k is None or isinstance(k, (bool, int, float, str)) for k in obj):
            raise TypeError(f"{key}: checkpoint dict keys must be strings or numbers, got {list(obj)!r}")
        return {KIND: "dict", "items": [[k, v] for k, v in items]}
    raise TypeError(f"{key or 'the state'}: a {type(obj).__name__} cannot go into a checkpoint "
                    "(arrays, tensors, numbers, strings, None, lists, tuples and dicts can)")


def _decode(obj, arrays: dict, restore):
    if isinstance(obj, list):
        return [_decode(v, arrays, restore) for v in obj]
    if not isinstance(obj, dict):
        return obj
    kind = obj.get(KIND)
    if kind is None:
        return {k: _decode(v, arrays, restore) for k, v in obj.items()}
    if kind in ("array", "tensor"):
        arr = arrays[obj["key"]]
        return restore(arr) if kind == "tensor" and restore is not None else arr
    if kind == "scalar":
        return np.dtype(obj["dtype"]).type(_decode(obj["value"], arrays, restore))
    if kind == "float":
        return float(obj["value"])
    if kind == "tuple":
        return tuple(_decode(v, arrays, restore) for v in obj["items"])
    if kind == "dict":
        return {k: _decode(v, arrays, restore) for k, v in obj["items"]}
    raise ValueError(f"unknown entry kind {kind!r}")


def _plain_meta(meta) -> dict:
    meta = {k: v.item() if isinstance(v, np.generic) else v for k, v in dict(meta or {}).items()}
    try:
        json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"checkpoint metadata must be plain JSON values (str, numbers, lists...): {e}") from None
    return meta


# --- the file ---------------------------------------------------------------------------


def save(path, state: dict, meta: dict | None = None, convert: Callable | None = None) -> Path:
    """Write ``state`` (nested dicts/lists of arrays and plain values) and ``meta`` to ``path`` atomically.

    ``convert(obj)`` returns an array for a framework tensor (stored as kind ``tensor``) and None
    for anything else. Stale temporary files of this checkpoint are removed first.
    """
    arrays: dict = {}
    tree = _encode(dict(state), "", arrays, convert)
    header = {"format": FORMAT, "version": VERSION, "meta": _plain_meta(meta),
              "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()},
              "state": tree}
    text = json.dumps(header, allow_nan=False)

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, arr in [(HEADER, np.array(text)), *arrays.items()]:
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)

    remove_stale_temps(path)
    return atomic_write(path, write)


def _unreadable(path, why) -> CheckpointError:
    return CheckpointError(
        f"{path} is not a readable checkpoint ({why}): it is truncated or corrupt (a crash while it was copied?), "
        "or not in this course's format (an npz archive); an old pickle checkpoint is never unpickled, since "
        "unpickling can run code. Delete it and train again, or pass another path")


def _read_member(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    with io.BytesIO(zf.read(f"{name}.npy")) as f:  # zf.read checks the CRC
        return np.lib.format.read_array(f, allow_pickle=False)


def _read_header(zf: zipfile.ZipFile) -> dict:
    text = _read_member(zf, HEADER)
    if text.shape != () or text.dtype.kind != "U":
        raise ValueError("its header is not a JSON string")
    header = json.loads(str(text))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("its header does not name this format")
    if header.get("version") != VERSION:
        raise ValueError(f"format version {header.get('version')!r}, this code reads version {VERSION}")
    if not isinstance(header.get("meta"), dict) or not isinstance(header.get("arrays"), dict):
        raise ValueError("its header lacks the metadata or the array list")
    return header


def _read_array(zf: zipfile.ZipFile, key: str, spec: dict) -> np.ndarray:
    """One array, checked against the dtype and shape the header declares."""
    arr = _read_member(zf, key)
    if arr.dtype.str != spec["dtype"] or list(arr.shape) != list(spec["shape"]):
        raise ValueError(f"array {key!r} is {arr.dtype.str} {list(arr.shape)}, the header says "
                         f"{spec['dtype']} {spec['shape']}")
    return arr.copy()  # writable, and not tied to the file's buffer


def load(path, meta: dict | None = None, restore: Callable | None = None) -> dict:
    """Read a checkpoint written by :func:`save`: ``{"meta": meta, **state}``.

    The header is read and ``meta`` checked (:func:`check_meta`) before any array is read.
    ``restore(array)`` turns arrays saved as tensors back into tensors.
    """
    remove_stale_temps(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except _BAD_BYTES as e:
        raise _unreadable(path, e) from None
    with zf:
        try:
            header = _read_header(zf)
        except _BAD_BYTES as e:
            raise _unreadable(path, f"{type(e).__name__}: {e}") from None
        if meta is not None:
            check_meta(header["meta"], meta, path)
        try:
            arrays = {key: _read_array(zf, key, spec) for key, spec in header["arrays"].items()}
            state = _decode(header["state"], arrays, None)
        except _BAD_BYTES as e:
            raise _unreadable(path, f"{type(e).__name__}: {e}") from None
    if restore is not None:  # outside the try: a framework error is not a corrupt file
        state = _decode(header["state"], arrays, restore)
    if not isinstance(state, dict):
        raise _unreadable(path, "its state is not a dict")
    return {"meta": header["meta"], **state}


def require_fit(entries, source: str) -> None:
    """Raise ValueError at the first entry whose saved shape or dtype differs from its target.

    ``entries``: ``(name, saved_shape, saved_dtype, target_shape, target_dtype)``, dtypes as strings;
    a saved shape of None marks an entry missing from the checkpoint, a target shape of None one
    the target does not have. Call it before assigning anything.
    """
    for name, shape, dtype, target_shape, target_dtype in entries:
        if shape is None or target_shape is None:
            where = "the checkpoint lacks it" if shape is None else "this model/optimizer has no such entry"
            raise ValueError(f"{source} does not fit: {name}: {where}; nothing was loaded")
        if tuple(shape) != tuple(target_shape) or str(dtype) != str(target_dtype):
            raise ValueError(f"{source} does not fit: {name} is {dtype} {tuple(shape)} there, {target_dtype} "
                             f"{tuple(target_shape)} here (another architecture?); nothing was loaded")
