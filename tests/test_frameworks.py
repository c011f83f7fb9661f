"""Both framework packages: reproducibility, identical losses, and the same API."""
import os

import numpy as np
import pytest

from course_lib import data
from course_lib.exercises import lesson00_baselines as exercises

TRACKS = ["course_lib.torch", "course_lib.tensorflow"]


def _track(name):
    # The course's track first: it configures TensorFlow before TensorFlow loads.
    return pytest.importorskip(name)


def _small_vae_run(ct, seed):
    ct.seed_everything(seed)
    vae = ct.VAE(z_dim=2, hidden=(16,))
    hist = ct.train_vae(vae, data.digits("train")[:256], steps=12, batch_size=32, lr=1e-3, seed=seed,
                        x_val=data.digits("val"), eval_every=4)
    return hist, ct.sample_vae(vae, 8, seed)


def _small_gan_run(ct, seed):
    ct.seed_everything(seed)
    G, D = ct.Generator(z_dim=3, hidden=(16,), out_dim=2, output="linear"), ct.Discriminator(in_dim=2, hidden=(16,))
    hist = ct.train_gan(G, D, data.mixture("ring8", 256, seed=0), steps=10, batch_size=32, lr=1e-3, seed=seed,
                        eval_every=5)
    return hist, ct.sample_gan(G, 8, seed)


@pytest.mark.parametrize("name", TRACKS)
def test_same_seed_same_numbers(name):
    ct = _track(name)
    for run in (_small_vae_run, _small_gan_run):
        h1, s1 = run(ct, 4)
        h2, s2 = run(ct, 4)
        h3, s3 = run(ct, 5)
        assert h1 == h2 and np.array_equal(s1, s2), f"{run.__name__} is not reproducible"
        assert not np.array_equal(s1, s3), f"{run.__name__} ignores its seed"
        assert h1["step"] == [4, 8, 12] if "loss" in h1 else h1["step"] == [5, 10]


@pytest.mark.parametrize("name", TRACKS)
def test_samples_have_the_data_format(name):
    ct = _track(name)
    _, images = _small_vae_run(ct, 0)
    assert images.shape == (8, 64) and images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    G = ct.Generator(z_dim=4, hidden=(8,))
    x = ct.sample_gan(G, 5, seed=1)
    assert x.shape == (5, 64) and 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match="'sigmoid' or 'linear'"):
        ct.Generator(output="tanh")


@pytest.mark.parametrize("name", TRACKS)
def test_losses_match_the_numpy_truth(name):
    ct = _track(name)
    for case in exercises._elbo_cases():
        got = ct.to_numpy(ct.negative_elbo(*[ct.train.to_tensor(a) for a in case]))
        assert np.allclose(got, exercises.negative_elbo_truth(*case), rtol=1e-5, atol=1e-4)
    for case in exercises._vae_cases():
        got = ct.to_numpy(ct.reparameterize(*[ct.train.to_tensor(a) for a in case]))
        assert np.allclose(got, exercises.reparameterize_truth(*case), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", TRACKS)
def test_setup_resolves_budget_and_returns_hyperparameters(name, monkeypatch, capsys):
    ct = _track(name)
    monkeypatch.setenv("COURSE_BUDGET", "smoke")
    cfg = ct.setup("00_baselines", "auto", seed=0)
    assert cfg.budget == "smoke" and "budget 'smoke'" in capsys.readouterr().out
    with pytest.raises(ValueError, match="expected one of"):
        ct.setup("00_baselines", "huge")


def test_tensorflow_hygiene_happens_inside_course_lib():
    ct = _track("course_lib.tensorflow")
    from tensorflow.python.framework import config as tf_config  # the public API has only enable/disable
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert tf_config.is_op_determinism_enabled()
    assert ct.DEVICE in ("CPU", "GPU")


def test_model_sizes_match_across_tracks():
    tt, tf_ = _track("course_lib.torch"), _track("course_lib.tensorflow")
    def n_torch(m):
        return sum(p.numel() for p in m.parameters())
    def n_tf(m):
        return int(sum(np.prod(v.shape) for v in m.trainable_variables))
    assert n_torch(tt.VAE(z_dim=8, hidden=(256, 128))) == n_tf(tf_.VAE(z_dim=8, hidden=(256, 128)))
    assert n_torch(tt.Generator(16, (128, 256))) == n_tf(tf_.Generator(16, (128, 256)))
    assert n_torch(tt.Discriminator()) == n_tf(tf_.Discriminator())
