"""The pretrained models shipped with the course (lesson 07): where they are, how they are read
safely, and what they are. Framework-neutral: NumPy and JSON only.

``course_lib/assets/pretrained/`` holds one ``.npz`` per model (a GAN's generator and
discriminator, a VAE's encoder and decoder), written by ``scripts/pretrain_source_models.py``,
and ``manifest.json``: each model's architecture, how it was trained (script, seed, steps, data)
and the sha256 of its file. Every dense layer is stored as ``<net>/<i>/kernel`` with shape
``(inputs, outputs)`` (Keras' layout; a PyTorch ``Linear.weight`` is its transpose) and
``<net>/<i>/bias``. Files are read with ``np.load(..., allow_pickle=False)``: a weights file
holds numbers, never code.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

ASSET_DIR = Path(__file__).resolve().parent / "assets" / "pretrained"
MANIFEST = ASSET_DIR / "manifest.json"
MODELS = ("gan", "vae")
NETS = {"gan": ("generator", "discriminator"), "vae": ("encoder", "decoder")}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # a fixed timestamp: the same weights give the same bytes


def sha256(path) -> str:
    """The sha256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_npz(path, arrays: dict) -> Path:
    """Write ``arrays`` (name -> float32 array) as an uncompressed ``.npz`` whose bytes depend only on
    the arrays and their order (``np.savez`` stamps the current time into the zip)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    path.write_bytes(buffer.getvalue())
    return path


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The shipped models' architecture and provenance (``manifest.json``)."""
    if not MANIFEST.exists():
        raise FileNotFoundError(f"{MANIFEST} is missing; recreate it with: python scripts/pretrain_source_models.py")
    return json.loads(MANIFEST.read_text())


def path(model: str) -> Path:
    """The ``.npz`` file of ``model`` ("gan" or "vae")."""
    if model not in MODELS:
        raise ValueError(f"unknown pretrained model {model!r}; expected one of {MODELS}")
    return ASSET_DIR / manifest()["models"][model]["file"]


def layer_shapes(sizes) -> list[tuple]:
    """The kernel shapes of a dense network with layer ``sizes`` (inputs, hidden..., outputs)."""
    return [(a, b) for a, b in zip(sizes[:-1], sizes[1:])]


def load(model: str, verify: bool = True) -> dict:
    """``{net: [(kernel, bias), ...]}`` of a shipped model as float32 NumPy arrays, read without pickle.

    With ``verify`` the file's sha256 must equal the manifest's and every array must have the shape the
    manifest's architecture gives, so a changed or truncated file fails here, not in a training run."""
    entry = manifest()["models"][model]
    file = path(model)
    if verify and sha256(file) != entry["sha256"]:
        raise ValueError(f"{file.name}: its sha256 differs from manifest.json's; the weights were changed. "
                         "Recreate them with: python scripts/pretrain_source_models.py")
    with np.load(file, allow_pickle=False) as f:
        arrays = {k: np.asarray(f[k], np.float32) for k in f.files}
    out = {}
    for net in NETS[model]:
        shapes = layer_shapes(entry["architecture"][net]["sizes"])
        layers = []
        for i, shape in enumerate(shapes):
            kernel, bias = arrays.pop(f"{net}/{i}/kernel"), arrays.pop(f"{net}/{i}/bias")
            if kernel.shape != shape or bias.shape != (shape[1],):
                raise ValueError(f"{file.name}: {net} layer {i} has shapes {kernel.shape} and {bias.shape}; "
                                 f"the manifest's architecture needs {shape} and {(shape[1],)}")
            layers.append((kernel, bias))
        out[net] = layers
    if arrays:
        raise ValueError(f"{file.name} holds arrays the architecture does not use: {sorted(arrays)}")
    return out


def flat(layers: dict) -> dict:
    """``{"<net>/<i>/kernel": array, ...}``: the file's names for :func:`load`'s layers."""
    return {f"{net}/{i}/{kind}": a for net, ls in layers.items() for i, pair in enumerate(ls)
            for kind, a in zip(("kernel", "bias"), pair)}


def size_bytes() -> int:
    """The shipped weights' total size on disk, manifest included."""
    return sum(p.stat().st_size for p in ASSET_DIR.iterdir() if p.is_file())


def forward(layers, x, hidden: str = "relu", output: str = "linear") -> np.ndarray:
    """A dense network given as ``[(kernel, bias), ...]`` on ``x``, in float64 NumPy: ``hidden`` is
    "relu" or "leaky" (slope 0.2) between layers, ``output`` "linear" or "sigmoid" (the reference
    that both tracks' loaded models are compared with)."""
    h = np.asarray(x, np.float64)
    for i, (kernel, bias) in enumerate(layers):
        h = h @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0) if hidden == "relu" else np.where(h > 0, h, 0.2 * h)
    return 1.0 / (1.0 + np.exp(-h)) if output == "sigmoid" else h
