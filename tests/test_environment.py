"""The environment files agree with each other.

pyproject.toml holds the direct dependencies (core and extras), environment.yml repeats
them for conda/Binder and requirements-lock.txt is the full lock (`make lock`). Every
direct pin is exact and identical in all three; torch, tensorflow and keras are on the
versions the course is written for; a track's extra never pulls in the other framework.
"""
from __future__ import annotations

import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
LOCK = ROOT / "requirements-lock.txt"
COURSE_PACKAGE = "optimizing-generative-models"
FRAMEWORKS = {"torch", "tensorflow", "keras"}


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def exact_version(req: Requirement) -> str | None:
    """The version of an exact ``==`` pin, else None."""
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def pins(lines, where: str) -> dict[str, str]:
    """{normalized name: version} of requirement strings, failing on anything but exact pins."""
    out: dict[str, str] = {}
    for line in lines:
        req = Requirement(line)
        version = exact_version(req)
        assert version is not None, f"{where}: {line!r} is not an exact '==' pin"
        name = normalize(req.name)
        assert name not in out or out[name] == version, (
            f"{where}: {req.name} pinned twice, to {out[name]} and {version}")
        out[name] = version
    return out


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads(PYPROJECT.read_text())["project"]


@pytest.fixture(scope="module")
def groups(project) -> dict[str, dict[str, str]]:
    """Pins per group: "dependencies" and one entry per extra."""
    out = {"dependencies": pins(project["dependencies"], "pyproject dependencies")}
    for extra, reqs in project["optional-dependencies"].items():
        out[extra] = pins(reqs, f"pyproject extra [{extra}]")
    return out


@pytest.fixture(scope="module")
def pyproject_pins(groups) -> dict[str, str]:
    merged: dict[str, str] = {}
    for group, group_pins in groups.items():
        for name, version in group_pins.items():
            assert merged.setdefault(name, version) == version, (
                f"pyproject: {name} is {merged[name]} in one group and {version} in [{group}]")
    return merged


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load(ENVIRONMENT.read_text())


@pytest.fixture(scope="module")
def environment_pins(environment) -> dict[str, str]:
    pip_sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml: expected exactly one 'pip:' section"
    # Lines starting with '-' are pip options (e.g. --extra-index-url), not requirements.
    return pins([s for s in pip_sections[0] if not str(s).startswith("-")], "environment.yml pip section")


@pytest.fixture(scope="module")
def lock_lines() -> list[str]:
    return [ln.strip() for ln in LOCK.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def lock_pins(lock_lines) -> dict[str, str]:
    return pins(lock_lines, "requirements-lock.txt")


def test_extras_for_every_track_and_all(groups):
    assert {"torch", "tensorflow", "test", "all"} <= set(groups), f"extras: {sorted(groups)}"
    union = {}
    for extra, group_pins in groups.items():
        if extra not in ("dependencies", "all"):
            union.update(group_pins)
    assert groups["all"] == union, (
        f"[all] must be exactly the other extras: missing {sorted(set(union) - set(groups['all']))}, "
        f"extra {sorted(set(groups['all']) - set(union))}")


def test_core_and_tracks_do_not_mix_frameworks(groups):
    assert not FRAMEWORKS & set(groups["dependencies"]), (
        f"core dependencies must not contain a framework: {sorted(FRAMEWORKS & set(groups['dependencies']))}")
    assert not {"tensorflow", "keras"} & set(groups["torch"]), "[torch] must not pull in TensorFlow/Keras"
    assert "torch" not in groups["tensorflow"], "[tensorflow] must not pull in PyTorch"


def test_framework_versions(pyproject_pins):
    torch = pyproject_pins.get("torch")
    assert torch == "2.13.0", f"torch: expected 2.13.0, pyproject has {torch}"
    tf = pyproject_pins.get("tensorflow")
    assert tf is not None and Version(tf).release[:2] == (2, 21), f"tensorflow: expected 2.21.x, pyproject has {tf}"
    keras = pyproject_pins.get("keras")
    assert keras is not None and Version(keras).major == 3, f"keras: expected 3.x, pyproject has {keras}"


def test_environment_yml_matches_pyproject(environment, environment_pins, pyproject_pins):
    assert environment.get("name") == COURSE_PACKAGE
    assert "conda-forge" in environment.get("channels", [])
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda and "pip" in conda, f"environment.yml conda dependencies: {conda}"
    problems = []
    for name in sorted(set(pyproject_pins) | set(environment_pins)):
        ours, theirs = pyproject_pins.get(name), environment_pins.get(name)
        if ours != theirs:
            problems.append(f"{name}: pyproject.toml {ours or 'missing'}, environment.yml {theirs or 'missing'}")
    assert not problems, "environment.yml and pyproject.toml disagree:\n  " + "\n  ".join(problems)


def test_lock_contains_every_direct_pin(pyproject_pins, lock_pins):
    problems = [f"{name}: pyproject.toml {version}, requirements-lock.txt {lock_pins.get(name, 'missing')}"
                for name, version in sorted(pyproject_pins.items()) if lock_pins.get(name) != version]
    assert not problems, ("requirements-lock.txt disagrees with pyproject.toml (run `make lock`):\n  "
                          + "\n  ".join(problems))


def test_lock_is_portable(lock_lines, lock_pins):
    local = [ln for ln in lock_lines if "+" in ln.split(";")[0]]
    assert not local, f"requirements-lock.txt: local version labels (e.g. +cpu) are not portable: {local}"
    assert COURSE_PACKAGE not in lock_pins, "requirements-lock.txt must not contain the course package itself"
    assert "pip" not in lock_pins, "requirements-lock.txt must not pin pip"
    # Needed by this test module itself; it must not depend on what happens to be installed.
    for name in ("pyyaml", "packaging", "pytest"):
        assert name in lock_pins, f"requirements-lock.txt: {name} missing"


def _closure(roots: list[Requirement]) -> set[str]:
    """Names of all installed distributions that ``roots`` pull in (following installed metadata)."""
    env = default_environment()
    seen: set[str] = set()
    todo = [(r, "") for r in roots]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": extra}):
            continue
        name = normalize(req.name)
        todo_extras = sorted(req.extras)
        key = name + "[" + ",".join(todo_extras) + "]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            pytest.skip(f"{req.name} is not installed; cannot follow its dependencies")
        for line in requires:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({**env, "extra": e}) for e in ["", *todo_extras]):
                todo.append((Requirement(str(dep).split(";")[0]), ""))
    return {k.split("[")[0] for k in seen}


@pytest.mark.parametrize("track, other", [("torch", {"tensorflow", "keras"}), ("tensorflow", {"torch"})])
def test_track_install_does_not_pull_other_framework(project, track, other):
    roots = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"][track]]
    pulled = _closure(roots)
    assert not other & pulled, f"installing .[{track}] pulls in {sorted(other & pulled)}"


def test_ci_entry_point_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert ci.is_file(), ".ci/run missing"
    assert os.access(ci, os.X_OK), ".ci/run is not executable"
    text = ci.read_text()
    assert text.startswith("#!") and "set -euo pipefail" in text
    commands = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert any(re.match(r"(exec\s+)?make\s+test\b", c) for c in commands), ".ci/run does not run `make test`"


def test_readme_tells_how_to_test_and_run():
    readme = ROOT / "README.md"
    assert readme.is_file(), "README.md missing"
    text = readme.read_text()
    for command in ("make test", "make course"):
        assert command in text, f"README.md does not mention `{command}`"
