"""Lesson 02: the notebook's own training step and loop, in both tracks.

* ``ct.VAETrainer``, which the multi-seed experiment (section 3) and the checkpoint demo (section 4)
  train with, computes the updates of the notebook's ``vae_step``: from the same initial weights,
  batches and noise, epoch after epoch, the same weights and losses (up to float32 round-off).
* The notebook's loop ``train_with_early_stopping`` stops when the learner's ``should_stop`` says so
  and keeps the weights of the epoch the learner's ``best_step`` names, when the checkers accept
  them; when a checker rejects a function, the loop trains with the reference and never calls it.

The cells are the solution notebook's: the setup and data cells (by id), the step and the loop (by
their tags ``training-step`` and ``training-loop``), executed at budget ``smoke``, with the
learner's function put through its checker as the exercise cells do.
"""
from pathlib import Path

import numpy as np
import pytest
from solution_cells import Counting, model_state, smoke_namespace, solution_cells

from course_lib import data
from course_lib.techniques import early_stopping as truth

ROOT = Path(__file__).resolve().parents[1]
SETUP, DATA = "c04", "c12"  # the setup cell (ct, cfg, ex) and the data cell (x_small, x_val, x_test)
TAGS = ("training-step", "training-loop")
TRACKS = {"pytorch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}
SEED = 3  # not a seed the notebook runs at smoke, so nothing is tuned to it
LONG = 60  # epochs: at smoke's patience the reference rule stops well before this on every seed tried


def _cells(track):
    by_id, tagged = solution_cells("02_early_stopping.ipynb", track)
    by_tag = {tag: tagged.get(tag, []) for tag in TAGS}
    assert SETUP in by_id and DATA in by_id, "the test names the notebook's setup and data cells by id"
    assert all(len(v) == 1 for v in by_tag.values()), f"one cell per tag {TAGS} expected, got {by_tag}"
    return [by_id[SETUP], by_id[DATA]], by_tag["training-step"][0], by_tag["training-loop"][0]


@pytest.fixture(params=list(TRACKS))
def notebook(request, monkeypatch, tmp_path):
    """The notebook's namespace after its setup, data and step cells at budget smoke; and the loop cell."""
    pytest.importorskip(TRACKS[request.param])
    ns = smoke_namespace(monkeypatch)
    monkeypatch.chdir(tmp_path)  # the setup cell makes ./checkpoints
    first, step, loop = _cells(request.param)
    for source in (*first, step):
        exec(source, ns)
    assert ns["cfg"].budget == "smoke"
    return request.param, ns, loop


# --------------------------------------------------------------------------- the step = VAETrainer


def _twins(track, ns, seed):
    """Two VAEs with the same initial weights: one for the notebook's step, one inside ct.VAETrainer."""
    ct, cfg = ns["ct"], ns["cfg"]
    ct.seed_everything(seed)
    mine = ct.VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden)
    theirs = ct.VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden)
    if track == "pytorch":
        theirs.load_state_dict(mine.state_dict())
        mine.to(ct.DEVICE)
    else:
        theirs.set_weights(mine.get_weights())
    return mine, ct.VAETrainer(theirs, ns["x_small"], cfg.batch_size, cfg.vae_lr, seed)


