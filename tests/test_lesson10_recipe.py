"""Lesson 10, part 2 (the full recipe): Adam with one rate per run equals the framework's Adam run by
run; R1 equals its closed form on a linear discriminator in both tracks; the arms and the selection
are what the notebook says; the checker accepts the reference and rejects each known wrong answer
with its diagnosis."""
from importlib import import_module

import numpy as np
import pytest

from course_lib import budgets, data
from course_lib.exercises import lesson10_capstone as l10
from course_lib.techniques import recipe as R
from course_lib.techniques.penalties import linear_critic

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")
import keras  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TRACKS = ("torch", "tensorflow")


def _lib(track, name="recipe"):
    return import_module(f"course_lib.{track}.{name}")


def _weights(track, model):
    if track == "torch":
        return [p.detach().numpy().copy() for p in model.parameters()]
    return [v.numpy().copy() for v in model.trainable_variables]


def _loss(track, G, z):
    return (G(z) ** 2).mean() if track == "torch" else tf.reduce_mean(G(z) ** 2)


@pytest.mark.parametrize("track", TRACKS)
def test_run_adam_with_one_rate_per_run_equals_the_frameworks_adam_run_by_run(track):
    ct, stacked = import_module(f"course_lib.{track}"), _lib(track, "stacked")
    rates, betas, steps = (1e-2, 4e-3, 2.5e-2), (0.5, 0.999), 4

    def fresh():
        out = []
        for s in range(len(rates)):
            ct.seed_everything(s)
            out.append(ct.Generator(z_dim=3, hidden=(5,), out_dim=4, output="linear"))
        return out

    zs = [np.random.default_rng(t).normal(size=(len(rates), 6, 3)).astype(np.float32) for t in range(steps)]
    alone = fresh()
    for i, (G, lr) in enumerate(zip(alone, rates)):
        if track == "torch":
            opt = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
            for z in zs:
                opt.zero_grad()
                _loss(track, G, torch.from_numpy(z[i])).backward()
                opt.step()
        else:
            opt = keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
            for z in zs:
                with tf.GradientTape() as tape:
                    loss = _loss(track, G, tf.constant(z[i]))
                opt.apply_gradients(zip(tape.gradient(loss, G.trainable_variables), G.trainable_variables))
    together = fresh()
    S = stacked.Stacked(together)
    params = list(S.parameters()) if track == "torch" else S.trainable_variables
    opt = _lib(track).RunAdam(params, rates, betas)
    for z in zs:
        if track == "torch":
            opt.zero_grad()
            ((S(torch.from_numpy(z)) ** 2).mean(dim=(1, 2)).sum()).backward()  # per-run means summed
            opt.step()
        else:
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.reduce_mean(S(tf.constant(z)) ** 2, axis=(1, 2)))
            opt.apply_gradients(tape.gradient(loss, params))
    S.unstack_into(together)
    for a, b in zip(alone, together):
        for wa, wb in zip(_weights(track, a), _weights(track, b)):
            np.testing.assert_allclose(wa, wb, rtol=0, atol=1e-6)
    assert not np.allclose(_weights(track, together[0])[0], _weights(track, fresh()[0])[0])  # it moved


def _linear(track, w):
    if track == "torch":
        wt = torch.from_numpy(w)
        return lambda x: x @ wt
    wt = tf.constant(w)
    return lambda x, training=False: tf.linalg.matvec(x, wt)


def _float(t):
    return float(t.detach()) if hasattr(t, "detach") else float(t)


@pytest.mark.parametrize("track", TRACKS)
def test_r1_of_a_linear_discriminator_is_its_closed_form(track):
    """D(x) = x . w has the input gradient w everywhere: R1 = gamma / 2 |w|^2, on any batch, augmented or not."""
    w = np.linspace(-1.0, 0.7, 64).astype(np.float32)
    D, loss = _linear(track, w), _lib(track).recipe_d_loss
    x = data.digits("test")[:10]
    x = torch.from_numpy(x) if track == "torch" else tf.constant(x)
    same = lambda v: v  # noqa: E731
    for gamma in (0.5, 3.0):
        r1 = _float(loss(D, x, x, same, gamma)) - _float(loss(D, x, x, same, 0.0))
        np.testing.assert_allclose(r1, R.r1_linear(w, gamma), rtol=1e-5)
    assert R.r1_linear(w, 2.0) == pytest.approx(l10._recipe_loss(linear_critic(w), x.numpy(), x.numpy(), same, 2.0)
                                                - l10._recipe_loss(linear_critic(w), x.numpy(), x.numpy(), same, 0.0))


