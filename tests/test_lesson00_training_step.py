"""Lesson 00: the training steps written out in the notebook, and the exercises the VAE trains with.

The cells are the solution notebook's, executed at budget ``smoke`` in both tracks: the setup cell and
the two exercise cells (by id), the steps (tag ``training-step``: ``train_step``, ``d_step``,
``g_step``) and the loops around them (tag ``training-loop``: ``train_vae_yourself``,
``train_gan_yourself``).

* The library runs of the multi-seed experiment make the updates of the notebook's steps: from the same
  initial weights, batches and noise, ``ct.train_vae`` (given the learner's functions, as the notebook
  gives them) ends at the weights of ``train_vae_yourself``, and ``ct.train_gan`` at those of
  ``train_gan_yourself``, on the digits and on the 2-D ring, with the same losses.
* ``train_step`` trains with the learner's ``reparameterize`` and ``negative_elbo`` when their checkers
  accept them, and with the reference when a checker rejects them (the rejected function is never
  called) or when the exercise was not attempted; the mistakes used here change training, so the test
  can tell the runs apart. The multi-seed cell hands the learner's functions to ``ct.train_vae`` too.
"""
import numpy as np
import pytest
from solution_cells import Counting, model_state, smoke_namespace, solution_cells

from course_lib import data, metrics

NOTEBOOK = "00_baselines.ipynb"
SETUP, REPARAMETERIZE, NEGATIVE_ELBO, VAE_RUNS = "c04", "c17", "c19", "c21"
TRACKS = {"pytorch": "course_lib.torch", "tensorflow": "course_lib.tensorflow"}
SEED = 3  # not a seed the notebook runs at smoke, so nothing is tuned to it
STEPS = 12  # enough for Adam's moments and the data order to matter; the runs compare weights after them
ATOL = {"pytorch": 1e-6, "tensorflow": 1e-5}  # float32 round-off of one compiled graph against another


def _cells(track):
    by_id, by_tag = solution_cells(NOTEBOOK, track)
    missing = [cid for cid in (SETUP, REPARAMETERIZE, NEGATIVE_ELBO, VAE_RUNS) if cid not in by_id]
    assert not missing, f"cells {missing} not found: the test names the notebook's cells by id"
    steps, loops = by_tag.get("training-step", []), by_tag.get("training-loop", [])
    assert len(steps) == 3 and len(loops) == 2, "train_step, d_step and g_step, and the two loops, carry their tags"
    text = "\n".join(steps)
    assert ("backward()" in text and "opt.step()" in text) or ("GradientTape" in text and "apply_gradients" in text)
    return by_id, steps, loops


@pytest.fixture(params=list(TRACKS))
def notebook(request, monkeypatch):
    """The notebook's namespace after its setup cell, its two exercise cells, its steps and its loops."""
    pytest.importorskip(TRACKS[request.param])
    ns = smoke_namespace(monkeypatch)
    by_id, steps, loops = _cells(request.param)
    for source in (by_id[SETUP], by_id[REPARAMETERIZE], by_id[NEGATIVE_ELBO], *steps, *loops):
        exec(source, ns)
    assert ns["cfg"].budget == "smoke"
    return request.param, ns, (by_id, steps, loops)



def _same(a, b, atol=0.0):
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=0, atol=atol) for x, y in zip(a, b))


def _twins(ns, build):
    """Two networks with the same initial weights, each built after seeding with SEED (as the notebook does)."""
    ct = ns["ct"]
    ct.seed_everything(SEED)
    first = build()
    ct.seed_everything(SEED)
    return first, build()


# --------------------------------------------------------------------------- the library runs = the steps