def _notebook_epochs(track, ns, vae, seed, epochs):
    """Yield the mean training loss of each epoch of the notebook's step, on the loop's batches and noise,
    with Adam as the loop builds it."""
    cfg, x = ns["cfg"], ns["x_small"]
    batches, rng = data.batch_indices(len(x), cfg.batch_size, seed), np.random.default_rng(seed + 1)
    if track == "pytorch":
        import torch
        opt = torch.optim.Adam(vae.parameters(), lr=cfg.vae_lr, eps=1e-8)
        step = lambda xb, eps: ns["vae_step"](vae, opt, xb, eps)  # noqa: E731
        tensor = lambda a: torch.as_tensor(a, device=ns["ct"].DEVICE)  # noqa: E731
        x_all = tensor(x)
        batch = lambda: x_all[tensor(next(batches))]  # noqa: E731
    else:
        import keras
        import tensorflow as tf
        opt = keras.optimizers.Adam(learning_rate=cfg.vae_lr, epsilon=1e-8)
        opt.build(vae.trainable_variables)
        compiled, x_all = ns["make_vae_step"](vae, opt), tf.constant(x)
        step = lambda xb, eps: float(compiled(xb, eps))  # noqa: E731
        tensor = tf.constant
        batch = lambda: tf.gather(x_all, next(batches))  # noqa: E731
    for _ in range(epochs):
        losses = []
        for _ in range(len(x) // cfg.batch_size):
            xb = batch()
            losses.append(step(xb, tensor(data.noise(len(xb), vae.z_dim, rng))))
        yield float(np.mean(losses))


def test_vae_trainer_computes_the_updates_of_the_notebooks_step(notebook):
    track, ns, _ = notebook
    mine, trainer = _twins(track, ns, SEED)
    for epoch, loss in enumerate(_notebook_epochs(track, ns, mine, SEED, epochs=3)):
        assert trainer.train_epoch() == pytest.approx(loss, rel=1e-5), f"epoch {epoch}: another training loss"
        for a, b in zip(model_state(track, mine), model_state(track, trainer.model)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"epoch {epoch}: other weights")
    assert trainer.epoch == 3


def test_the_notebooks_loop_is_the_experiments_run(notebook):
    """The loop, with the reference rule, against ct.VAETrainer + ct.EarlyStopping from the same seed:
    the same histories, the same stop and the same kept weights (what section 3 reads off its runs)."""
    track, ns, loop = notebook
    ct, cfg = ns["ct"], ns["cfg"]
    ns["should_stop"], ns["best_step"] = truth.should_stop, truth.best_step
    exec(loop, ns)
    vae, history = ns["train_with_early_stopping"](SEED, LONG)
    ct.seed_everything(SEED)
    model = ct.VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden)
    trainer, es = ct.VAETrainer(model, ns["x_small"], cfg.batch_size, cfg.vae_lr, SEED), ct.EarlyStopping(
        cfg.patience, cfg.min_delta)
    losses, val = [], []
    for _ in range(LONG):
        losses.append(trainer.train_epoch())
        val.append(trainer.evaluate(ns["x_val"], n_samples=cfg.val_samples))
        if es.step(val[-1], model):
            break
    es.restore(model)
    assert len(val) < LONG, "the reference rule should stop within LONG epochs"
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-5)
    np.testing.assert_allclose(history["val_loss"], val, rtol=1e-5)
    for a, b in zip(model_state(track, vae), model_state(track, model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- the learner's functions train


def right_should_stop(history, patience, min_delta):
    best, wait = None, 0
    for v in history["val_loss"]:
        if best is None or v < best - min_delta:
            best, wait = v, 0
        else:
            wait += 1
    return wait >= patience


def late_should_stop(history, patience, min_delta):  # off by one: stops when the counter *exceeds* patience
    return right_should_stop(history, patience + 1, min_delta)


def right_best_step(val_losses, min_delta):
    best, index = None, None
    for i, v in enumerate(val_losses):
        if best is None or v < best - min_delta:
            best, index = v, i
    return index


def one_based_best_step(val_losses, min_delta):  # counts epochs from 1
    return right_best_step(val_losses, min_delta) + 1


def last_best_step(val_losses, min_delta):  # "restores" the last weights
    return len(val_losses) - 1


def _run(ns, loop, should_stop=None, best_step=None):
    """What the exercise cells do (check, keep what the checker returns), then the loop cell and one run."""
    ns["should_stop"] = ns["ex"].should_stop.check(should_stop) if should_stop else truth.should_stop
    ns["best_step"] = ns["ex"].best_step.check(best_step) if best_step else truth.best_step
    for fn in (should_stop, best_step):
        if isinstance(fn, Counting):
            fn.calls, fn.answers = 0, []  # from here on, only the run's calls count
    exec(loop, ns)
    return ns["train_with_early_stopping"](SEED, LONG)


def _first_stop(val, cfg):
    return next(i for i in range(len(val)) if truth.should_stop({"val_loss": val[:i + 1]}, cfg.patience, cfg.min_delta))


def _val_of(ns, vae):
    return ns["ct"].test_negative_elbo(vae, ns["x_val"], seed=0, n_samples=ns["cfg"].val_samples)


def test_a_right_should_stop_is_what_stops_the_loop(notebook):
    _, ns, loop = notebook
    learner = Counting(right_should_stop)
    _, history = _run(ns, loop, should_stop=learner)
    assert ns["should_stop"] is learner, "the checker must return the learner's function when it is right"
    epochs = len(history["val_loss"])
    assert learner.calls == epochs, "the loop must ask the learner's should_stop once per epoch"
    assert learner.answers == [False] * (epochs - 1) + [True], "the loop must stop at the learner's first True"
    assert epochs - 1 == _first_stop(history["val_loss"], ns["cfg"])


def test_a_wrong_should_stop_is_replaced_by_the_reference(notebook):
    _, ns, loop = notebook
    learner = Counting(late_should_stop)
    _, history = _run(ns, loop, should_stop=learner)
    assert ns["should_stop"] is not learner, "the checker must not return a wrong function"
    assert learner.calls == 0, "the loop called the function the checker rejected"
    val, cfg = history["val_loss"], ns["cfg"]
    assert len(val) < LONG and len(val) - 1 == _first_stop(val, cfg), "the loop must stop by the reference rule"
    assert not late_should_stop({"val_loss": val}, cfg.patience, cfg.min_delta), \
        "the wrong function would not have stopped here: the test could not tell them apart"


def test_a_right_best_step_picks_the_weights_the_loop_keeps(notebook):
    _, ns, loop = notebook
    learner = Counting(right_best_step)
    vae, history = _run(ns, loop, best_step=learner)
    assert ns["best_step"] is learner, "the checker must return the learner's function when it is right"
    assert learner.calls >= len(history["val_loss"]), "the loop must ask the learner's best_step every epoch"
    kept = right_best_step(history["val_loss"], ns["cfg"].min_delta)
    assert kept < len(history["val_loss"]) - 1, "restore-best should go back from the last epoch here"
    # Validation noise is fixed, so the kept weights give back exactly the value recorded at their epoch.
    assert _val_of(ns, vae) == pytest.approx(history["val_loss"][kept], rel=1e-6)


@pytest.mark.parametrize("wrong", [one_based_best_step, last_best_step])
def test_a_wrong_best_step_is_replaced_by_the_reference(notebook, wrong):
    _, ns, loop = notebook
    learner = Counting(wrong)
    vae, history = _run(ns, loop, best_step=learner)
    assert ns["best_step"] is not learner, "the checker must not return a wrong function"
    assert learner.calls == 0, "the loop called the function the checker rejected"
    val, min_delta = history["val_loss"], ns["cfg"].min_delta
    kept = truth.best_step(val, min_delta)
    assert wrong(val, min_delta) != kept, "the wrong function names the same epoch: the test cannot tell them apart"
    assert _val_of(ns, vae) == pytest.approx(val[kept], rel=1e-6)
