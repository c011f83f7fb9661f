"""Lesson 10, part 2: the recipe's training step written out in the solution notebooks (the cells
tagged ``training-step``) computes the same updates as the course library's stacked runs
(``recipe.train_recipe_gans``), which the notebook's ablation uses, for every trained arm: the
generators, the discriminators and the moving averages agree, ADA's changing p and per-run rates
(TTUR on some runs only) included; and the notebook's run trains with the learner's
``recipe_d_loss`` when the checker accepts it, with the reference when it does not.

The step cells are executed as they are in the notebook, in a namespace that holds what the
notebook defines before them (``cfg``, ``ct``, the function the checker returned, ...)."""

import numpy as np
import pytest
from solution_cells import (
    Counting,
    assert_same_pairs,
    exercise_cell,
    framework_namespace,
    trainable_weights,
    training_steps,
)

from course_lib import budgets, data
from course_lib.progress import progress
from course_lib.techniques import augmentation, recipe as recipe_arms

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import ensembles as ensembles_tf, recipe as recipe_tf  # noqa: E402
from course_lib.tensorflow.augment import translate as translate_tf  # noqa: E402
from course_lib.torch import ensembles as ensembles_torch, recipe as recipe_torch  # noqa: E402
from course_lib.torch.augment import translate as translate_torch  # noqa: E402

NOTEBOOK = "10_capstone"
TRACKS = {"pytorch": (ct_torch, recipe_torch, ensembles_torch, translate_torch),
          "tensorflow": (ct_tf, recipe_tf, ensembles_tf, translate_tf)}
# smoke settings, with ADA's step large and its target low so that p rises within a few steps
CFG = budgets.Config({**budgets.config("10_capstone", "smoke"), "recipe_ada_step": 0.3, "recipe_ada_target": -0.5,
                      "recipe_ema_decay": 0.5})
SMALL = dict(hidden=(16, 32), d_hidden=(32, 16))


def _namespace(track, learner=True):
    ct, recipe, ensembles, translate = TRACKS[track]
    ns = {"cfg": CFG, "ct": ct, "np": np, "data": data, "progress": progress, "augmentation": augmentation,
          "recipe_arms": recipe_arms, "recipe": recipe, "ensembles": ensembles, "translate": translate, "SEED": 0}
    ns.update(framework_namespace(track))
    if learner:
        exec(exercise_cell(f"{NOTEBOOK}.ipynb", track, "recipe_d_loss"), ns)
    return ns


def _steps(track, ns):
    # part 2's step: the D step, the G step with the average, new_recipe_pair and the loop
    steps = training_steps(f"{NOTEBOOK}.ipynb", track,
                           ("recipe_d_step", "recipe_g_step", "ema_step", "new_recipe_pair", "train_recipe_one"))
    for source in steps:
        exec(source, ns)
    return ns