def test_train_vae_makes_the_updates_of_the_notebooks_train_step(notebook):
    track, ns, _ = notebook
    ct, cfg, x = ns["ct"], ns["cfg"], data.digits("train")
    mine, theirs = _twins(ns, lambda: ct.VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden))
    start = model_state(track, mine)
    assert _same(start, model_state(track, theirs)), "seeding must give both VAEs the same initial weights"
    losses = ns["train_vae_yourself"](mine, x, STEPS, SEED)
    history = ct.train_vae(theirs, x, STEPS, cfg.batch_size, cfg.vae_lr, SEED, eval_every=STEPS,
                           reparameterize_fn=ns["reparameterize"], negative_elbo_fn=ns["negative_elbo"])
    assert len(losses) == STEPS and history["loss"][0] == pytest.approx(np.mean(losses), rel=1e-5)
    assert not _same(model_state(track, mine), start, atol=1e-4), "the notebook's loop did not train"
    assert _same(model_state(track, mine), model_state(track, theirs), ATOL[track]), "ct.train_vae made other updates"


def _gan_setting(ns, where):
    """(builder of G and D, data, batch size, rate, betas) of the notebook's digits GAN or its 2-D GAN."""
    ct, cfg = ns["ct"], ns["cfg"]
    if where == "digits":
        return (lambda: (ct.Generator(z_dim=cfg.gan_z_dim, hidden=cfg.gan_hidden), ct.Discriminator()),
                data.digits("train"), cfg.batch_size, cfg.gan_lr, cfg.gan_betas)
    return (lambda: (ct.Generator(z_dim=cfg.toy_z_dim, hidden=cfg.toy_hidden, out_dim=2, output="linear"),
                     ct.Discriminator(in_dim=2, hidden=cfg.toy_hidden)),
            data.mixture(cfg.toy_mixture, 5000, SEED), cfg.toy_batch_size, cfg.toy_lr, cfg.toy_betas)


@pytest.mark.parametrize("where", ["digits", "ring"])
def test_train_gan_makes_the_updates_of_the_notebooks_d_step_and_g_step(notebook, where):
    track, ns, _ = notebook
    build, x, batch_size, lr, betas = _gan_setting(ns, where)
    (G1, D1), (G2, D2) = _twins(ns, build)
    start = model_state(track, G1) + model_state(track, D1)
    assert _same(start, model_state(track, G2) + model_state(track, D2)), "seeding must give the same initial weights"
    losses = ns["train_gan_yourself"](G1, D1, x, STEPS, batch_size, lr, betas, SEED)
    history = ns["ct"].train_gan(G2, D2, x, STEPS, batch_size, lr, SEED, betas, eval_every=STEPS)
    for key in ("d_loss", "g_loss"):
        assert history[key][0] == pytest.approx(np.mean(losses[key]), rel=1e-5), f"another {key}"
    assert not _same(model_state(track, G1), start[:len(model_state(track, G1))], atol=1e-4), "the loop did not train G"
    assert _same(model_state(track, G1), model_state(track, G2), ATOL[track]), "ct.train_gan moved G otherwise"
    assert _same(model_state(track, D1), model_state(track, D2), ATOL[track]), "ct.train_gan moved D otherwise"


# --------------------------------------------------------------------------- the learner's functions train

def _learner(track, name, mistake=False):
    """The exercise written in the track's ops, right or with a mistake its checker names: the variance
    as the standard deviation (reparameterize), the reconstruction averaged over pixels (negative_elbo)."""
    if track == "pytorch":
        import torch
        import torch.nn.functional as F
        exp, bce = torch.exp, lambda x, logits: F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        total, mean = (lambda a: a.sum(dim=1)), (lambda a: a.mean(dim=1))
    else:
        import tensorflow as tf
        exp, bce = tf.exp, lambda x, logits: tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits)
        total, mean = (lambda a: tf.reduce_sum(a, axis=1)), (lambda a: tf.reduce_mean(a, axis=1))
    if name == "reparameterize":
        return lambda mu, logvar, eps: mu + exp(logvar if mistake else 0.5 * logvar) * eps
    return lambda x, logits, mu, logvar: ((mean if mistake else total)(bce(x, logits))
                                          - 0.5 * total(1 + logvar - mu ** 2 - exp(logvar)))


