"""Lesson 10, part 1 (the seed's two scripts): the notebook's own cells, run in both tracks.

The compounding schedule and the intended one against their closed forms; the gradient that the
swapped loss call sends into the model's output against a hand computation; the seed's stopping rule
as written stops where its logged numbers say; the repaired GAN's steps (cells tagged
``training-step``) train: each updates its own network only, and the losses change.

The cells are executed as they are in the notebook, in a namespace that holds what the notebook
defines before them, with the smoke budget's hyperparameters."""
import numpy as np
import pytest
from solution_cells import exercise_cell, framework_namespace, solution_cells

from course_lib import budgets, data, metrics
from course_lib.techniques import early_stopping as stopping, schedules, seed_scripts

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

NOTEBOOK = "10_capstone"
TRACKS = {"pytorch": ct_torch, "tensorflow": ct_tf}
CFG = budgets.config("10_capstone", "smoke")


def _cells(track, *ids):
    """A namespace with the setup's names, after running the notebook's cells ``ids`` in order."""
    by_id = solution_cells(f"{NOTEBOOK}.ipynb", track)[0]
    ns = {"cfg": CFG, "ct": TRACKS[track], "np": np, "data": data, "metrics": metrics, "stopping": stopping,
          "seed_scripts": seed_scripts, "SEED": 0, **framework_namespace(track)}
    if track == "pytorch":
        from torch import nn
        from torch.utils.data import DataLoader, TensorDataset
        ns.update(nn=nn, DataLoader=DataLoader, TensorDataset=TensorDataset)
    else:
        import warnings
        ns.update(warnings=warnings)
    for cid in ids:
        exec(by_id[cid], ns)
    return ns


SCRIPT1 = {"pytorch": ("p1c05", "p1c06", "p1c07"), "tensorflow": ("p1c05", "p1c06", "p1c06a", "p1c06b", "p1c07")}


def test_compounding_schedule_against_closed_forms():
    epochs = np.arange(130)
    loop = schedules.seed_compounding(130, 1e-3)
    np.testing.assert_allclose(seed_scripts.compounded_rate(epochs, 1e-3), loop, rtol=1e-12, atol=0)
    assert [seed_scripts.compounded_rate_loop(e, 1e-3) for e in (0, 50, 51, 75, 99)] == \
        [loop[e] for e in (0, 50, 51, 75, 99)]
    assert seed_scripts.compounded_rate_loop(100, 1e-3) == pytest.approx(1e-3 / 2 ** 75, rel=1e-12)  # not 2^50
    assert np.argmax(loop < 1e-6) == 60  # training is frozen from epoch 60 on
    np.testing.assert_allclose(schedules.seed_intended(epochs, 1e-3),
                               np.where(epochs < 50, 1e-3, np.where(epochs < 75, 5e-4, 2.5e-4)), rtol=1e-12)


@pytest.mark.parametrize("track", TRACKS)
def test_notebook_schedule_and_exercise_match_the_closed_forms(track):
    ns = _cells(track, "p1c26b")
    rate, used = 1e-3, []
    for epoch in range(100):  # the seed's loop with the notebook's lr_schedule
        used.append(rate)
        rate = ns["lr_schedule"](epoch, rate)
    np.testing.assert_allclose(used, seed_scripts.compounded_rate(np.arange(100), 1e-3), rtol=1e-12, atol=0)
    assert [ns["lr_schedule"](e, 1e-3) for e in (49, 50, 74, 75)] == [1e-3, 5e-4, 5e-4, 2.5e-4]  # base rate passed
    exec(exercise_cell(f"{NOTEBOOK}.ipynb", track, "compounded_rate"), ns)
    assert [ns["compounded_rate"](e, 1e-3) for e in (0, 50, 51, 75, 100)] == pytest.approx(
        [seed_scripts.compounded_rate_loop(e, 1e-3) for e in (0, 50, 51, 75, 100)], rel=1e-12)


