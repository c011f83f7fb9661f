"""Lesson 04: the notebook's own training step, and the exercise the generator trains with.

The cells are the solution notebook's (setup, the ``BatchNorm`` layer built on ``batchnorm_train``,
the step found by its ``training-step`` tag, the training loop, the short run), executed at budget
``smoke`` in both tracks:

- the short run's generator trains with the learner's ``batchnorm_train`` when its checker accepts
  it, and with the reference when the checker rejects it or it was not attempted;
- the notebook's ``gan_step`` and ``train_gan`` make the updates of the library's ``ct.train_gan``
  (lessons 00 to 03) from the same initial weights, batches and noise, in all three arms of the
  experiment. One known difference, which the TensorFlow notebook states: the library's TensorFlow
  step calls G twice per step, so its generator's BN moving statistics take two updates per step
  where the notebook's take one; those statistics are left out of the TensorFlow comparison;
- the section 4 helpers (``generate``, ``with_fresh_running_stats``, ``warm_up``) find and restore
  the running statistics of the notebook's layer as they do for the framework's own.
"""
from pathlib import Path

import numpy as np
import pytest
from solution_cells import Counting, smoke_namespace, solution_cells

from course_lib import data

ROOT = Path(__file__).resolve().parents[1]
SETUP, LAYER, LOOP, SHORT = "c03", "c13c", "c13f", "c13h"
STEP_TAG = "training-step"
TRACKS = {"pytorch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}


def _cells(track):
    by_id, by_tag = solution_cells("04_batch_norm.ipynb", track)
    missing = [cid for cid in (SETUP, LAYER, LOOP, SHORT) if cid not in by_id]
    assert not missing, f"cells {missing} not found: the test names the notebook's cells by id"
    steps = by_tag.get(STEP_TAG, [])
    assert len(steps) == 1, f"expected one cell tagged {STEP_TAG!r}, found {len(steps)}"
    assert ("backward()" in steps[0] and "opt_d.step()" in steps[0]) or "GradientTape" in steps[0]
    return {**by_id, "step": steps[0]}


@pytest.fixture(params=list(TRACKS))
def notebook(request, monkeypatch):
    """The notebook's namespace after its setup cell, at budget smoke, and its cells."""
    pytest.importorskip(TRACKS[request.param])
    ns = smoke_namespace(monkeypatch)
    cells = _cells(request.param)
    exec(cells[SETUP], ns)
    assert ns["cfg"].budget == "smoke"
    return request.param, ns, cells


def _learner(track, mistake=None):
    """batchnorm_train written in the track's ops, right or with one mistake that changes training:
    normalising with the unbiased variance (torch's x.var(0) default)."""
    if track == "pytorch":
        import torch

        def fn(x, gamma, beta, running_mean, running_var, momentum, eps):
            n = x.shape[0]
            mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
            norm_var = x.var(dim=0) if mistake == "unbiased" else var
            y = gamma * (x - mean) / torch.sqrt(norm_var + eps) + beta
            return (y, (1 - momentum) * running_mean + momentum * mean,
                    (1 - momentum) * running_var + momentum * var * n / (n - 1))
        return fn
    import tensorflow as tf

    def fn(x, gamma, beta, running_mean, running_var, momentum, eps):
        n = tf.cast(tf.shape(x)[0], x.dtype)
        mean, var = tf.reduce_mean(x, axis=0), tf.math.reduce_variance(x, axis=0)
        norm_var = var * n / (n - 1) if mistake == "unbiased" else var
        y = gamma * (x - mean) / tf.sqrt(norm_var + eps) + beta
        return (y, (1 - momentum) * running_mean + momentum * mean,
                (1 - momentum) * running_var + momentum * var * n / (n - 1))
    return fn


def _short_run(ns, cells, learner, through_checker=True):
    """What the exercise cell does (check, keep what the checker returns), then the layer, step and
    loop cells and the short run. Returns the trained generator's weights (running statistics included)."""
    ns["batchnorm_train"] = ns["ex"].batchnorm_train.check(learner) if through_checker else learner
    if isinstance(learner, Counting):
        learner.calls = 0  # from here on, only the run's calls count
    for cid in (LAYER, "step", LOOP, SHORT):
        exec(cells[cid], ns)
    return _weights(ns["G_yours"])


def _weights(model):
    if hasattr(model, "state_dict"):
        return [t.detach().cpu().numpy().copy() for t in model.state_dict().values()]
    return [v.numpy().copy() for v in model.weights]


def _same(a, b, atol=0.0):
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=0, atol=atol) for x, y in zip(a, b))


def test_a_right_batchnorm_train_is_what_the_short_run_trains_with(notebook):
    track, ns, cells = notebook
    learner = Counting(_learner(track))
    trained = _short_run(ns, cells, learner)
    assert ns["batchnorm_train"] is learner, "the checker must return the learner's function when it is right"
    layers = [m for m in (ns["G_yours"].net.modules() if track == "pytorch" else ns["G_yours"].net.layers)
              if isinstance(m, ns["BatchNorm"])]
    assert len(layers) == 2, "the generator's two hidden layers must be normalised by the notebook's BatchNorm"
    if track == "pytorch":  # eager: one call per BN layer per training step
        assert learner.calls >= 2 * ns["cfg"].gan_steps, learner.calls
    else:  # compiled: the function is traced into the step, once per layer
        assert learner.calls >= 2, learner.calls
    reference = _short_run(ns, cells, ns["ex"].batchnorm_train.fallback, through_checker=False)
    assert _same(trained, reference, atol=1e-4), "a right function must train as the reference does"
    assert len(ns["history_yours"]["fcd"]) == ns["cfg"].n_eval_points


