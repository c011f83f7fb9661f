"""Lesson 05: the training step written out in the solution notebooks (the cells tagged
``training-step``) computes the same updates as the course library's runs, single and stacked,
which the notebook's multi-seed experiment uses; and the notebook's short run trains with the
learner's penalty when the checker accepts it, with the reference when it does not.

The step cells are executed as they are in the notebook, in a namespace that holds what the
notebook defines before them (``cfg``, ``ct``, the penalties the checkers returned, ...)."""

import numpy as np
import pytest
from solution_cells import assert_same_pairs, exercise_cell, framework_namespace, solution_cells, trainable_weights

from course_lib import budgets, data
from course_lib.progress import progress

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import wgan as wgan_tf  # noqa: E402
from course_lib.torch import wgan as wgan_torch  # noqa: E402

NOTEBOOK = "05_gradient_penalty.ipynb"
TRACKS = {"pytorch": (ct_torch, wgan_torch), "tensorflow": (ct_tf, wgan_tf)}
CFG = budgets.config("05_gradient_penalty", "smoke")
# Each variant's settings as the notebook's VARIANTS gives them, at the smoke budget (weights larger
# than the notebook's, so that the penalties and the clipping move the weights in a few steps)
SETTINGS = {"gan": dict(betas=CFG.gan_betas), "gan-r1": dict(betas=CFG.gan_betas, weight=1.0),
            "wgan-clip": dict(betas=CFG.clip_betas, n_critic=2, weight=0.05),
            "wgan-gp": dict(betas=CFG.gp_betas, n_critic=2, weight=10.0)}
HIDDEN = (16, 16)




def _namespace(track, learner=True):
    """What the notebook has defined when its training-step cells run: its imports, cfg, and the
    exercise functions as the checkers returned them (the solution's own when ``learner``)."""
    ct, _ = TRACKS[track]
    ns = {"cfg": CFG, "ct": ct, "np": np, "data": data, "progress": progress, "SEED": 0}
    ns.update(framework_namespace(track))
    if learner:
        for name in ("sample_interpolation_weights", "gradient_penalty", "r1_penalty"):
            exec(exercise_cell(NOTEBOOK, track, name), ns)
    steps = solution_cells(NOTEBOOK, track)[1]["training-step"]
    assert len(steps) == 3, "the notebook's critic step, generator step and loop carry the tag training-step"
    for source in steps:
        exec(source, ns)
    return ns




def _library_kw(variant):
    return dict(lr=CFG.toy_lr, lr_d=CFG.toy_lr_d, **SETTINGS[variant])


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("variant", list(SETTINGS))
def test_notebook_step_matches_the_library_single_run(track, variant):
    """A few steps of the notebook's step (with the solution's penalties, as the checkers return
    them) end at the weights of wgan.train_critic_gan, from the same weights and draws."""
    ns = _namespace(track)
    _, wgan = TRACKS[track]
    x = data.mixture("ring8", 512, seed=0)
    mine, theirs = ns["new_pair"](3, HIDDEN), ns["new_pair"](3, HIDDEN)
    assert_same_pairs(track, [mine], [theirs], atol=0)  # the same initial weights
    ns["train_one"](*mine, x, variant, 4, 3, **SETTINGS[variant])
    wgan.train_critic_gan(*theirs, x, variant, 4, CFG.toy_batch_size, 3, eval_every=4, **_library_kw(variant))
    assert_same_pairs(track, [mine], [theirs], atol=1e-6)
    if variant == "wgan-clip":  # the clipping ran, after the step
        assert max(np.abs(w).max() for w in trainable_weights(track, mine[1])) <= SETTINGS[variant]["weight"] + 1e-7


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("variant", list(SETTINGS))
def test_notebook_step_matches_the_stacked_runs(track, variant):
    """The notebook's step, run after run, makes the updates of the stacked runs
    (wgan.train_critic_gans) that the multi-seed experiment uses: the weights agree to float
    round-off after several steps, in both tracks.

    Why a tight tolerance holds for TensorFlow's WGANs here: a WGAN loss makes the critic's last
    bias gradient exactly zero in exact arithmetic (its real and fake terms cancel). Were the two
    paths to round that zero differently, Adam, which divides a gradient by its own size, would
    turn the round-off into steps of up to the learning rate (tests/test_lesson05_gradient_penalty.py
    meets that and compares loosely). With a batch of 64, a power of two, every term 1/64 and
    every partial sum is exact in float32, so both paths compute exactly zero, in any order."""
    assert CFG.toy_batch_size in (32, 64, 128, 256)
    ns = _namespace(track)
    _, wgan = TRACKS[track]
    seeds, steps = [0, 1, 2], 4
    xs = [data.mixture("ring8", 512, seed=s) for s in seeds]
    mine = [ns["new_pair"](s, HIDDEN) for s in seeds]
    for (G, D), x, s in zip(mine, xs, seeds):
        ns["train_one"](G, D, x, variant, steps, s, **SETTINGS[variant])
    theirs = [ns["new_pair"](s, HIDDEN) for s in seeds]
    wgan.train_critic_gans([G for G, _ in theirs], [D for _, D in theirs], xs, variant, steps, CFG.toy_batch_size,
                           seeds, eval_every=steps, **_library_kw(variant))
    assert_same_pairs(track, mine, theirs, atol=1e-6)


def _expected_calls(track):
    """PyTorch calls the penalty once per critic step; TensorFlow once, when it traces the step
    into the graph that every critic step then runs."""
    return 3 * SETTINGS["wgan-gp"]["n_critic"] if track == "pytorch" else 1