@pytest.mark.parametrize("track", TRACKS)
def test_swapped_loss_sends_minus_x_over_n_into_the_output(track):
    """The seed's call BCE(from_logits=True)(x_fake, x): the real image is the logits, the output the target."""
    rng = np.random.default_rng(0)
    x = rng.random((8, 64)).astype(np.float32)
    x[:, :10] = 0.0  # blank pixels: no push at all
    out = rng.uniform(0.05, 0.95, (8, 64)).astype(np.float32)
    if track == "pytorch":
        x_fake = torch.tensor(out, requires_grad=True)
        torch.nn.BCEWithLogitsLoss()(torch.from_numpy(x), x_fake).backward()  # (input, target): target = x_fake
        grad = x_fake.grad.numpy()
    else:
        import keras
        x_fake = tf.Variable(out)
        with tf.GradientTape() as tape:
            loss = keras.losses.BinaryCrossentropy(from_logits=True)(x_fake, tf.constant(x))  # (y_true, y_pred)
        grad = tape.gradient(loss, x_fake).numpy()
    hand = seed_scripts.swapped_logits_grad(x)
    np.testing.assert_allclose(grad, hand, rtol=1e-5, atol=1e-9)
    assert (grad <= 0).all() and (grad[:, :10] == 0).all()  # never pushes an output down


@pytest.mark.parametrize("track", TRACKS)
def test_seed_stopping_rule_stops_where_its_logged_numbers_say(track):
    ns = _cells(track, *SCRIPT1[track])
    for seed in (0, 1):
        _, stop, checks = ns["script1_as_written"](seed, epochs=11)
        assert [c["epoch"] for c in checks] == list(range(0, 10 * len(checks), 10))
        assert all(c["n_last"] == 1257 - 19 * CFG.seed_batch_size == 41 for c in checks)
        fired = [c["epoch"] for c in checks
                 if stopping.seed_criterion(c["epoch"], c["val_loss"], c["last_batch"], CFG.seed_every)]
        assert stop == (fired[0] if fired else None)
        assert fired in ([], [stop])  # it returns at the first check that fires


def _weights(track, model):
    if track == "pytorch":
        return [p.detach().numpy().copy() for p in model.parameters()]
    return [v.numpy().copy() for v in model.trainable_variables]


def _moved(before, after):
    return all(not np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("track", TRACKS)
def test_repaired_gan_steps_train_their_own_network(track):
    ns = _cells(track, "p1c05", "p1c06", "p1c15", "p1c16")
    ct = TRACKS[track]
    ct.seed_everything(0)
    G, D = ns["Generator"](), ct.Discriminator(64, CFG.seed_d_hidden)
    x = data.digits("train")[:64]
    z = np.random.default_rng(0).standard_normal((64, CFG.seed_z_dim)).astype(np.float32)
    if track == "pytorch":
        x, z = torch.from_numpy(x), torch.from_numpy(z)
        opt_g, opt_d = (torch.optim.Adam(m.parameters(), lr=CFG.seed_gan_lr, betas=CFG.seed_gan_betas) for m in (G, D))
    else:
        import keras
        x, z = tf.constant(x), tf.constant(z)
        opt_g, opt_d = (keras.optimizers.Adam(CFG.seed_gan_lr, beta_1=CFG.seed_gan_betas[0]) for _ in range(2))
        G(z), D(x)  # build the weights
    g0, d0 = _weights(track, G), _weights(track, D)
    d_losses = [float(ns["d_step"](G, D, opt_d, x, z)) for _ in range(3)]
    assert _moved(d0, _weights(track, D)) and not _moved(g0, _weights(track, G)) and \
        all(np.array_equal(a, b) for a, b in zip(g0, _weights(track, G))), "the D step trains D only"
    d1 = _weights(track, D)
    g_losses = [float(ns["g_step"](G, D, opt_g, z)) for _ in range(3)]
    assert _moved(g0, _weights(track, G)), "the G step moves every weight of G"
    assert all(np.array_equal(a, b) for a, b in zip(d1, _weights(track, D))), "the G step leaves D as it is"
    assert len(set(d_losses)) == 3 and len(set(g_losses)) == 3 and g_losses[-1] < g_losses[0]
    _, _, history = ns["train_seed_gan"](0, epochs=2)
    assert len(history["d_loss"]) == 2 and history["d_loss"][0] != history["d_loss"][1]
