"""Lesson 02: the patience rule, restore-best, atomic checkpoints and exact resume (both tracks),
and the checkers of its exercises (reference passes, each known mistake gets its own diagnosis)."""
import os

import numpy as np
import pytest

from course_lib import data
from course_lib.checks import CORRECT, NOT_ATTEMPTED, WRONG
from course_lib.exercises import lesson02_early_stopping as shared
from course_lib.techniques import early_stopping as es

TRACKS = ["course_lib.torch", "course_lib.tensorflow"]


def _track(name):
    return pytest.importorskip(name)


# --- the framework-neutral rule -----------------------------------------------------------

def test_patience_counts_evaluations_since_the_best():
    t = es.PatienceTracker(patience=3)
    decisions = [t.update(v) for v in [5.0, 4.0, 4.5, 4.4, 4.3]]
    assert decisions == [False, False, False, False, True]
    assert (t.best, t.best_index, t.wait) == (4.0, 1, 3)


def test_a_new_best_resets_the_counter():
    t = es.PatienceTracker(patience=2)
    assert [t.update(v) for v in [3.0, 3.5, 2.0, 2.5, 2.6]] == [False, False, False, False, True]
    assert t.best_index == 2


def test_min_delta_requires_a_real_improvement():
    vals = [3.0, 2.99, 2.98, 2.97]
    assert not es.should_stop({"val_loss": vals}, 3, 0.0)
    assert es.should_stop({"val_loss": vals}, 3, 0.05)
    assert es.best_step(vals, 0.0) == 3 and es.best_step(vals, 0.05) == 0
    # exactly min_delta better is not "more than min_delta"
    assert es.best_step([3.0, 2.5], 0.5) == 0


def test_ties_and_nan_are_not_improvements_and_max_mode_works():
    assert es.best_step([3.0, 2.0, 2.0], 0.0) == 1
    t = es.PatienceTracker(1)
    t.update(1.0)
    assert t.update(float("nan"))
    up = es.PatienceTracker(2, min_delta=0.1, mode="max")
    assert [up.update(v) for v in [0.5, 0.7, 0.75, 0.72]] == [False, False, False, True]


@pytest.mark.parametrize("bad", [dict(patience=0), dict(patience=2.5), dict(patience=2, min_delta=-0.1),
                                 dict(patience=2, mode="lowest")])
def test_tracker_rejects_bad_settings(bad):
    with pytest.raises(ValueError):
        es.PatienceTracker(**bad)


def test_tracker_state_round_trip():
    a = es.PatienceTracker(3, 0.01)
    for v in [3.0, 2.0, 2.5]:
        a.update(v)
    b = es.PatienceTracker(3, 0.01)
    b.load_state_dict(a.state_dict())
    assert [a.update(v) for v in [2.4, 2.3]] == [b.update(v) for v in [2.4, 2.3]]


def test_seed_criterion_checks_every_tenth_epoch_against_the_last_batch():
    assert es.seed_criterion(0, 2.0, 1.0) and es.seed_criterion(10, 2.0, 1.0)
    assert not es.seed_criterion(5, 2.0, 1.0) and not es.seed_criterion(10, 1.0, 2.0)


