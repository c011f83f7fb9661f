"""Lesson 09: the training step written out in the solution notebooks (the cells tagged
``training-step``) computes the same updates, and the same moving averages, as the course library's
stacked runs (``ensembles.train_gans``), which the notebook's multi-seed experiment uses; the
averages copy BatchNorm's buffers; and the runs average with the learner's ``ema_update`` when the
checker accepts it, with the reference when it does not.

The step cells are executed as they are in the notebook, in a namespace that holds what the
notebook defines before them (``cfg``, ``ct``, the functions the checkers returned, ...)."""

import numpy as np
import pytest
from solution_cells import Counting, exercise_cell, framework_namespace, solution_cells

from course_lib import budgets, data
from course_lib.progress import progress

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import ensembles as ens_tf  # noqa: E402
from course_lib.torch import ensembles as ens_torch  # noqa: E402

NOTEBOOK = "09_ensembles.ipynb"
TRACKS = {"pytorch": (ct_torch, ens_torch), "tensorflow": (ct_tf, ens_tf)}
CFG = budgets.Config({**budgets.config("09_ensembles", "smoke"), "gan_hidden": (16, 32), "d_hidden": (32, 16),
                      "decays": (0.5, 0.9)})  # small networks; fast decays, so that a few steps move the averages



def _namespace(track, ema_update=None):
    ct, ensembles = TRACKS[track]
    ns = {"cfg": CFG, "ct": ct, "np": np, "data": data, "progress": progress, "ensembles": ensembles, "SEED": 0}
    ns.update(framework_namespace(track))
    exercise = exercise_cell(NOTEBOOK, track, "ema_update")
    exec(exercise, ns)
    if ema_update is not None:
        ns["ema_update"] = ema_update
    steps = solution_cells(NOTEBOOK, track)[1]["training-step"]
    assert len(steps) == 2, "the notebook's D and G steps, then new_pair and the loop, carry the tag training-step"
    for source in steps:
        exec(source, ns)
    return ns


def _arrays(tensors):
    return [np.array(t) for t in tensors]


def _weights(track, model):
    return _arrays(TRACKS[track][1].state(model)[0])


@pytest.mark.parametrize("track", TRACKS)
def test_notebook_step_matches_the_stacked_runs(track):
    """Two seeds: the notebook's loop, run after run, ends at the weights and averages of one stacked run."""
    ns = _namespace(track)
    x, seeds, steps = data.digits("train")[:96], (0, 1), 6
    mine = [ns["new_pair"](s) for s in seeds]
    averages = [ns["train_one"](G, D, x, steps, s) for (G, D), s in zip(mine, seeds)]
    theirs = [ns["new_pair"](s) for s in seeds]
    stacked = TRACKS[track][1].train_gans([G for G, _ in theirs], [D for _, D in theirs], [x, x], list(seeds), steps,
                                          CFG.batch_size, CFG.lr, CFG.betas, CFG.decays, ns["ema_update"])
    for i in range(len(seeds)):
        for model_a, model_b in zip(mine[i], theirs[i]):
            for a, b in zip(_weights(track, model_a), _weights(track, model_b)):
                np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
        for decay in CFG.decays:
            for a, b in zip(_arrays(averages[i][decay]), _weights(track, stacked[decay][i])):
                np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
    # the averages moved, and lag behind the raw weights
    raw = _weights(track, mine[0][0])[0]
    assert not np.allclose(_arrays(averages[0][CFG.decays[1]])[0], raw)


@pytest.mark.parametrize("track", TRACKS)
def test_averages_copy_the_batchnorm_statistics(track):
    ns = _namespace(track)
    G, D = ns["new_pair"](0, norm="batch")
    average = ns["train_one"](G, D, data.digits("train")[:96], 5, 0, decays=(0.9,))[0.9]
    current, is_buffer = TRACKS[track][1].state(G)
    assert any(is_buffer) and not all(is_buffer)
    for a, w, buffer in zip(_arrays(average), _arrays(current), is_buffer):
        if buffer:
            np.testing.assert_array_equal(a, w)
    assert not all(np.allclose(a, w) for a, w, b in zip(_arrays(average), _arrays(current), is_buffer) if not b)


@pytest.mark.parametrize("track", TRACKS)
def test_runs_average_with_the_learners_function(track):
    ct, ensembles = TRACKS[track]
    learner = Counting(ensembles.ema_update)
    ns = _namespace(track, ema_update=learner)
    G, D = ns["new_pair"](0)
    ns["train_one"](G, D, data.digits("train")[:96], 3, 0)
    assert learner.calls == len(CFG.decays) * 4  # the copies of the start, then one per decay and step
    calls = learner.calls
    Gs, Ds = zip(*[ns["new_pair"](s) for s in (0, 1)])
    ensembles.train_gans(Gs, Ds, [data.digits("train")[:96]] * 2, [0, 1], 2, CFG.batch_size, CFG.lr, CFG.betas,
                         CFG.decays, learner)
    assert learner.calls == calls + len(CFG.decays) * 3


@pytest.mark.parametrize("track", TRACKS)
def test_a_wrong_answer_trains_with_the_reference(track):
    ct, ensembles = TRACKS[track]
    ex = _namespace(track)["ex"]

    def wrong(average, current, decay, is_buffer):  # the decay the wrong way round
        if average is None:
            return list(current)
        return [(1 - decay) * a + decay * w for a, w in zip(average, current)]

    assert ex.ema_update.check(wrong) is ensembles.ema_update
