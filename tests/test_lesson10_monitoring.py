"""Lesson 10, part 3: the monitored GAN written out in the solution notebooks (the cells tagged
``training-step``) logs every tag of the course's scheme in both tracks, at the steps the budget says,
with the learning rates the optimizers use; its log folder follows the course's rule (beside the
notebook for a learner, under the run's output folder for the course runner).

The cells are executed as they are in the notebook, in a namespace holding what the notebook defines
before them, with small networks and a few steps."""
import numpy as np
import pytest
from solution_cells import framework_namespace, solution_cells, training_steps

from course_lib import budgets, data, files, metrics, monitoring

pytest.importorskip("tensorboard")
ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")

NOTEBOOK = "10_capstone"
TRACKS = {"pytorch": ct_torch, "tensorflow": ct_tf}
CFG = budgets.Config({**budgets.config("10_capstone", "smoke"), "monitor_g_hidden": (16, 32),
                      "monitor_d_hidden": (32, 16), "monitor_steps": 12, "log_every": 3, "val_every": 5,
                      "n_val_samples": 200})


def _namespace(track, log_dir):
    ns = {"cfg": CFG, "ct": TRACKS[track], "np": np, "data": data, "metrics": metrics, "LOG_DIR": log_dir,
          "x_train": data.digits("train")}
    ns.update(framework_namespace(track))
    mon = __import__(f"course_lib.{'torch' if track == 'pytorch' else 'tensorflow'}.monitoring", fromlist=["x"])
    ns.update(Monitor=mon.Monitor, grad_norm=mon.grad_norm, learning_rate=mon.learning_rate)
    if track == "tensorflow":
        import keras
        ns["keras"] = keras
    # part 3's step: the D and G steps, then train_monitored
    steps = training_steps(f"{NOTEBOOK}.ipynb", track, ("monitored_d_step", "monitored_g_step", "train_monitored"))
    for source in steps:
        exec(source, ns)
    return ns


@pytest.mark.parametrize("track", list(TRACKS))
def test_the_monitored_run_logs_every_tag(track, tmp_path):
    ns = _namespace(track, tmp_path / "logs")
    run_dir, samples = ns["train_monitored"](0, 1e-3, 4e-3, run="probe")
    assert run_dir == tmp_path / "logs" / "probe" and samples.shape == (CFG.n_val_samples, 64)
    events = monitoring.read_events(run_dir)
    assert set(events.scalars) | set(events.images) == set(monitoring.TAGS)
    logged = [3, 6, 9, 12]
    for tag in ("loss/d", "loss/g", "grad_norm/d", "grad_norm/g", "score/real", "score/fake", "lr/g", "lr/d"):
        assert [s for s, _ in events.scalars[tag]] == logged, tag
    assert np.allclose([v for _, v in events.scalars["lr/g"]], 1e-3) and np.allclose(
        [v for _, v in events.scalars["lr/d"]], 4e-3)  # the rates the optimizers use, per network
    for tag in ("score/real", "score/fake"):
        assert all(0.0 < v < 1.0 for _, v in events.scalars[tag])  # probabilities, not logits
    assert all(v > 0 for tag in ("grad_norm/d", "grad_norm/g") for _, v in events.scalars[tag])
    assert [s for s, _ in events.scalars["val/fcd"]] == [5, 10, 12]  # every val_every steps and at the end
    assert [s for s, _ in events.images["samples/g"]] == [5, 10, 12]


@pytest.mark.parametrize("track", list(TRACKS))
def test_the_log_folder_follows_the_course_rule(track, tmp_path):
    (source,) = [c for c in solution_cells(f"{NOTEBOOK}.ipynb", track)[0].values() if "LOG_DIR =" in c]
    assert 'LOG_DIR = files.run_folder(RESULTS_PATH, "logs")' in source
    assert str(files.run_folder(None, "logs")) == "logs"  # a learner's run: logs/ beside the notebook
    runner = files.run_folder(tmp_path / "results.json", "logs")
    assert runner.parent == tmp_path  # the course runner's: beside its results, never beside the notebook
