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
    dense = [layer for mlp in keras_mlps for layer in mlp.layers if hasattr(layer, "kernel")]
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


def test_spectral_norm_is_the_same_algorithm_in_both_tracks():
    """PyTorch's spectral_norm and the TF track's SpectralDense: same weights and same u, v
    give the same outputs and the same parameter gradients (gradients flow through sigma)."""
    x = np.random.default_rng(0).normal(size=(16, 5)).astype(np.float32)
    torch.manual_seed(0)
    lin = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(5, 3))
    layer = ct_tf.models.SpectralDense(3)
    layer.build((None, 5))
    w_orig = lin.parametrizations.weight.original.detach().numpy()
    sn = lin.parametrizations.weight[0]
    layer.kernel.assign(w_orig.T)
    layer.bias.assign(lin.bias.detach().numpy())
    layer.u.assign(sn._u.numpy())
    layer.v.assign(sn._v.numpy())
    import tensorflow as tf
    for _ in range(3):  # training calls: one power iteration each
        out_t = lin(torch.from_numpy(x))
        with tf.GradientTape() as tape:
            out_k = layer(x, training=True)
            loss_k = tf.reduce_sum(out_k ** 2)
    assert np.allclose(out_t.detach().numpy(), out_k.numpy(), atol=1e-5)
    (out_t ** 2).sum().backward()
    grad_k = tape.gradient(loss_k, layer.kernel).numpy()
    assert np.allclose(lin.parametrizations.weight.original.grad.numpy().T, grad_k, atol=1e-4)


@pytest.mark.parametrize("variant, kw", [
    # n_critic=1: with 5, Adam turns round-off in WGAN gradients that cancel exactly (a bias whose
    # real and fake terms match) into steps of up to the learning rate within ~25 critic steps
    ("wgan-gp", dict(n_critic=1, weight=10.0, norm="layer", data="digits")),
    ("gan-r1", dict(weight=0.1, norm=None, data="ring8")),
    ("wgan-clip", dict(n_critic=2, weight=0.01, norm=None, data="ring8", betas=(0.0, 0.9))),
])
def test_critic_gan_training_matches_step_by_step(variant, kw):
    """Lesson 05's loop: the penalties (nested tapes against create_graph), weight clipping and a
    LayerNorm critic compute the same thing in both tracks."""
    from course_lib.tensorflow import wgan as wgan_tf
    from course_lib.torch import wgan as wgan_torch
    kw = dict(kw)
    norm, which = kw.pop("norm"), kw.pop("data")
    x = data.digits("train")[:512] if which == "digits" else data.mixture(which, 512, seed=0)
    d, out = x.shape[1], ("sigmoid" if which == "digits" else "linear")
    ct_torch.seed_everything(0)
    Gt, Dt = ct_torch.Generator(4, (32, 32), d, out), ct_torch.Critic(d, (32, 32), norm=norm)
    Gf, Df = ct_tf.Generator(4, (32, 32), d, out), ct_tf.Critic(d, (32, 32), norm=norm)
    _copy_weights(Gt, [Gf.net])
    _copy_weights(Dt, [Df.net])
    args = dict(variant=variant, steps=12, batch_size=32, seed=0, lr=1e-3, lr_d=2e-3, eval_every=4, **kw)
    ht, hf = wgan_torch.train_critic_gan(Gt, Dt, x, **args), wgan_tf.train_critic_gan(Gf, Df, x, **args)
    for key in ("d_loss", "penalty", "g_loss"):
        np.testing.assert_allclose(ht[key], hf[key], rtol=2e-3, atol=1e-5, err_msg=key)


def test_gradient_penalty_parameter_gradients_agree_through_layer_norm():
    """The penalty's gradient w.r.t. a LayerNorm critic's weights is a second derivative. Keras'
    LayerNormalization gets it wrong by ~1% (its variance uses a stop_gradient'ed mean); the
    course's TF LayerNorm and PyTorch's agree with each other to round-off."""
    from course_lib.tensorflow import penalties as pen_tf
    from course_lib.torch import penalties as pen_torch
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    real, fake = data.digits("train")[:64], rng.uniform(size=(64, 64)).astype(np.float32)
    u = rng.uniform(size=(64, 1)).astype(np.float32)
    ct_torch.seed_everything(0)
    Dt, Df = ct_torch.Critic(64, (32, 32), norm="layer"), ct_tf.Critic(64, (32, 32), norm="layer")
    assert not any(isinstance(layer, keras.layers.LayerNormalization) for layer in Df.net.layers)
    _copy_weights(Dt, [Df.net])
    pen_torch.gradient_penalty(Dt, *(torch.from_numpy(a) for a in (real, fake, u))).backward()
    with tf.GradientTape() as tape:
        penalty = pen_tf.gradient_penalty(Df, tf.constant(real), tf.constant(fake), tf.constant(u))
    grads_tf = tape.gradient(penalty, Df.trainable_variables)
    for p, g, v in zip(Dt.parameters(), grads_tf, Df.trainable_variables):
        expected = np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy()
        got = np.zeros(v.shape, np.float32) if g is None else g.numpy()
        np.testing.assert_allclose(got, expected.T if expected.ndim == 2 else expected, atol=2e-5, err_msg=v.name)
