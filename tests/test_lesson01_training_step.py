"""Lesson 01: the training steps written out in the solution notebooks (the cells tagged
``training-step``), in both tracks.

* The library's runs that the multi-seed experiments use, ``train_vae_variant`` (section 6) and
  ``train_gan_variant`` (section 7), compute the updates of the notebook's ``vae_step`` and of its
  ``d_step`` / ``g_step``: from the same initial weights, batches and noise, every arm ends a few
  steps (two evaluations included) at the same weights, up to float32 round-off.
* The L2 arm trains with the learner's ``l2_penalty`` as its checker returned it: the learner's
  function when it is right, in the notebook's short run and in the multi-seed runs alike; the
  reference when it is wrong, and then the learner's function is never called.

The cells are the solution notebook's own: the setup and data cells (by id), the exercise cell
of ``l2_penalty`` and the step cells (by tag), executed at budget ``smoke``.
"""
import numpy as np
import pytest
from solution_cells import Counting, model_state, smoke_namespace, solution_cells

from course_lib import budgets

NOTEBOOK = "01_regularization.ipynb"
SETUP, DATA, SHORT_RUN, EXPERIMENT = "c04", "c06", "c18g", "c19"
TRACKS = {"pytorch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}
SEED = 3  # not a seed the notebook runs at smoke, so nothing is tuned to it
STEPS, EVERY = 8, 4  # more than one epoch of 6 batches, with two evaluations on the way
VAE_VARIANTS = ("none", "L2 in Adam", "AdamW", "dropout")


def _exercise_cell(tagged):
    (source,) = [s for s in tagged["nbval-check-output"] if s.startswith("def l2_penalty(")]
    return source


@pytest.fixture(params=list(TRACKS))
def notebook(request, monkeypatch):
    """The namespace after the notebook's setup, data, l2_penalty exercise (the solution, checked) and
    step cells at budget smoke; and its cells, to run more of them."""
    pytest.importorskip(TRACKS[request.param])
    ns = smoke_namespace(monkeypatch)
    by_id, tagged = solution_cells(NOTEBOOK, request.param)
    assert len(tagged.get("training-step", [])) == 5, "vae_step, vae_arm, train_vae_arm, d/g_step, train_gan_arm"
    for source in (by_id[SETUP], by_id[DATA], _exercise_cell(tagged), *tagged["training-step"]):
        exec(source, ns)
    assert ns["cfg"].budget == "smoke"
    return request.param, ns, by_id, tagged



def _assert_same(track, a, b, what):
    wa, wb = model_state(track, a), model_state(track, b)
    assert len(wa) == len(wb) and len(wa) > 0
    for i, (x, y) in enumerate(zip(wa, wb)):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=f"{what}: weight {i} differs")


def _short(cfg, **steps):
    return budgets.Config({**cfg, **steps})


# --------------------------------------------------------------------------- the steps = the library's runs

@pytest.mark.parametrize("variant", VAE_VARIANTS)
def test_train_vae_variant_makes_the_updates_of_the_notebooks_step(notebook, variant):
    track, ns, _, _ = notebook
    cfg = ns["cfg"]
    mine = ns["train_vae_arm"](variant, SEED, STEPS)
    lib = ns["train_vae_variant"](variant, ns["x_small"], ns["x_val"], _short(cfg, vae_steps=STEPS, eval_every=EVERY),
                                  SEED)
    assert lib["history"]["step"] == [EVERY, 2 * EVERY]
    _assert_same(track, mine, lib["model"], f"VAE {variant}")
    if variant == "AdamW":  # the decay reached the weight matrices and left the biases alone in both
        fresh, _, _ = ns["vae_arm"]("none", SEED)
        moved = [np.abs(a - b).max() for a, b in zip(model_state(track, mine), model_state(track, fresh))]
        assert all(m > 0 for m in moved)


@pytest.mark.parametrize("variant", ["none", "spectral norm"])
def test_train_gan_variant_makes_the_updates_of_the_notebooks_steps(notebook, variant):
    track, ns, _, _ = notebook
    cfg = ns["cfg"] = _short(ns["cfg"], gan_steps=STEPS, gan_eval_every=EVERY)  # the cells read cfg when they run
    G, D, history = ns["train_gan_arm"](variant == "spectral norm", SEED, STEPS)
    lib = ns["train_gan_variant"](variant, ns["x_small"], ns["x_val"], cfg, SEED)
    _assert_same(track, G, lib["G"], f"G, {variant}")
    _assert_same(track, D, lib["D"], f"D, {variant}")
    for key in ("p_train", "p_val"):
        np.testing.assert_allclose(history[key], lib["history"][key], rtol=1e-5, atol=1e-6)
    assert history["step"] == lib["history"]["step"] == [EVERY, 2 * EVERY]


