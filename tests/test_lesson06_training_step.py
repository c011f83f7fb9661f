"""Lesson 06: the training step written out in the solution notebooks (the cells tagged
``training-step``) computes the same updates as the course library's stacked runs
(``augment.train_augmented_gans``), which the notebook's multi-seed experiments use, for every arm,
on digits and on 2-D points, ADA's changing p included; and the notebook's runs train with the
learner's functions when the checkers accept them, with the references when they do not.

The step cells are executed as they are in the notebook, in a namespace that holds what the
notebook defines before them (``cfg``, ``ct``, the functions the checkers returned, ...)."""

import numpy as np
import pytest
from solution_cells import assert_same_pairs, exercise_cell, framework_namespace, solution_cells, trainable_weights

from course_lib import budgets, data
from course_lib.progress import progress
from course_lib.techniques import augmentation

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import augment as augment_tf  # noqa: E402
from course_lib.torch import augment as augment_torch  # noqa: E402

NOTEBOOK = "06_augmentation.ipynb"
TRACKS = {"pytorch": (ct_torch, augment_torch), "tensorflow": (ct_tf, augment_tf)}
# the smoke settings, with ADA's step large and its target low, so that p rises in a few steps
CFG = budgets.Config({**budgets.config("06_augmentation", "smoke"), "ada_step": 0.3, "ada_target": -0.5})
EXERCISES = ("translate", "discriminator_loss", "ada_update")
ARMS = ["none", "reals only", "D step only", "DiffAugment", "ADA"]
SMALL = dict(hidden=(16, 32), d_hidden=(32, 16))




def _namespace(track, learner=True, skip=()):
    ct, _ = TRACKS[track]
    ns = {"cfg": CFG, "ct": ct, "np": np, "data": data, "progress": progress, "augmentation": augmentation, "SEED": 0}
    ns.update(framework_namespace(track))
    if learner:
        for name in EXERCISES:
            if name not in skip:
                exec(exercise_cell(NOTEBOOK, track, name), ns)
    return ns


def _steps(track, ns):
    steps = solution_cells(NOTEBOOK, track)[1]["training-step"]
    assert len(steps) == 4, "the notebook's D step, G step, new_pair and loop carry the tag training-step"
    for source in steps:
        exec(source, ns)
    return ns




@pytest.mark.parametrize("track", TRACKS)
def test_notebook_step_matches_the_stacked_runs_on_digits(track):
    """Every arm, two seeds: the notebook's loop run after run ends at the weights of one stacked
    library run, and ADA's p moves the same way in both."""
    ns = _steps(track, _namespace(track))
    _, augment = TRACKS[track]
    x = data.digits("train")[:96]
    runs = [(arm, seed) for arm in ARMS for seed in (0, 1)]
    steps = 3 * CFG.ada_interval
    mine, ps = [ns["new_pair"](s, **SMALL) for _, s in runs], []
    for (G, D), (arm, seed) in zip(mine, runs):
        ps.append(ns["train_one"](G, D, x, arm, steps, seed, p=CFG.ada_p0 if arm == "ADA" else 1.0))
    theirs = [ns["new_pair"](s, **SMALL) for _, s in runs]
    hist = augment.train_augmented_gans(
        [G for G, _ in theirs], [D for _, D in theirs], [x] * len(runs), [s for _, s in runs], [a for a, _ in runs],
        steps, CFG.batch_size, CFG.lr, CFG.betas, p=[CFG.ada_p0 if a == "ADA" else 1.0 for a, _ in runs],
        ada_target=CFG.ada_target, ada_step=CFG.ada_step, ada_interval=CFG.ada_interval, ada_update=ns["ada_update"])
    assert_same_pairs(track, mine, theirs, atol=1e-6)
    for i, (arm, _) in enumerate(runs):
        if arm == "ADA":
            np.testing.assert_allclose(ps[i], hist["p"][i], atol=1e-12)
            assert max(ps[i]) > 0  # p moved
    # the arms did differ: augmenting changes the trained weights
    assert not np.allclose(trainable_weights(track, mine[0][0])[0], trainable_weights(track, mine[6][0])[0])


