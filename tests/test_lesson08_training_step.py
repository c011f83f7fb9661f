"""Lesson 08: the training step written out in the solution notebooks (the cells tagged
``training-step``) computes the same updates as the course library's stacked runs
(``conditional.train_conditional_gans``), which the notebook's multi-seed experiments use, for the
concatenated cGAN and for AC-GAN at several auxiliary weights, on digits and on 2-D points; and the
notebook's runs train with the learner's functions when the checkers accept them, with the references
when they do not.

The step cells are executed as they are in the notebook, in a namespace that holds what the notebook
defines before them (``cfg``, ``ct``, the functions the checkers returned, ...)."""
import numpy as np
import pytest
from solution_cells import (
    Counting,
    assert_same_pairs,
    exercise_cell,
    framework_namespace,
    solution_cells,
    trainable_weights,
)

from course_lib import budgets, data
from course_lib.progress import progress
from course_lib.techniques import multitask

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import conditional as cond_tf  # noqa: E402
from course_lib.torch import conditional as cond_torch  # noqa: E402

TRACKS = {"pytorch": (ct_torch, cond_torch), "tensorflow": (ct_tf, cond_tf)}
CFG = budgets.config("08_multitask", "smoke")
NOTEBOOK = "08_multitask.ipynb"
EXERCISES = ("multitask_loss", "acgan_d_loss", "acgan_g_loss")
SMALL = dict(hidden=(16, 32), d_hidden=(32, 16))



def _namespace(track, learner=True, skip=()):
    ct, cond = TRACKS[track]
    ns = {"cfg": CFG, "ct": ct, "np": np, "data": data, "progress": progress, "multitask": multitask,
          "conditional": cond, "SEED": 0}
    ns.update(framework_namespace(track))
    if learner:
        for name in EXERCISES:
            if name not in skip:
                exec(exercise_cell(NOTEBOOK, track, name), ns)
    return ns


def _steps(track, ns):
    _, by_tag = solution_cells(NOTEBOOK, track)
    steps = by_tag["training-step"]
    assert len(steps) == 5, "d_step, g_step, new_pair/train_one, vae_step and train_vae carry the tag training-step"
    for source in steps:
        exec(source, ns)
    return ns




@pytest.mark.parametrize("track", TRACKS)
def test_notebook_step_matches_the_stacked_runs_on_digits(track):
    """Both kinds, two seeds, AC-GAN at weights 0 and 1: the notebook's loop run after run ends at the
    weights of one stacked library run per kind."""
    ns = _steps(track, _namespace(track))
    _, cond = TRACKS[track]
    x, y = (a[:96] for a in data.digits("train", with_labels=True))
    for kind, weights in (("concat", [0.0, 0.0]), ("AC-GAN", [0.0, 1.0])):
        runs = list(zip(weights, (0, 1)))
        mine = [ns["new_pair"](s, kind, **SMALL) for _, s in runs]
        for (G, D), (w, s) in zip(mine, runs):
            ns["train_one"](G, D, x, y, 4, s, weight=w)
        theirs = [ns["new_pair"](s, kind, **SMALL) for _, s in runs]
        cond.train_conditional_gans([G for G, _ in theirs], [D for _, D in theirs], [x, x], [y, y], [0, 1], weights,
                                    4, CFG.batch_size, CFG.lr, CFG.betas)
        assert_same_pairs(track, mine, theirs, atol=2e-6)
    # the weight mattered: the same seed with and without the class loss ends elsewhere
    without = ns["new_pair"](0, "AC-GAN", **SMALL)[0]
    assert not np.allclose(trainable_weights(track, mine[0][0])[0], trainable_weights(track, without)[0])