def test_batch_stream_matches_batch_indices_and_resumes():
    ref = data.batch_indices(50, 8, seed=3)
    stream = es.BatchStream(50, 8, seed=3)
    first = [next(stream) for _ in range(9)]  # crosses an epoch boundary (6 batches per epoch)
    assert all(np.array_equal(a, next(ref)) for a in first)
    state = stream.state_dict()
    later = [next(stream) for _ in range(10)]
    other = es.BatchStream(50, 8, seed=99)
    other.load_state_dict(state)
    assert all(np.array_equal(a, next(other)) for a in later)
    with pytest.raises(ValueError, match="batch_size"):
        es.BatchStream(50, 4, seed=0).load_state_dict(state)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "ck" / "run.ckpt"
    es.atomic_write(path, lambda tmp: open(tmp, "w").write("complete v1"))
    assert path.read_text() == "complete v1"

    def crash(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        es.atomic_write(path, crash)
    assert path.read_text() == "complete v1"
    assert os.listdir(path.parent) == ["run.ckpt"]


def test_checkpoint_names_and_meta_separate_runs(tmp_path):
    a = es.checkpoint_path(tmp_path, "02_early_stopping", "pytorch", 0, "cpu")
    b = es.checkpoint_path(tmp_path, "02_early_stopping", "pytorch", 1, "cpu")
    c = es.checkpoint_path(tmp_path, "02_early_stopping", "tensorflow", 0, "cpu")
    assert len({a, b, c}) == 3 and a.parent == tmp_path
    es.check_meta({"seed": 0}, {"seed": 0}, a)
    with pytest.raises(ValueError, match="different run"):
        es.check_meta({"seed": 0}, {"seed": 1}, a)


# --- checkers ---------------------------------------------------------------------------

@pytest.mark.parametrize("make", [shared.should_stop, shared.best_step])
def test_checker_passes_reference_and_diagnoses_each_mistake(make):
    ex = make()
    assert ex.verdict(ex.truth).status == CORRECT
    assert ex.verdict(None).status == NOT_ATTEMPTED
    for m in ex.mistakes:
        v = ex.verdict(m.impl)
        assert v.status == WRONG and m.message in v.message, f"{m.name} was not diagnosed as itself"


def test_the_seeds_mistakes_are_among_the_known_ones():
    names = {m.name for m in shared.SHOULD_STOP_MISTAKES}
    assert {"seed's criterion", "training loss", "last, not best", "min_delta ignored", "min_delta sign",
            "patience off by one"} <= names
    assert "last step" in {m.name for m in shared.BEST_STEP_MISTAKES}


def test_learner_style_answers():
    def good(history, patience, min_delta):
        # another correct formulation: index of the last significant improvement
        vals, best_i = history["val_loss"], 0
        for i, v in enumerate(vals):
            if v < vals[best_i] - min_delta:
                best_i = i
        return len(vals) - 1 - best_i >= patience

    assert shared.should_stop().verdict(good).status == CORRECT

    def seeds_rule(history, patience, min_delta):
        return history["val_loss"][-1] > history["loss"][-1]

    assert "seed document" in shared.should_stop().verdict(seeds_rule).message


def _learner_should_stop(reading):
    """should_stop written by a learner who read the rule one way (the plain-Python answers a notebook gets)."""
    def should_stop(history, patience, min_delta):
        best, wait = None, 0
        for value in history["val_loss"]:
            if best is None:
                improved = reading != "first value as a failure"
            elif reading == "relative min_delta":
                improved = value < best * (1 - min_delta)
            elif reading == "ties count":
                improved = value <= best - min_delta
            else:
                improved = value < best - min_delta
            if best is None or improved:
                best = value
            wait = (wait if reading == "not in a row" else 0) if improved else wait + 1
            if reading == "best moves on every new minimum":
                best = min(best, value)
        return wait >= patience
    return should_stop


def _learner_best_step(reading):
    def best_step(val_losses, min_delta):
        best, index = None, None
        for i, value in enumerate(val_losses):
            if best is None or {"relative min_delta": value < best * (1 - min_delta),
                                "ties count": value <= best - min_delta}.get(reading, value < best - min_delta):
                best, index = value, i
            elif reading == "best moves on every new minimum":
                best = min(best, value)
        return index
    return best_step


READINGS = {"should_stop": ["best moves on every new minimum", "relative min_delta", "ties count", "not in a row",
                            "first value as a failure"],
            "best_step": ["best moves on every new minimum", "relative min_delta", "ties count"]}


@pytest.mark.parametrize("exercise,learner", [("should_stop", _learner_should_stop), ("best_step", _learner_best_step)])
def test_other_readings_of_the_rule_get_their_own_diagnosis(exercise, learner):
    ex = getattr(shared, exercise)()
    assert ex.verdict(learner("as intended")).status == CORRECT
    messages = {m.name: m.message for m in ex.mistakes}
    for reading in READINGS[exercise]:
        v = ex.verdict(learner(reading))
        assert v.status == WRONG and messages[reading] in v.message, (reading, v.message)


@pytest.mark.parametrize("make", [shared.should_stop, shared.best_step])
def test_the_cases_separate_every_reading(make):
    """The truth and each mistake, and any two mistakes with different diagnoses, give different
    answers on at least one case: no reading hides behind another or behind the truth."""
    ex = make()
    answers = [("truth", None, ex.truth)] + [(m.name, m.message, m.impl) for m in ex.mistakes]
    for i, (name_a, message_a, a) in enumerate(answers):
        for name_b, message_b, b in answers[i + 1:]:
            if message_a != message_b:
                assert any(a(*case) != b(*case) for case in ex.cases), (name_a, name_b)


def test_the_rule_is_stated_the_same_way_in_both_notebooks():
    """The markdown states the rule that the checker enforces: strict, absolute min_delta, best moving
    only at an improvement (and the same words in both tracks)."""
    from pathlib import Path

    from course_lib.tooling.notebooks import read_notebook
    root = Path(__file__).resolve().parents[1]
    texts = []
    for track in ("pytorch", "tensorflow"):
        nb = read_notebook(root / "solutions" / track / "02_early_stopping.ipynb")
        texts.append([c.source for c in nb.cells if c.cell_type == "markdown" and "min_delta" in c.source])
    assert texts[0] == texts[1]
    rule = next(t for t in texts[0] if "**Patience and `min_delta`.**" in t)
    for words in ("`value < best - min_delta`", "absolute amount", "a tie", "stays where it is"):
        assert words in rule, words


@pytest.mark.parametrize("name", TRACKS)
def test_tracks_expose_the_same_checkers(name):
    _track(name)
    import importlib
    ex = importlib.import_module(f"{name}.exercises")
    for exercise in (ex.should_stop, ex.best_step):
        assert exercise.verdict(exercise.truth).status == CORRECT


# --- restore-best and exact resume, per framework --------------------------------------------

def _weights(ct, model):
    if hasattr(model, "state_dict"):
        return [v.detach().cpu().numpy().copy() for v in model.state_dict().values()]
    return [w.copy() for w in model.get_weights()]


def _new(ct, seed, x):
    ct.seed_everything(seed)
    vae = ct.VAE(z_dim=4, hidden=(32,))
    return vae, ct.VAETrainer(vae, x, batch_size=16, lr=1e-3, seed=seed)


@pytest.mark.parametrize("name", TRACKS)
def test_restore_best_gives_the_best_weights(name):
    ct = _track(name)
    x = data.digits("train")[:64]
    vae, trainer = _new(ct, 0, x)
    stopper = ct.EarlyStopping(patience=2)
    snapshots = []
    for value in [5.0, 3.0, 4.0, 6.0]:  # the best is the second evaluation
        trainer.train_epoch()
        snapshots.append(_weights(ct, vae))
        stop = stopper.step(value, vae)
    assert stop and stopper.best_index == 1
    with stopper.restored(vae):
        assert all(np.array_equal(a, b) for a, b in zip(_weights(ct, vae), snapshots[1]))
    assert all(np.array_equal(a, b) for a, b in zip(_weights(ct, vae), snapshots[3]))  # put back
    stopper.restore(vae)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(ct, vae), snapshots[1]))
    with pytest.raises(RuntimeError):
        ct.EarlyStopping(2).restore(vae)


