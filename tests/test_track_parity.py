"""The two tracks implement the same computation: started from the same weights, fed the
same batches and noise, PyTorch and TensorFlow give the same losses step by step (up to
float32 round-off). Any remaining difference between the tracks' numbers is the seed."""
import numpy as np
import pytest

from course_lib import data

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
torch = pytest.importorskip("torch")


def _copy_weights(torch_module, keras_mlps):
    linears = [m for m in torch_module.modules() if isinstance(m, torch.nn.Linear)]
    dense = [layer for mlp in keras_mlps for layer in mlp.layers]
    assert len(linears) == len(dense)
    for lin, d in zip(linears, dense):
        d.kernel.assign(lin.weight.detach().numpy().T)
        d.bias.assign(lin.bias.detach().numpy())


def test_gan_training_matches_step_by_step():
    x = data.mixture("ring8", 1000, seed=0)
    ct_torch.seed_everything(0)
    Gt, Dt = ct_torch.Generator(4, (32, 32), 2, "linear"), ct_torch.Discriminator(2, (32, 32))
    Gf, Df = ct_tf.Generator(4, (32, 32), 2, "linear"), ct_tf.Discriminator(2, (32, 32))
    _copy_weights(Gt, [Gf.net])
    _copy_weights(Dt, [Df.net])
    kw = dict(steps=30, batch_size=64, lr=5e-4, seed=0, betas=(0.5, 0.999), eval_every=10)
    ht, hf = ct_torch.train_gan(Gt, Dt, x, **kw), ct_tf.train_gan(Gf, Df, x, **kw)
    assert np.allclose(ht["d_loss"], hf["d_loss"], rtol=1e-3)
    assert np.allclose(ht["g_loss"], hf["g_loss"], rtol=1e-3)
    assert np.allclose(ct_torch.sample_gan(Gt, 50, 1), ct_tf.sample_gan(Gf, 50, 1), atol=1e-3)


def test_vae_training_matches_step_by_step():
    x = data.digits("train")[:256]
    ct_torch.seed_everything(0)
    vt, vf = ct_torch.VAE(z_dim=4, hidden=(32,)), ct_tf.VAE(z_dim=4, hidden=(32,))
    _copy_weights(vt, [vf.encoder, vf.decoder])
    kw = dict(steps=30, batch_size=32, lr=1e-3, seed=0, eval_every=10)
    ht, hf = ct_torch.train_vae(vt, x, **kw), ct_tf.train_vae(vf, x, **kw)
    assert np.allclose(ht["loss"], hf["loss"], rtol=1e-4)
    x_test = data.digits("test")
    assert ct_torch.test_negative_elbo(vt, x_test) == pytest.approx(ct_tf.test_negative_elbo(vf, x_test), rel=1e-4)
