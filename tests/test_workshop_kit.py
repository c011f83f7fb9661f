"""The workshop kit's install path: `make wheelhouse` downloads the lock as wheels for a target
platform, and `make venv WHEELHOUSE=DIR` installs from DIR alone (pip's --no-index), so a room
without internet can install. Checked on the commands make would run (`make -n`): the full
offline install (about 1 GB of wheels) is the maintainers' check in docs/instructors_guide.md."""
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _planned(*args: str) -> list[list[str]]:
    """The commands `make` would run, split into words (-B: as if nothing were up to date)."""
    out = subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [shlex.split(line) for line in out.replace("\\\n", " ").splitlines() if line.strip()]


def _pip_calls(commands, verb):
    return [c for c in commands if verb in c and any(w.endswith("pip") for w in c[: c.index(verb)])]


def test_venv_from_a_wheelhouse_never_asks_a_registry():
    installs = _pip_calls(_planned("venv", "WHEELHOUSE=/media/usb/wh"), "install")
    assert len(installs) == 2, installs  # the lock, then the course itself
    for cmd in installs:
        assert "--no-index" in cmd, cmd
        assert cmd[cmd.index("--find-links") + 1] == "/media/usb/wh", cmd
    assert "requirements-lock.txt" in installs[0] and "-e" in installs[1]


def test_venv_without_a_wheelhouse_uses_the_registry():
    for cmd in _pip_calls(_planned("venv"), "install"):
        assert "--no-index" not in cmd and "--find-links" not in cmd, cmd


def test_wheelhouse_downloads_the_lock_as_wheels_for_the_target_platform():
    (cmd,) = _pip_calls(_planned("wheelhouse", "PLATFORM=macosx_14_0_arm64", "WHEELHOUSE_DIR=wh-mac"), "download")
    assert cmd[cmd.index("-r") + 1] == "requirements-lock.txt"
    assert "--no-deps" in cmd and "--only-binary=:all:" in cmd  # the lock is complete; nothing to compile
    assert cmd[cmd.index("--platform") + 1] == "macosx_14_0_arm64"
    assert cmd[cmd.index("--python-version") + 1].startswith("3.11.")  # a patch release: Requires-Python
    assert cmd[cmd.index("--dest") + 1] == "wh-mac"


def test_wheelhouse_for_this_machine_names_no_platform():
    (cmd,) = _pip_calls(_planned("wheelhouse"), "download")
    assert "--platform" not in cmd and cmd[cmd.index("--dest") + 1] == "wheelhouse"