class _Recorder:
    """A learner's function that records its calls (the checker sees a plain function)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def _check_and_train(track, learner_source, name):
    """Run the notebook's exercise cell for ``name`` with ``learner_source`` as the learner's
    definition (its own checker line kept), then the step cells, then a short WGAN-GP run.
    Returns the namespace and the learner's recorder, its calls counted during training only."""
    ns = _namespace(track, learner=False)
    for other in ("sample_interpolation_weights", "gradient_penalty", "r1_penalty"):
        if other != name:
            exec(exercise_cell(NOTEBOOK, track, other), ns)
    checker_line = exercise_cell(NOTEBOOK, track, name).rstrip().splitlines()[-1]
    assert checker_line == f"{name} = ex.{name}.check({name})"
    exec(learner_source, ns)
    recorder = ns[name] = _Recorder(ns[name])
    exec(checker_line, ns)
    for source in solution_cells(NOTEBOOK, track)[1]["training-step"]:  # re-defined after the check, as in the notebook
        exec(source, ns)
    recorder.calls = 0
    G, D = ns["new_pair"](0, HIDDEN)
    ns["train_one"](G, D, data.mixture("ring8", 512, seed=0), "wgan-gp", 3, 0, **SETTINGS["wgan-gp"])
    return ns, recorder, (G, D)


@pytest.mark.parametrize("track", TRACKS)
def test_the_short_run_trains_with_the_learners_penalty_when_it_is_right(track):
    right = exercise_cell(NOTEBOOK, track, "gradient_penalty").rstrip().rsplit("\n", 1)[0]  # the solution's def
    ns, recorder, _ = _check_and_train(track, right, "gradient_penalty")
    assert ns["gradient_penalty"] is recorder
    assert recorder.calls == _expected_calls(track)


WRONG = {  # the per-batch norm, a mistake the checker names
    "pytorch": '''
def gradient_penalty(critic, real, fake, u):
    x_hat = (u * real + (1.0 - u) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (torch.sqrt((g ** 2).sum() + 1e-12) - 1.0) ** 2
''',
    "tensorflow": '''
def gradient_penalty(critic, real, fake, u):
    x_hat = u * real + (1.0 - u) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = critic(x_hat, training=True)
    g = tape.gradient(out, x_hat)
    return (tf.sqrt(tf.reduce_sum(g ** 2) + 1e-12) - 1.0) ** 2
''',
}


@pytest.mark.parametrize("track", TRACKS)
def test_the_short_run_trains_with_the_reference_when_the_learners_penalty_is_wrong(track, capsys):
    ns, recorder, (G, D) = _check_and_train(track, WRONG[track], "gradient_penalty")
    assert "not quite" in capsys.readouterr().out
    penalties = __import__(f"course_lib.{'torch' if track == 'pytorch' else 'tensorflow'}.penalties",
                           fromlist=["gradient_penalty"])
    assert ns["gradient_penalty"] is penalties.gradient_penalty
    assert recorder.calls == 0  # the wrong function never trained the model
    # and the run equals the library's, which uses the reference penalty
    _, wgan = TRACKS[track]
    theirs = ns["new_pair"](0, HIDDEN)
    wgan.train_critic_gan(*theirs, data.mixture("ring8", 512, seed=0), "wgan-gp", 3, CFG.toy_batch_size, 0,
                          eval_every=3, **_library_kw("wgan-gp"))
    assert_same_pairs(track, [(G, D)], [theirs], atol=1e-6)


@pytest.mark.parametrize("track", TRACKS)
def test_the_short_run_draws_u_with_the_learners_function_or_the_reference(track, capsys):
    """The interpolation weights come from what the checker returned: the learner's function
    when right (called once per critic step), the reference when wrong (normal, not uniform)."""
    right = exercise_cell(NOTEBOOK, track, "sample_interpolation_weights").rstrip().rsplit("\n", 1)[0]
    ns, recorder, _ = _check_and_train(track, right, "sample_interpolation_weights")
    # drawn in Python before each critic step, in both tracks
    assert ns["sample_interpolation_weights"] is recorder and recorder.calls == 3 * SETTINGS["wgan-gp"]["n_critic"]
    normal = "def sample_interpolation_weights(n, rng):\n    return rng.standard_normal((n, 1)).astype(np.float32)\n"
    ns, recorder, _ = _check_and_train(track, normal, "sample_interpolation_weights")
    assert "not quite" in capsys.readouterr().out
    assert ns["sample_interpolation_weights"] is not recorder and recorder.calls == 0


def test_the_clipping_controls_rmsprop_is_the_same_update_in_both_tracks():
    """The control arm's RMSprop (wgan._optimizer("rmsprop")) takes PyTorch's step,
    lr * g / (sqrt(v) + eps), in both tracks; Keras' own divides by sqrt(v + eps), which for a
    clipped critic's tiny gradients is a far smaller step."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 4)).astype(np.float32)
    grads = [(rng.normal(size=(3, 4)) * scale).astype(np.float32) for scale in (1e-6, 1e-3, 1.0, 1e-5)]
    w_torch = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = wgan_torch._optimizer([w_torch], "rmsprop", 5e-5, None)
    w_tf = tf.Variable(w0.copy())
    opt_tf = wgan_tf._optimizer("rmsprop", 5e-5, None)
    opt_tf.build([w_tf])
    step_tf = tf.function(lambda g: opt_tf.apply_gradients([(g, w_tf)]))  # compiled, as in training
    for g in grads:
        w_torch.grad = torch.from_numpy(g)
        opt.step()
        step_tf(tf.constant(g))
        np.testing.assert_allclose(w_tf.numpy(), w_torch.detach().numpy(), rtol=0, atol=1e-7)
    assert np.abs(w_tf.numpy() - w0).max() > 1e-5  # the tiny gradients did move the weights
