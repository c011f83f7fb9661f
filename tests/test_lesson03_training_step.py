"""Lesson 03: the notebook's own training step trains the warmup + cosine runs with the learner's
``warmup_cosine`` when its checker accepts it, and with the reference when the checker rejects it.

The cells are the solution notebook's (setup, ``make_schedule``, the step, the run), executed at
budget ``smoke`` with a learner's function put through the checker, as the exercise cell does.
Both tracks; every schedule's recorded rates are also checked against the closed forms.
"""
import math
from pathlib import Path

import numpy as np
import pytest
from solution_cells import Counting, smoke_namespace, solution_cells

from course_lib.techniques import schedules as S

ROOT = Path(__file__).resolve().parents[1]
SETUP, STEP_CELLS = "c03", ("c22", "c22b", "c22c")  # make_schedule, the step, the run
EARLIER = ("c05", "c07")  # section 1's constants and section 2's schedulers (the aliases L and K)
TRACKS = {"pytorch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}


def _cells(track):
    cells, _ = solution_cells("03_lr_schedules.ipynb", track)
    missing = [cid for cid in (SETUP, *EARLIER, *STEP_CELLS) if cid not in cells]
    assert not missing, f"cells {missing} not found: the test names the notebook's cells by id"
    return cells


@pytest.fixture(params=list(TRACKS))
def notebook(request, monkeypatch):
    """The notebook's namespace after its setup cell, at budget smoke, and its cells by id."""
    pytest.importorskip(TRACKS[request.param])
    ns = smoke_namespace(monkeypatch)
    cells = _cells(request.param)
    for cid in (SETUP, *EARLIER):
        exec(cells[cid], ns)
    assert ns["cfg"].budget == "smoke"
    return ns, cells


def _train_with(ns, cells, learner, name="warmup + cosine"):
    """What the exercise cell does (check, keep what the checker returns), then the step cells and one run."""
    ns["warmup_cosine"] = ns["ex"].warmup_cosine.check(learner)
    if isinstance(learner, Counting):
        learner.calls = 0  # from here on, only the run's calls count
    for cid in STEP_CELLS:
        exec(cells[cid], ns)
    _, history = ns["train_vae"](name, 0)
    return np.array(history["lr"])


def _reference(cfg):
    steps = cfg.vae_steps
    return S.warmup_cosine(np.arange(steps), cfg.vae_lr, int(cfg.warmup_frac * steps), steps, cfg.min_lr)


def _right(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = min(step - warmup_steps, total_steps - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _no_warmup(step, base_lr, warmup_steps, total_steps, min_lr=0.0):  # a common mistake: warmup starts at base_lr
    return base_lr if step < warmup_steps else _right(step, base_lr, warmup_steps, total_steps, min_lr)


def test_a_right_warmup_cosine_is_what_the_run_trains_with(notebook):
    ns, cells = notebook
    learner = Counting(_right)
    rates = _train_with(ns, cells, learner)
    assert ns["warmup_cosine"] is learner, "the checker must return the learner's function when it is right"
    assert learner.calls >= ns["cfg"].vae_steps - 1, "the run did not call the learner's function at each step"
    assert np.allclose(rates, _reference(ns["cfg"]), rtol=1e-6, atol=1e-12)
    assert rates[0] == 0.0 and rates.max() == pytest.approx(ns["cfg"].vae_lr, rel=1e-6)


def test_a_wrong_warmup_cosine_is_replaced_by_the_reference(notebook):
    ns, cells = notebook
    learner = Counting(_no_warmup)
    rates = _train_with(ns, cells, learner)
    assert ns["warmup_cosine"] is not learner, "the checker must not return a wrong function"
    assert learner.calls == 0, "the run called the function the checker rejected"
    cfg = ns["cfg"]
    wrong = np.array([_no_warmup(t, cfg.vae_lr, int(cfg.warmup_frac * cfg.vae_steps), cfg.vae_steps, cfg.min_lr)
                      for t in range(cfg.vae_steps)])
    assert not np.allclose(rates, wrong), "the wrong function and the reference must differ on this run"
    assert np.allclose(rates, _reference(cfg), rtol=1e-6, atol=1e-12)


def test_an_unattempted_exercise_trains_with_the_reference(notebook):
    ns, cells = notebook
    rates = _train_with(ns, cells, None)
    assert np.allclose(rates, _reference(ns["cfg"]), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", ["constant", "step", "cosine"])
def test_every_step_uses_the_schedules_rate(notebook, name):
    ns, cells = notebook
    cfg = ns["cfg"]
    steps, t = cfg.vae_steps, np.arange(cfg.vae_steps)
    want = {"constant": S.constant(t, cfg.vae_lr),
            "step": S.multistep(t, cfg.vae_lr, [int(f * steps) for f in cfg.milestones], cfg.gamma),
            "cosine": S.cosine(t, cfg.vae_lr, steps, cfg.min_lr)}[name]
    rates = _train_with(ns, cells, _right, name)
    assert np.allclose(rates, want, rtol=1e-5, atol=1e-6 * cfg.vae_lr)  # Keras schedules compute in float32


def test_plateau_cuts_only_after_a_validation_loss(notebook):
    ns, cells = notebook
    ns["warmup_cosine"] = ns["ex"].warmup_cosine.check(_right)
    for cid in STEP_CELLS:
        exec(cells[cid], ns)
    _, history = ns["train_vae"]("plateau", 0)
    rates, cfg = np.array(history["lr"]), ns["cfg"]
    cuts = np.flatnonzero(np.diff(rates) < 0) + 1  # steps whose rate is lower than the step before
    assert rates[0] == pytest.approx(cfg.vae_lr)
    assert all(step % cfg.eval_every == 0 for step in cuts), "the rate changed between two evaluations"
    rule = S.ReduceOnPlateau(cfg.vae_lr, cfg.plateau_factor, cfg.plateau_patience, cfg.plateau_min_delta)
    expected = [rule.step(v) for v in history["val_loss"]]
    seen = [rates[s] for s in history["eval_step"] if s < len(rates)]
    assert np.allclose(seen, expected[:len(seen)], rtol=1e-6)