@pytest.mark.parametrize("track", TRACKS)
def test_notebook_step_matches_the_stacked_runs_on_2d_points(track):
    ns = _steps(track, _namespace(track))
    ct, augment = TRACKS[track]
    runs = [(arm, seed) for arm in ("none", "reals only", "DiffAugment") for seed in (0, 1)]
    xs = [data.mixture("ring8", 256, seed) for _, seed in runs]

    def jitter(x, a):
        return augment.jitter(x, a, CFG.jitter)

    pair = dict(dim=2, hidden=(16, 16), d_hidden=(16, 16), z_dim=CFG.toy_z_dim)
    mine = [ns["new_pair"](s, **pair) for _, s in runs]
    for (G, D), (arm, seed), x in zip(mine, runs, xs):
        ns["train_one"](G, D, x, arm, 5, seed, lr=CFG.toy_lr, augment=jitter)
    theirs = [ns["new_pair"](s, **pair) for _, s in runs]
    augment.train_augmented_gans([G for G, _ in theirs], [D for _, D in theirs], xs, [s for _, s in runs],
                                 [a for a, _ in runs], 5, CFG.batch_size, CFG.toy_lr, CFG.betas, kind="jitter",
                                 sigma=CFG.jitter)
    assert_same_pairs(track, mine, theirs, atol=1e-6)


class _Recorder:
    """A learner's function that records its calls (the checker sees a plain function)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def _check_and_train(track, name, learner_source, arm="DiffAugment"):
    """Run the notebook's exercise cell for ``name`` with ``learner_source`` as the learner's
    definition (its checker line kept), then the step cells and a short run; the learner's calls
    are counted during training only."""
    ns = _namespace(track, skip=(name,))
    checker_line = exercise_cell(NOTEBOOK, track, name).rstrip().splitlines()[-1]
    assert checker_line == f"{name} = ex.{name}.check({name})"
    exec(learner_source, ns)
    recorder = ns[name] = _Recorder(ns[name])
    exec(checker_line, ns)
    _steps(track, ns)
    recorder.calls = 0
    G, D = ns["new_pair"](0, **SMALL)
    ns["train_one"](G, D, data.digits("train")[:96], arm, 2 * CFG.ada_interval, 0, p=0.5)
    return ns, recorder


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("name", EXERCISES)
def test_the_short_run_trains_with_the_learners_function_when_it_is_right(track, name):
    right = exercise_cell(NOTEBOOK, track, name).rstrip().rsplit("\n", 1)[0]  # the solution's def
    ns, recorder = _check_and_train(track, name, right, arm="ADA")
    assert ns[name] is recorder and recorder.calls >= 1


WRONG = {  # the classic mistake, which the checker names: the reals only
    "pytorch": '''
def discriminator_loss(D, real, fake, augment):
    return F.softplus(-D(augment(real))).mean() + F.softplus(D(fake)).mean()
''',
    "tensorflow": '''
def discriminator_loss(D, real, fake, augment):
    return tf.reduce_mean(tf.nn.softplus(-D(augment(real)))) + tf.reduce_mean(tf.nn.softplus(D(fake)))
''',
}


@pytest.mark.parametrize("track", TRACKS)
def test_the_short_run_trains_with_the_reference_when_the_learners_loss_is_wrong(track, capsys):
    ns, recorder = _check_and_train(track, "discriminator_loss", WRONG[track])
    assert "only the reals go through augment" in capsys.readouterr().out
    _, augment = TRACKS[track]
    assert ns["discriminator_loss"] is augment.discriminator_loss and recorder.calls == 0


@pytest.mark.parametrize("track", TRACKS)
def test_the_stacked_runs_call_the_ada_update_they_are_given(track):
    _, augment = TRACKS[track]
    ns = _steps(track, _namespace(track))
    recorder = _Recorder(augmentation.ada_update)
    runs = [ns["new_pair"](s, **SMALL) for s in (0, 1)]
    hist = augment.train_augmented_gans([G for G, _ in runs], [D for _, D in runs], [data.digits("train")[:96]] * 2,
                                        [0, 1], ["ADA", "none"], 2 * CFG.ada_interval, CFG.batch_size, CFG.lr,
                                        CFG.betas, p=0.0, ada_step=0.3, ada_update=recorder)
    assert recorder.calls == 2  # once per adjustment, for the ADA run only
    assert hist["p"].shape == (2, 2) and (hist["p"][1] == 0).all()