def test_the_arms_and_the_selection():
    assert set(R.READOUTS) >= set(R.TRAINED) and len(R.READOUTS) == 7
    assert all(R.READOUTS[a][0] in R.TRAINED for a in R.READOUTS)
    # the read-out arms ride along the full recipe's runs: no training of their own
    assert R.READOUTS["minus EMA"][0] == R.READOUTS["minus selection"][0] == "full recipe"
    # each "minus" arm drops exactly one technique of the full recipe
    for i, arm in enumerate(("minus R1", "minus TTUR", "minus augmentation")):
        assert [a != b for a, b in zip(R.TRAINED[arm], R.TRAINED["full recipe"])] == [j == i for j in range(3)]
    lr_d, gamma, aug = R.run_settings(["baseline", "full recipe", "minus TTUR"], 1e-3, 4.0, 2.0)
    assert lr_d == [1e-3, 4e-3, 1e-3] and gamma == [0.0, 2.0, 2.0] and aug == [0.0, 1.0, 1.0]
    assert R.select([[5.0, 3.0, 4.0], [1.0, 2.0, 0.5]]).tolist() == [1, 2]


@pytest.mark.parametrize("track", TRACKS)
def test_the_checker_accepts_the_reference(track):
    exercise = import_module(f"course_lib.{track}.exercises").recipe_d_loss
    assert exercise.verdict(exercise.fallback).passed


def _wrong(track, *, at="augmented", half=True, aug_fake=True, form="squared", reduce="mean", r1=True):
    """A learner's recipe_d_loss with one mistake, in the track's framework."""
    def loss(D, real, fake, augment, gamma):
        xr, xf = augment(real), (augment(fake) if aug_fake else fake)
        where = {"augmented": xr, "clean": real, "fakes": xf}[at]
        if track == "torch":
            x = where.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
            sq = g.pow(2).sum(1)
            per = sq.sqrt() if form == "norm" else sq
            pen = per.sum() if reduce == "sum" else per.mean()
            base = F.softplus(-D(xr)).mean() + F.softplus(D(xf)).mean()
        else:
            with tf.GradientTape() as inner:
                inner.watch(where)
                out = D(where)
            sq = tf.reduce_sum(inner.gradient(out, where) ** 2, 1)
            per = tf.sqrt(sq) if form == "norm" else sq
            pen = tf.reduce_sum(per) if reduce == "sum" else tf.reduce_mean(per)
            base = tf.reduce_mean(tf.nn.softplus(-D(xr))) + tf.reduce_mean(tf.nn.softplus(D(xf)))
        return base + (0.5 if half else 1.0) * gamma * pen * (1.0 if r1 else 0.0)
    return loss


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("mistake, words", [
    (dict(at="fakes"), "the penalty is taken at the fakes"),
    (dict(at="clean"), "before the augmentation"),
    (dict(half=False), "the factor 1/2 is missing"),
    (dict(aug_fake=False), "only the reals go through augment"),
    (dict(r1=False), "without the penalty"),
    (dict(form="norm"), "squared norm"),
    (dict(reduce="sum"), "you summed the squared norms"),
])
def test_the_checker_rejects_each_wrong_answer(track, mistake, words):
    v = import_module(f"course_lib.{track}.exercises").recipe_d_loss.verdict(_wrong(track, **mistake))
    assert not v.passed and words in v.message, v.message


def test_budget_entry():
    for budget in ("smoke", "cpu", "gpu"):
        cfg = budgets.config("10_capstone", budget)
        assert cfg.recipe_steps % cfg.recipe_check_every == 0
        assert len(cfg.recipe_seeds) >= (5 if budget != "smoke" else 1)
        assert cfg.recipe_ttur_ratio > 1 and cfg.recipe_r1_gamma > 0 and 0 < cfg.recipe_ema_decay < 1
