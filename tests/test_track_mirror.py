"""The two framework packages mirror each other name for name (docs/course_design.md, Layout): the
same modules, and in each module the same public names, so that a learner who switches tracks finds
``ct.<module>.<name>`` in both. The exceptions exist because one framework lacks what the other has
built in; each is listed with its reason. Read from the source (no framework is imported)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"torch": ROOT / "course_lib" / "torch", "tensorflow": ROOT / "course_lib" / "tensorflow"}
ONE_TRACK_ONLY = {  # (package, module, name): why the other track has no counterpart
    ("torch", "models.py", "init_weights"): "PyTorch's default Linear init is not Keras' Glorot uniform; this sets it",
    ("torch", "regularization.py", "split_params"):
        "PyTorch decays per parameter group; Keras excludes variables instead",
    ("tensorflow", "batchnorm.py", "statistics"): "Keras' moving_mean/moving_variance vs PyTorch's plain buffers",
    ("tensorflow", "early_stopping.py", "FitVAE"): "a VAE for Keras' fit() and its EarlyStopping callback",
    ("tensorflow", "ensembles.py", "recompute_bn"): "PyTorch ships torch.optim.swa_utils.update_bn; Keras has none",
    ("tensorflow", "models.py", "LayerNorm"): "torch.nn.LayerNorm's exact second derivatives (a gradient penalty's)",
    ("tensorflow", "models.py", "SpectralDense"): "torch's spectral_norm algorithm; Keras' layer overwrites the kernel",
    ("tensorflow", "models.py", "dense"): "Dense or SpectralDense; PyTorch wraps a Linear with spectral_norm",
    ("tensorflow", "train.py", "adam"): "Keras' Adam with PyTorch's epsilon 1e-8 (Keras' default is 1e-7)",
}


def _modules(package):
    return sorted(p.name for p in package.glob("*.py"))


def _public_names(path):
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def test_both_tracks_have_the_same_modules():
    assert _modules(PACKAGES["torch"]) == _modules(PACKAGES["tensorflow"])


@pytest.mark.parametrize("module", _modules(PACKAGES["torch"]))
def test_a_module_has_the_same_public_names_in_both_tracks(module):
    names = {pkg: _public_names(path / module) for pkg, path in PACKAGES.items()}
    for pkg, other in (("torch", "tensorflow"), ("tensorflow", "torch")):
        unexplained = sorted(n for n in names[pkg] - names[other] if (pkg, module, n) not in ONE_TRACK_ONLY)
        assert not unexplained, (f"course_lib/{pkg}/{module} defines {unexplained}, which course_lib/{other}/{module} "
                                 f"lacks: add them there, or to ONE_TRACK_ONLY with the reason")


def test_every_exception_is_still_true():
    stale = [key for key in ONE_TRACK_ONLY if key[2] not in _public_names(PACKAGES[key[0]] / key[1])
             or key[2] in _public_names(PACKAGES["tensorflow" if key[0] == "torch" else "torch"] / key[1])]
    assert not stale, f"ONE_TRACK_ONLY lists names that are gone or now in both tracks: {stale}"