def test_the_spectral_norm_arm_differs_from_the_plain_one(notebook):
    """The two GAN arms share G's initial weights, batches and noise and differ in D's layers only."""
    track, ns, _, _ = notebook
    G1, D1, _ = ns["train_gan_arm"](False, SEED, 2)
    G2, D2, _ = ns["train_gan_arm"](True, SEED, 0)
    G0, _, _ = ns["train_gan_arm"](False, SEED, 0)
    _assert_same(track, G2, G0, "G's initial weights")
    assert any(not np.allclose(a, b) for a, b in zip(model_state(track, G1), model_state(track, G0)))
    assert len(model_state(track, D2)) > len(model_state(track, D1))  # spectral norm's power-iteration vectors


# --------------------------------------------------------------------------- the learner's l2_penalty trains

LEARNER = {  # right: the solution's formula; wrong: the biases are penalised too (a mistake the checker names)
    ("pytorch", "right"): "def l2_penalty(params, wd):\n"
                          "    return wd / 2 * sum((p**2).sum() for p in params if p.ndim >= 2)\n",
    ("pytorch", "wrong"): "def l2_penalty(params, wd):\n    return wd / 2 * sum((p**2).sum() for p in params)\n",
    ("tensorflow", "right"): ("def l2_penalty(params, wd):\n    return wd / 2 * tf.add_n([tf.reduce_sum(tf.square(p)) "
                              "for p in params if len(p.shape) >= 2])\n"),
    ("tensorflow", "wrong"): ("def l2_penalty(params, wd):\n    return wd / 2 * tf.add_n([tf.reduce_sum(tf.square(p)) "
                              "for p in params])\n"),
}


def _check(track, ns, tagged, which):
    """What the exercise cell does with the learner's definition: define, check, keep what the checker
    returns; then the step cells again, as the notebook runs them after the exercise."""
    checker_line = _exercise_cell(tagged).rstrip().splitlines()[-1]
    assert checker_line == "l2_penalty = ex.l2_penalty.check(l2_penalty)"
    exec(LEARNER[track, which], ns)
    learner = ns["l2_penalty"] = Counting(ns["l2_penalty"])
    exec(checker_line, ns)
    for source in tagged["training-step"]:
        exec(source, ns)
    learner.calls = 0  # from here on, only training counts
    return learner


def _calls_per_run(track, steps):
    """PyTorch calls the penalty at every step; TensorFlow once, when it traces the step into its graph."""
    return steps if track == "pytorch" else 1


def test_the_l2_arm_trains_with_the_learners_penalty_when_it_is_right(notebook):
    track, ns, _, tagged = notebook
    learner = _check(track, ns, tagged, "right")
    assert ns["l2_penalty"] is learner, "the checker must return the learner's function when it is right"
    mine = ns["train_vae_arm"]("L2 in Adam", SEED, STEPS)
    assert learner.calls == _calls_per_run(track, STEPS), "the short run's L2 arm must train with it"
    learner.calls = 0
    short = _short(ns["cfg"], vae_steps=STEPS, eval_every=EVERY)
    lib = ns["train_vae_variant"]("L2 in Adam", ns["x_small"], ns["x_val"], short, SEED, l2_penalty_fn=ns["l2_penalty"])
    assert learner.calls == _calls_per_run(track, STEPS), "the library's L2 arm must train with it"
    _assert_same(track, mine, lib["model"], "L2 arm")


def test_the_l2_arm_trains_with_the_reference_when_the_learners_penalty_is_wrong(notebook, capsys):
    track, ns, _, tagged = notebook
    learner = _check(track, ns, tagged, "wrong")
    assert "not quite" in capsys.readouterr().out
    assert ns["l2_penalty"] is not learner and ns["l2_penalty"] is ns["ex"].l2_penalty.fallback
    mine = ns["train_vae_arm"]("L2 in Adam", SEED, STEPS)
    assert learner.calls == 0, "the short run called the function the checker rejected"
    short = _short(ns["cfg"], vae_steps=STEPS, eval_every=EVERY)
    lib = ns["train_vae_variant"]("L2 in Adam", ns["x_small"], ns["x_val"], short, SEED)  # the library's own penalty
    _assert_same(track, mine, lib["model"], "L2 arm with the reference penalty")
    plain = ns["train_vae_arm"]("none", SEED, STEPS)  # and the penalty did act
    assert any(not np.allclose(a, b) for a, b in zip(model_state(track, mine), model_state(track, plain)))


@pytest.mark.parametrize("which", ["right", "wrong"])
def test_the_multi_seed_experiment_trains_the_l2_arm_with_what_the_checker_returned(notebook, which):
    """The notebook's short run and experiment cells, at smoke: the L2 arm's runs call the learner's
    function when the checker accepted it, and never when it did not."""
    track, ns, by_id, tagged = notebook
    learner = _check(track, ns, tagged, which)
    exec(by_id[SHORT_RUN], ns)
    learner.calls = 0
    exec(by_id[EXPERIMENT], ns)
    cfg = ns["cfg"]
    expected = len(ns["seeds"]) * _calls_per_run(track, cfg.vae_steps) if which == "right" else 0
    assert learner.calls == expected
    assert all("test" in run for runs in ns["vae_runs"].values() for run in runs)