@pytest.mark.parametrize("name", TRACKS)
def test_trainer_follows_train_vae(name):
    ct = _track(name)
    x = data.digits("train")[:64]
    ct.seed_everything(1)
    ref = ct.VAE(z_dim=4, hidden=(32,))
    ct.train_vae(ref, x, steps=8, batch_size=16, lr=1e-3, seed=1)
    vae, trainer = _new(ct, 1, x)
    trainer.train_epoch(), trainer.train_epoch()
    assert all(np.array_equal(a, b) for a, b in zip(_weights(ct, ref), _weights(ct, vae)))


@pytest.mark.parametrize("name", TRACKS)
def test_resume_reproduces_the_uninterrupted_run(name, tmp_path):
    ct = _track(name)
    x, x_val = data.digits("train")[:64], data.digits("val")
    meta = {"lesson": "test", "seed": 2}

    def run(trainer, vae, stopper, hist, until, path=None):
        while trainer.epoch < until:
            trainer.train_epoch()
            hist.append(trainer.evaluate(x_val))
            stopper.step(hist[-1], vae)
            if path:
                trainer.save(path, meta=meta, early_stopping=stopper.state_dict(), history=hist)
        return hist

    vae_a, tr_a = _new(ct, 2, x)
    es_a = ct.EarlyStopping(3)
    hist_a = run(tr_a, vae_a, es_a, [], 6)

    path = tmp_path / "run.ckpt"
    vae_b, tr_b = _new(ct, 2, x)
    run(tr_b, vae_b, ct.EarlyStopping(3), [], 3, path)
    vae_c, tr_c = _new(ct, 7, x)  # other initial weights: everything must come from the file
    es_c = ct.EarlyStopping(3)
    extras = tr_c.load(path, meta=meta)
    es_c.load_state_dict(extras["early_stopping"])
    hist_c = run(tr_c, vae_c, es_c, extras["history"], 6, path)

    assert hist_a == hist_c
    assert all(np.array_equal(a, c) for a, c in zip(_weights(ct, vae_a), _weights(ct, vae_c)))
    assert es_a.tracker.state_dict() == es_c.tracker.state_dict()
    assert ct.test_negative_elbo(vae_a, x_val, 0, 2) == ct.test_negative_elbo(vae_c, x_val, 0, 2)
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt"]
    with pytest.raises(ValueError, match="different run"):
        tr_c.load(path, meta={**meta, "seed": 3})