def _short_run(track, ns, cells, name, learner, through_checker=True):
    """What the exercise cell does (check, keep what the checker returns), then the step and loop cells as
    the notebook runs them after it, and a short run from seeded weights. Returns the trained weights."""
    _, steps, loops = cells
    ns[name] = getattr(ns["ex"], name).check(learner) if through_checker else learner
    if isinstance(learner, Counting):
        learner.calls = 0  # from here on, only the run's calls count
    for source in (*steps, *loops):
        exec(source, ns)
    ct, cfg = ns["ct"], ns["cfg"]
    ct.seed_everything(SEED)
    vae = ct.VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden)
    ns["train_vae_yourself"](vae, data.digits("train"), STEPS, SEED)
    return model_state(track, vae)


def _reference_run(track, ns, cells, name):
    return _short_run(track, ns, cells, name, getattr(ns["ex"], name).fallback, through_checker=False)


@pytest.mark.parametrize("name", ["reparameterize", "negative_elbo"])
def test_a_right_function_is_what_train_step_trains_with(notebook, name):
    track, ns, cells = notebook
    learner = Counting(_learner(track, name))
    trained = _short_run(track, ns, cells, name, learner)
    assert ns[name] is learner, "the checker must return the learner's function when it is right"
    if track == "pytorch":  # eager: one call per step
        assert learner.calls == STEPS, learner.calls
    else:  # compiled: called while train_step is traced
        assert learner.calls >= 1, learner.calls
    reference = _reference_run(track, ns, cells, name)
    assert _same(trained, reference, ATOL[track]), "a right function must train as the reference does"


@pytest.mark.parametrize("name", ["reparameterize", "negative_elbo"])
def test_a_wrong_function_is_replaced_by_the_reference(notebook, name, capsys):
    track, ns, cells = notebook
    wrong = _learner(track, name, mistake=True)
    learner = Counting(wrong)
    trained = _short_run(track, ns, cells, name, learner)
    assert "not quite" in capsys.readouterr().out
    assert ns[name] is not learner, "the checker must not return a wrong function"
    assert learner.calls == 0, "the run called the function the checker rejected"
    reference = _reference_run(track, ns, cells, name)
    assert _same(trained, reference), "with a wrong function the run must be the reference's run"
    forced = _short_run(track, ns, cells, name, wrong, through_checker=False)
    assert not _same(forced, reference, atol=1e-4), "the mistake must change training, or this test proves nothing"


@pytest.mark.parametrize("name", ["reparameterize", "negative_elbo"])
def test_an_unattempted_exercise_trains_with_the_reference(notebook, name):
    track, ns, cells = notebook
    trained = _short_run(track, ns, cells, name, None)
    assert ns[name] is getattr(ns["ex"], name).fallback
    assert _same(trained, _reference_run(track, ns, cells, name))


def test_the_multi_seed_runs_train_with_the_learners_functions(notebook):
    """The notebook's VAE runs (its cell, at smoke) hand the checked functions to ct.train_vae."""
    track, ns, (by_id, _, _) = notebook
    learners = {name: Counting(_learner(track, name)) for name in ("reparameterize", "negative_elbo")}
    for name, learner in learners.items():
        ns[name] = getattr(ns["ex"], name).check(learner)
        assert ns[name] is learner
        learner.calls = 0
    ns.update(x_train=data.digits("train"), x_val=data.digits("val"), x_test=data.digits("test"),
              n_eval=metrics.n_eval())
    exec(by_id[VAE_RUNS], ns)
    assert len(ns["vae_runs"]) == len(ns["seeds"])
    least = len(ns["seeds"]) * (ns["cfg"].vae_steps if track == "pytorch" else 1)  # TensorFlow: one trace per run
    assert all(learner.calls >= least for learner in learners.values()), {n: f.calls for n, f in learners.items()}