@pytest.mark.parametrize("track", TRACKS)
def test_notebook_step_matches_the_stacked_runs(track):
    """Every trained arm, one seed each (two for the full recipe): the notebook's loop run after run ends
    at the weights and moving averages of one stacked library run, with per-run rates and ADA's p."""
    ns = _steps(track, _namespace(track))
    _, recipe, ensembles, _ = TRACKS[track]
    x = data.digits("train")[:96]
    runs = [(arm, 0) for arm in recipe_arms.TRAINED] + [("full recipe", 1)]
    steps = 2 * CFG.recipe_ada_interval
    mine = [ns["new_recipe_pair"](s, **SMALL) for _, s in runs]
    averages = [ns["train_recipe_one"](G, D, x, recipe_arms.TRAINED[arm], steps, s)
                for (G, D), (arm, s) in zip(mine, runs)]
    theirs = [ns["new_recipe_pair"](s, **SMALL) for _, s in runs]
    lr_d, gamma, augmented = recipe_arms.run_settings([a for a, _ in runs], CFG.recipe_lr, CFG.recipe_ttur_ratio,
                                                      CFG.recipe_r1_gamma)
    Gs = [G for G, _ in theirs]
    out = recipe.train_recipe_gans(
        Gs, [D for _, D in theirs], [x] * len(runs), [s for _, s in runs], steps, CFG.recipe_batch_size,
        CFG.recipe_lr, lr_d, gamma, augmented, CFG.recipe_betas, CFG.recipe_ema_decay, CFG.recipe_ada_interval,
        p=CFG.recipe_ada_p0, adaptive=[bool(a) for a in augmented], ada_target=CFG.recipe_ada_target,
        ada_step=CFG.recipe_ada_step, ada_interval=CFG.recipe_ada_interval)
    assert_same_pairs(track, mine, theirs, atol=2e-6)
    stacked_averages = recipe.generators_at(Gs, out["ema"][-1])
    for average, (G, _), G_stacked in zip(averages, mine, stacked_averages):
        for a, b in zip(trainable_weights(track, ensembles.copy_with(G, average)), trainable_weights(track, G_stacked)):
            np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
    assert out["step"] == [CFG.recipe_ada_interval, steps] and len(out["raw"]) == 2
    assert (out["p"][1, -1] > 0) and (out["p"][-1, -1] > 0) and (out["p"][4] == CFG.recipe_ada_p0).all()
    # the arms did differ: R1, TTUR and the augmentation each change the trained weights
    full = trainable_weights(track, mine[1][0])[0]
    assert all(not np.allclose(full, trainable_weights(track, mine[i][0])[0]) for i in (2, 3, 4))


def _check_and_train(track, learner_source):
    """The notebook's exercise cell with ``learner_source`` as the learner's definition (its checker line
    kept), then the step cells and a short full-recipe run, counting the learner's calls in training only."""
    ns = _namespace(track, learner=False)
    checker_line = exercise_cell(f"{NOTEBOOK}.ipynb", track, "recipe_d_loss").rstrip().splitlines()[-1]
    assert checker_line == "recipe_d_loss = ex.recipe_d_loss.check(recipe_d_loss)"
    exec(learner_source, ns)
    counting = ns["recipe_d_loss"] = Counting(ns["recipe_d_loss"])
    exec(checker_line, ns)
    _steps(track, ns)
    counting.calls = 0
    G, D = ns["new_recipe_pair"](0, **SMALL)
    ns["train_recipe_one"](G, D, data.digits("train")[:96], recipe_arms.TRAINED["full recipe"], 3, 0)
    return ns, counting


@pytest.mark.parametrize("track", TRACKS)
def test_the_short_run_trains_with_the_learners_loss_when_it_is_right(track):
    right = exercise_cell(f"{NOTEBOOK}.ipynb", track, "recipe_d_loss").rstrip().rsplit("\n", 1)[0]
    ns, counting = _check_and_train(track, right)
    assert ns["recipe_d_loss"] is counting and counting.calls >= 1  # TensorFlow: traced once, into the compiled step


WRONG = {  # R1 at the fakes, which the checker names
    "pytorch": '''
def recipe_d_loss(D, real, fake, augment, gamma):
    x = augment(fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    d_real = D(augment(real))
    return F.softplus(-d_real).mean() + F.softplus(D(x)).mean() + 0.5 * gamma * grad.pow(2).sum(1).mean()
''',
    "tensorflow": '''
def recipe_d_loss(D, real, fake, augment, gamma):
    x = augment(fake)
    with tf.GradientTape() as inner:
        inner.watch(x)
        d_fake = D(x)
    grad = inner.gradient(d_fake, x)
    return (tf.reduce_mean(tf.nn.softplus(-D(augment(real)))) + tf.reduce_mean(tf.nn.softplus(d_fake))
            + 0.5 * gamma * tf.reduce_mean(tf.reduce_sum(grad ** 2, 1)))
''',
}


@pytest.mark.parametrize("track", TRACKS)
def test_the_short_run_trains_with_the_reference_when_the_learners_loss_is_wrong(track, capsys):
    ns, counting = _check_and_train(track, WRONG[track])
    assert "the penalty is taken at the fakes" in capsys.readouterr().out
    assert ns["recipe_d_loss"] is TRACKS[track][1].recipe_d_loss and counting.calls == 0