@pytest.mark.parametrize("track", TRACKS)
def test_notebook_step_matches_the_stacked_runs_on_2d_points(track):
    ns = _steps(track, _namespace(track))
    _, cond = TRACKS[track]
    nets = dict(dim=2, hidden=(8, 8), d_hidden=(8, 8), z_dim=2, n_classes=2)
    sets = {s: multitask.two_classes(64, s) for s in (0, 1)}
    runs = [(0.3, 0), (3.0, 1)]
    mine = [ns["new_pair"](s, "AC-GAN", **nets) for _, s in runs]
    for (G, D), (w, s) in zip(mine, runs):
        ns["train_one"](G, D, *sets[s], 5, s, weight=w, lr=CFG.toy_lr, batch_size=32)
    theirs = [ns["new_pair"](s, "AC-GAN", **nets) for _, s in runs]
    cond.train_conditional_gans([G for G, _ in theirs], [D for _, D in theirs], [sets[s][0] for _, s in runs],
                                [sets[s][1] for _, s in runs], [s for _, s in runs], [w for w, _ in runs], 5, 32,
                                CFG.toy_lr, CFG.betas)
    assert_same_pairs(track, mine, theirs, atol=2e-6)


def _check_and_run(track, name, learner_source):
    """The notebook's exercise cell for ``name`` with ``learner_source`` as the learner's definition (its
    checker line kept), then the step cells and a short run; the learner's calls counted during training."""
    ns = _namespace(track, skip=(name,))
    checker_line = exercise_cell(NOTEBOOK, track, name).rstrip().splitlines()[-1]
    assert checker_line == f"{name} = ex.{name}.check({name})"
    exec(learner_source, ns)
    counting = ns[name] = Counting(ns[name])
    exec(checker_line, ns)
    _steps(track, ns)
    counting.calls = 0
    x, y = (a[:96] for a in data.digits("train", with_labels=True))
    if name == "multitask_loss":
        labelled = multitask.few_labels(y, 2)
        as_tensor = torch.from_numpy if track == "pytorch" else tf.constant
        ns.update(x_train=x, x_lab=as_tensor(x[labelled]), y_lab=as_tensor(y[labelled]))
        ns["cfg"] = budgets.Config({**CFG, "vae_steps": 3, "vae_batch_size": 16})
        ns["train_vae"](0, 1.0)
    else:
        G, D = ns["new_pair"](0, "AC-GAN", **SMALL)
        ns["train_one"](G, D, x, y, 2, 0)
    return ns, counting


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("name", EXERCISES)
def test_the_runs_train_with_the_learners_function_when_it_is_right(track, name):
    right = exercise_cell(NOTEBOOK, track, name).rstrip().rsplit("\n", 1)[0]  # the solution's def
    ns, counting = _check_and_run(track, name, right)
    assert ns[name] is counting and counting.calls >= 1


WRONG = {  # the mistake the brief names first: the fakes labelled with the real batch's labels
    "pytorch": '''
def acgan_d_loss(src_real, cls_real, y_real, src_fake, cls_fake, y_fake, weight):
    source = F.softplus(-src_real).mean() + F.softplus(src_fake).mean()
    return source + weight * (F.cross_entropy(cls_real, y_real) + F.cross_entropy(cls_fake, y_real))
''',
    "tensorflow": '''
def acgan_d_loss(src_real, cls_real, y_real, src_fake, cls_fake, y_fake, weight):
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits
    source = tf.reduce_mean(tf.nn.softplus(-src_real)) + tf.reduce_mean(tf.nn.softplus(src_fake))
    return source + weight * (tf.reduce_mean(ce(y_real, cls_real)) + tf.reduce_mean(ce(y_real, cls_fake)))
''',
}


@pytest.mark.parametrize("track", TRACKS)
def test_the_run_trains_with_the_reference_when_the_learners_loss_is_wrong(track, capsys):
    ns, counting = _check_and_run(track, "acgan_d_loss", WRONG[track])
    assert "uses the real batch's labels" in capsys.readouterr().out
    _, cond = TRACKS[track]
    assert ns["acgan_d_loss"] is cond.acgan_d_loss and counting.calls == 0