def test_a_wrong_batchnorm_train_is_replaced_by_the_reference(notebook):
    track, ns, cells = notebook
    wrong = _learner(track, mistake="unbiased")
    learner = Counting(wrong)
    trained = _short_run(ns, cells, learner)
    assert ns["batchnorm_train"] is not learner, "the checker must not return a wrong function"
    assert learner.calls == 0, "the run called the function the checker rejected"
    reference = _short_run(ns, cells, ns["ex"].batchnorm_train.fallback, through_checker=False)
    assert _same(trained, reference), "with a wrong function the run must be the reference's run"
    forced = _short_run(ns, cells, wrong, through_checker=False)
    assert not _same(forced, reference, atol=1e-4), "the mistake must change training, or this test proves nothing"


def test_an_unattempted_exercise_trains_with_the_reference(notebook):
    track, ns, cells = notebook
    trained = _short_run(ns, cells, None)
    reference = _short_run(ns, cells, ns["ex"].batchnorm_train.fallback, through_checker=False)
    assert _same(trained, reference)


ARMS = {"no BN": (None, False), "BN in G": ("batch", False), "BN in G and D": ("batch", True)}


def _split(track, model):
    """(weights that must match the library's, moving statistics that may not)."""
    if track == "pytorch":
        return _weights(model), []
    return [v.numpy() for v in model.trainable_variables], [v.numpy() for v in model.non_trainable_variables]


@pytest.mark.parametrize("arm", list(ARMS))
def test_the_notebooks_step_makes_the_updates_of_the_librarys_train_gan(notebook, arm):
    """From the same initial weights, batches and noise, the notebook's train_gan (gan_step in a loop)
    and ct.train_gan end with the same weights after the smoke run's steps."""
    track, ns, cells = notebook
    ns["batchnorm_train"] = ns["ex"].batchnorm_train.fallback
    for cid in (LAYER, "step", LOOP):
        exec(cells[cid], ns)
    ct, cfg, seed = ns["ct"], ns["cfg"], 3
    g_norm, d_bn = ARMS[arm]

    def nets():
        ct.seed_everything(seed)
        G = ct.Generator(z_dim=cfg.gan_z_dim, hidden=cfg.gan_hidden, norm=g_norm)
        return G, (ct.Critic(64, (256, 128), norm="batch") if d_bn else ct.Discriminator())

    G_nb, D_nb = nets()
    G_lib, D_lib = nets()
    assert _same(_weights(G_nb), _weights(G_lib)) and _same(_weights(D_nb), _weights(D_lib))
    ns["train_gan"](G_nb, D_nb, seed)
    ct.train_gan(G_lib, D_lib, data.digits("train"), cfg.gan_steps, cfg.batch_size, cfg.gan_lr, seed, cfg.gan_betas,
                 eval_every=cfg.gan_steps)
    atol = 0.0 if track == "pytorch" else 1e-5
    (g_nb, _), (g_lib, _) = _split(track, G_nb), _split(track, G_lib)
    (d_nb, d_stats_nb), (d_lib, d_stats_lib) = _split(track, D_nb), _split(track, D_lib)
    assert not _same(g_nb, _weights(nets()[0])), "the run did not train G"
    assert _same(g_nb, g_lib, atol) and _same(d_nb, d_lib, atol), "the notebook's updates differ from the library's"
    assert _same(d_stats_nb, d_stats_lib, atol), "D's running statistics must move as the library's do"


def test_section_4_helpers_handle_the_notebooks_batchnorm(notebook):
    track, ns, cells = notebook
    ns["batchnorm_train"] = ns["ex"].batchnorm_train.fallback
    exec(cells[LAYER], ns)
    ct, bn, cfg = ns["ct"], ns["bn"], ns["cfg"]
    ct.seed_everything(0)
    G = ct.Generator(z_dim=cfg.gan_z_dim, hidden=cfg.gan_hidden, norm=ns["BatchNorm"])
    layers = bn.bn_layers(G)
    assert len(layers) == 2 and all(isinstance(layer, ns["BatchNorm"]) for layer in layers)
    bn.warm_up(G, 3, 16)
    before = _weights(G)
    z = np.random.default_rng(0).normal(size=(16, cfg.gan_z_dim)).astype(np.float32)
    train, evalm = bn.generate(G, z, True), bn.generate(G, z, False)
    assert not np.allclose(train, evalm, atol=1e-4)
    assert np.allclose(bn.generate(G, z[:1], False), evalm[:1], atol=1e-5)  # eval mode: per sample
    assert np.allclose(bn.generate(G, np.repeat(z[:1], 8, 0), True), bn.generate(G, np.repeat(z[1:2], 8, 0), True),
                       atol=1e-5)  # identical inputs in train mode: the output no longer depends on z
    assert _same(before, _weights(G)), "generate must leave the running statistics alone"
    fresh = bn.with_fresh_running_stats(G, momentum=0.01)
    for layer in bn.bn_layers(fresh):
        assert isinstance(layer, ns["BatchNorm"]) and layer.momentum == pytest.approx(0.01)  # PyTorch's convention
        mean, var = (layer.running_mean, layer.running_var)
        assert np.allclose(np.asarray(mean), 0) and np.allclose(np.asarray(var), 1)
    assert np.allclose(bn.generate(fresh, z, True), train, atol=1e-5)  # the same weights
