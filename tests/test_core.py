"""Budgets, results and seeding: the pieces every notebook starts with."""
import json
import math

import numpy as np
import pytest

from course_lib import budgets, results, seeding


def test_budget_resolution(monkeypatch):
    monkeypatch.delenv("COURSE_BUDGET", raising=False)
    assert budgets.resolve("auto", gpu_available=False) == "cpu"
    assert budgets.resolve("auto", gpu_available=True) == "gpu"
    assert budgets.resolve("smoke", gpu_available=True) == "smoke"
    monkeypatch.setenv("COURSE_BUDGET", "smoke")
    assert budgets.resolve("auto", gpu_available=True) == "smoke"
    assert budgets.resolve("cpu") == "cpu"  # an explicit budget wins over the variable
    monkeypatch.setenv("COURSE_BUDGET", "fast")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        budgets.resolve("auto")
    with pytest.raises(ValueError, match="smoke, cpu, gpu, auto"):
        budgets.resolve("quick")


@pytest.mark.parametrize("lesson", budgets.LESSONS)
def test_every_lesson_defines_every_budget(lesson):
    cfgs = {b: budgets.config(lesson, b) for b in ("smoke", "cpu", "gpu")}
    assert set(cfgs["smoke"]) == set(cfgs["cpu"]) == set(cfgs["gpu"]), "budgets must define the same keys"
    assert len(cfgs["cpu"].seeds) >= 3 and len(cfgs["gpu"].seeds) >= len(cfgs["cpu"].seeds)
    assert cfgs["cpu"].budget == "cpu" and cfgs["cpu"].lesson == lesson
    with pytest.raises(AttributeError, match="this lesson has"):
        _ = cfgs["cpu"].no_such_value
    with pytest.raises(TypeError):
        cfgs["cpu"]["seeds"] = (0,)


def test_unknown_lesson_lists_lessons():
    with pytest.raises(ValueError, match="00_baselines"):
        budgets.config("99_magic", "cpu")


def test_record_writes_valid_json(tmp_path):
    path = tmp_path / "sub" / "r.json"
    out = results.record(path, "FCD", True, {"A": [1, 2.5], "B": np.array([3.0])}, floor=0.5)
    assert json.loads(path.read_text()) == {**out, "claims": []}  # the claims stated so far: none
    assert out["variants"] == {"A": [1.0, 2.5], "B": [3.0]} and out["floor"] == 0.5
    assert results.load(path) == {**out, "claims": []}
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary file left behind
    assert results.record(None, "FCD", True, {"A": [1.0]})["metric"] == "FCD"  # no path: nothing written


@pytest.mark.parametrize("variants,msg", [
    ({}, "empty"), ({"A": []}, "non-empty"), ({"A": [math.nan]}, "finite"), ({"A": ["x"]}, "finite"),
])
def test_record_rejects_bad_results(tmp_path, variants, msg):
    with pytest.raises(ValueError, match=msg):
        results.record(tmp_path / "r.json", "FCD", True, variants)
    assert not (tmp_path / "r.json").exists()


def test_summary_mean_and_sample_std():
    s = results.summary({"metric": "m", "lower_is_better": True, "variants": {"A": [1.0, 2.0, 3.0], "B": [5.0]}})
    assert s["A"] == {"mean": 2.0, "std": 1.0, "n": 3} and s["B"]["std"] == 0.0


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None, True])
def test_seed_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        seeding.seed_python_numpy(bad)


def test_seed_python_numpy_reproduces():
    import random
    seeding.seed_python_numpy(3)
    a = (random.random(), np.random.rand())
    seeding.seed_python_numpy(3)
    assert a == (random.random(), np.random.rand())


def test_running_history_records_means_every_n_steps_and_at_the_end():
    from course_lib.runs.history import RunningHistory
    log = RunningHistory(["loss"], steps=5, every=2)
    recorded = [log.add(step, loss=float(step)) for step in range(1, 6)]
    assert recorded == [False, True, False, True, True]
    assert log.history == {"step": [2, 4, 5], "loss": [1.5, 3.5, 5.0]}
    log.append(val_loss=0.5)
    assert log.history["val_loss"] == [0.5] and log.last("loss") == 5.0
    with pytest.raises(ValueError, match="positive integer"):
        RunningHistory(["loss"], steps=5, every=0)
