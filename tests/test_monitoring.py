"""TensorBoard monitoring (lesson 10's library): each track's Monitor writes the course's tags, and
TensorBoard's own reader finds them again with their steps and values (PyTorch stores simple values,
tf.summary tensors); grad_norm against its closed form; a new Monitor never writes into an existing
run; bad input gets an error that says what was expected; both tracks have the same names."""
import importlib.util
import inspect
import math

import numpy as np
import pytest

from course_lib import data, monitoring

pytest.importorskip("tensorboard")
if importlib.util.find_spec("tensorflow"):
    # torch.utils.tensorboard imports TensorFlow where it is installed: configure it first, as
    # course_lib.tensorflow does, so later tests in this process get the course's TensorFlow.
    import course_lib.tensorflow  # noqa: F401

TRACKS = ("torch", "tensorflow")
# (loss/d, loss/g, score/real, score/fake) at steps 0, 1, 2; lr and grad_norm at those steps too
VALUES = {0: (1.386, 0.693, 0.5, 0.5), 1: (1.2, 0.9, 0.62, 0.41), 2: (0.95, 1.3, 0.71, 0.3)}
STEPS = sorted(VALUES)


def track(name):
    pytest.importorskip(name)
    return pytest.importorskip(f"course_lib.{name}.monitoring")


def log_a_run(mon):
    for step, (d, g, real, fake) in VALUES.items():
        mon.scalars({"loss/d": d, "loss/g": g, "score/real": real, "score/fake": fake,
                     "lr/g": 2e-4 * 0.5 ** step, "lr/d": 1e-4, "grad_norm/g": 10.0 + step, "grad_norm/d": 3.5}, step)
    mon.scalar("val/fcd", np.float32(12.5), np.int64(2))
    mon.samples(data.digits("train")[:64], 2)


@pytest.mark.parametrize("name", TRACKS)
def test_tags_steps_and_values_read_back(name, tmp_path):
    mod = track(name)
    with mod.Monitor(tmp_path / "logs", run="gan") as mon:
        log_a_run(mon)
    assert mon.run_dir == tmp_path / "logs" / "gan"
    events = monitoring.read_events(mon.run_dir)
    assert set(events.scalars) | set(events.images) == set(monitoring.TAGS)
    for i, tag in enumerate(("loss/d", "loss/g", "score/real", "score/fake")):
        assert [s for s, _ in events.scalars[tag]] == STEPS
        assert np.allclose([v for _, v in events.scalars[tag]], [VALUES[s][i] for s in STEPS], rtol=1e-6)
    assert np.allclose([v for _, v in events.scalars["lr/g"]], [2e-4, 1e-4, 5e-5], rtol=1e-6)
    assert events.scalars["val/fcd"] == [(2, 12.5)]
    side = monitoring.GRID * (data.SIDE + 1) + 1  # 8 digits and 9 grey lines
    assert events.images == {"samples/g": [(2, (side * monitoring.SCALE,) * 2)]}


def test_both_tracks_write_the_same_tags_and_names(tmp_path):
    mods = [track(name) for name in TRACKS]
    tags = []
    for mod in mods:
        with mod.Monitor(tmp_path, run=mod.__name__) as mon:
            log_a_run(mon)
        events = monitoring.read_events(mon.run_dir)
        tags.append((sorted(events.scalars), sorted(events.images)))
    assert tags[0] == tags[1]
    public = [{n: inspect.signature(f) for n, f in vars(m).items() if not n.startswith("_") and callable(f)
               and getattr(f, "__module__", None) == m.__name__} for m in mods]
    assert public[0].keys() == public[1].keys() == {"Monitor", "grad_norm", "learning_rate"}
    assert all(str(public[0][n]) == str(public[1][n]) for n in public[0])