@pytest.mark.parametrize("name", TRACKS)
def test_resume_without_optimizer_state_differs(name, tmp_path):
    """The optimizer state matters: loading only the weights gives a different run."""
    ct = _track(name)
    x = data.digits("train")[:64]
    vae_a, tr_a = _new(ct, 4, x)
    for _ in range(4):
        tr_a.train_epoch()
    vae_b, tr_b = _new(ct, 4, x)
    tr_b.train_epoch(), tr_b.train_epoch()
    state = tr_b.state_dict()
    vae_c, tr_c = _new(ct, 4, x)
    fresh_opt = tr_c.state_dict()["optimizer"]
    tr_c.load_state_dict({**state, "optimizer": fresh_opt})
    tr_c.train_epoch(), tr_c.train_epoch()
    assert not all(np.array_equal(a, c) for a, c in zip(_weights(ct, vae_a), _weights(ct, vae_c)))


def test_keras_early_stopping_follows_the_same_rule():
    ct = _track("course_lib.tensorflow")
    import keras
    x, x_val = data.digits("train")[:64], data.digits("val")
    ct.seed_everything(0)
    model = ct.FitVAE(z_dim=4, hidden=(32,), seed=0)
    model.compile(optimizer=ct.train.adam(5e-3))
    cb = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, min_delta=0.5, restore_best_weights=True)
    fit = model.fit(x, batch_size=16, epochs=40, validation_data=(x_val,), validation_batch_size=len(x_val),
                    callbacks=[cb], verbose=0)
    val = fit.history["val_loss"]
    assert cb.best_epoch == es.best_step(val, 0.5)
    first = next((i for i in range(len(val)) if es.should_stop({"val_loss": val[:i + 1]}, 2, 0.5)), None)
    assert (cb.stopped_epoch or None) == first