def test_grad_norm_closed_form():
    """sum(W x + b) for x = (1, 2, 2) and two outputs: dW has two rows x (|x|^2 = 9 each), db = (1, 1),
    so the global norm is sqrt(2 * 9 + 2) = sqrt(20)."""
    x = np.array([[1.0, 2.0, 2.0]], np.float32)
    if importlib.util.find_spec("torch"):
        torch = pytest.importorskip("torch")
        mod = track("torch")
        layer = torch.nn.Linear(3, 2)
        layer(torch.from_numpy(x)).sum().backward()
        assert math.isclose(mod.grad_norm(layer), math.sqrt(20), rel_tol=1e-6)
        assert math.isclose(mod.grad_norm([layer.weight.grad, None]), math.sqrt(18), rel_tol=1e-6)
        with pytest.raises(ValueError, match="backward"):
            mod.grad_norm(torch.nn.Linear(3, 2))
    if importlib.util.find_spec("tensorflow"):
        tf = pytest.importorskip("tensorflow")
        mod = track("tensorflow")
        w, b, unused = tf.Variable(tf.ones((3, 2))), tf.Variable(tf.zeros(2)), tf.Variable(1.0)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(x @ w + b)
        grads = tape.gradient(loss, [w, b, unused])
        assert grads[2] is None and math.isclose(mod.grad_norm(grads), math.sqrt(20), rel_tol=1e-6)
        with pytest.raises(ValueError, match="tape.gradient"):
            mod.grad_norm([None])


def test_learning_rate_follows_the_schedule():
    """A rate halved after every step: 0.1, then 0.05, as the optimizer uses it."""
    if importlib.util.find_spec("torch"):
        torch = pytest.importorskip("torch")
        mod = track("torch")
        w = torch.nn.Parameter(torch.zeros(2))
        opt = torch.optim.SGD([w], lr=0.1)
        schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        assert mod.learning_rate(opt) == pytest.approx(0.1)
        opt.step(), schedule.step()
        assert mod.learning_rate(opt) == pytest.approx(0.05)
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1.0})
        with pytest.raises(ValueError, match="different learning rates"):
            mod.learning_rate(opt)
    if importlib.util.find_spec("tensorflow"):
        import keras
        mod = track("tensorflow")
        w = keras.Variable(np.zeros(2, np.float32))
        opt = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
        assert mod.learning_rate(opt) == pytest.approx(0.1)
        opt.apply_gradients([(np.ones(2, np.float32), w)])
        assert mod.learning_rate(opt) == pytest.approx(0.05)


@pytest.mark.parametrize("name", TRACKS)
def test_a_new_monitor_never_writes_into_an_existing_run(name, tmp_path):
    mod = track(name)
    with mod.Monitor(tmp_path, run="baseline") as first:
        first.scalar("loss/d", 1.0, 0)
    before = {p: p.read_bytes() for p in first.run_dir.iterdir()}
    with mod.Monitor(tmp_path, run="baseline") as second:
        second.scalar("loss/d", 2.0, 0)
    assert second.run_dir == tmp_path / "baseline-2"
    assert {p: p.read_bytes() for p in first.run_dir.iterdir()} == before
    assert monitoring.read_events(first.run_dir).scalars == {"loss/d": [(0, 1.0)]}
    with mod.Monitor(tmp_path) as default:  # run-YYYYmmdd-HHMMSS
        assert default.run_dir.parent == tmp_path and default.run_dir.name.startswith("run-")
    with pytest.raises(ValueError, match="pass one of those folders"):
        monitoring.read_events(tmp_path)  # the log directory holds runs, not events


@pytest.mark.parametrize("name", TRACKS)
def test_bad_input_says_what_was_expected(name, tmp_path):
    mod = track(name)
    with mod.Monitor(tmp_path) as mon:
        with pytest.raises(ValueError, match="non-negative integer"):
            mon.scalar("loss/d", 1.0, -1)
        with pytest.raises(ValueError, match="non-negative integer"):
            mon.scalar("loss/d", 1.0, 2.5)
        with pytest.raises(ValueError, match="diverged"):
            mon.scalars({"loss/g": 1.0, "loss/d": float("nan")}, 3)
        with pytest.raises(ValueError, match="'group/name' with group one of loss, lr"):
            mon.scalar("d_loss", 1.0, 3)
        with pytest.raises(ValueError, match=r"shape \(n, 64\) or \(n, 8, 8\)"):
            mon.samples(np.zeros((4, 28, 28)), 3)
        with pytest.raises(ValueError, match=r"pixels in \[0, 1\].*\(x \+ 1\) / 2"):
            mon.samples(np.full((4, 64), -1.0), 3)
    with pytest.raises(RuntimeError, match="closed"):
        mon.scalar("loss/d", 1.0, 4)
    # nothing of the rejected calls was written, not even loss/g before the NaN
    assert not any(mon.run_dir.iterdir()) or monitoring.read_events(mon.run_dir) == ({}, {})
