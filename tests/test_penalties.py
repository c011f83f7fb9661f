"""Gradient penalties (lessons 04 and 05): analytic checks of WGAN-GP and R1 in both tracks,
spectral norm, LayerNorm vs BatchNorm critics, weight clipping, and the checkers (the reference
passes; each known mistake, written as a learner would write it, gets its own diagnosis)."""
from pathlib import Path

import numpy as np
import pytest

from course_lib.checks import CORRECT, NOT_ATTEMPTED, WRONG
from course_lib.exercises import lesson05_gradient_penalty as PX
from course_lib.techniques import penalties as P

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from course_lib.tensorflow import exercises as ex_tf, penalties as pen_tf  # noqa: E402
from course_lib.torch import exercises as ex_torch, penalties as pen_torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRACKS = {"torch": (pen_torch, ex_torch), "tensorflow": (pen_tf, ex_tf)}


def _stub(*args):
    raise NotImplementedError("Exercise: replace this line with your code")


def _grads(pen, critic, fn):
    """Gradients of ``fn()`` w.r.t. the critic's weights (matrices), as NumPy arrays (None kept)."""
    if pen is pen_torch:
        critic.zero_grad(set_to_none=True)
        fn().backward()
        return [None if p.grad is None else p.grad.numpy() for p in critic.parameters() if p.dim() > 1]
    kernels = [v for v in critic.trainable_variables if len(v.shape) > 1]
    with tf.GradientTape() as tape:
        out = fn()
    return [None if g is None else g.numpy() for g in tape.gradient(out, kernels)]


def _t(pen, a):
    return pen.adapt(np.asarray(a, np.float32))


# --- the neutral module -----------------------------------------------------------------

def test_numpy_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    for critic in (PX._tanh_critic(rng, 3), PX.zero_gradient_critic()[0], P.linear_critic([1.0, -2.0, 0.5])):
        x = rng.normal(size=(5, 3)) if critic.in_dim == 3 else rng.normal(size=(5, 2)) + 0.05
        e, eye = 1e-6, np.eye(critic.in_dim)
        fd = np.stack([(P.critic_forward(critic, x + e * eye[j]) - P.critic_forward(critic, x - e * eye[j])) / (2 * e)
                       for j in range(critic.in_dim)], axis=1)
        assert np.allclose(P.critic_input_gradient(critic, x), fd, atol=1e-6)


def test_interpolation_weights():
    u = P.interpolation_weights(1000, 3)
    assert u.shape == (1000, 1) and u.dtype == np.float32 and 0 <= u.min() and u.max() <= 1
    assert np.array_equal(u, P.interpolation_weights(1000, np.random.default_rng(3)))
    assert not np.array_equal(u, P.interpolation_weights(1000, 4))
    assert abs(u.mean() - 0.5) < 0.05


# --- analytic penalties in both frameworks ------------------------------------------------

@pytest.mark.parametrize("w", [[0.6, -0.8], [1.5, 2.0], [3.0, 0.0, -4.0], [0.2, 0.1]])
def test_gradient_penalty_of_a_linear_critic_is_exactly_norm_minus_one_squared(w):
    w = np.asarray(w)
    spec = P.linear_critic(w, b=0.7)
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(8, len(w))).astype(np.float32), rng.normal(size=(8, len(w))).astype(np.float32)
    u = P.interpolation_weights(8, 1)
    expected = (np.linalg.norm(w) - 1.0) ** 2
    assert P.gradient_penalty_truth(spec, real, fake, u) == pytest.approx(expected, abs=1e-9)
    values = {}
    for name, (pen, _) in TRACKS.items():
        values[name] = float(pen.to_numpy(pen.gradient_penalty(pen.critic_from_weights(spec), _t(pen, real),
                                                                _t(pen, fake), u)))
        assert values[name] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert values["torch"] == pytest.approx(values["tensorflow"], rel=1e-6, abs=1e-7)


def test_interpolate_and_critic_from_weights_agree_across_tracks():
    rng = np.random.default_rng(2)
    spec = PX._tanh_critic(rng, 3)
    real, fake = rng.normal(size=(6, 3)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    u = P.interpolation_weights(6, 0)
    for pen, _ in TRACKS.values():
        x = pen.interpolate(_t(pen, real), _t(pen, fake), u)
        assert np.allclose(pen.to_numpy(x), P.interpolate(real, fake, u), atol=1e-6)
        out = pen.to_numpy(pen.critic_from_weights(spec)(_t(pen, real)))
        assert np.allclose(out.ravel(), P.critic_forward(spec, real), atol=1e-5)
        norms = pen.gradient_norms(pen.critic_from_weights(spec), real)
        assert isinstance(norms, np.ndarray) and norms.shape == (6,)
        assert np.allclose(norms, np.linalg.norm(P.critic_input_gradient(spec, real), axis=1), rtol=1e-5)
        gp = pen.gradient_penalty(pen.critic_from_weights(spec), _t(pen, real), _t(pen, fake), u)
        assert float(pen.to_numpy(gp)) == pytest.approx(P.gradient_penalty_truth(spec, real, fake, u), rel=1e-5)


class _QuadTorch(torch.nn.Module):
    def __init__(self, A):
        super().__init__()
        self.A = torch.nn.Parameter(torch.tensor(A, dtype=torch.float32))

    def forward(self, x):
        return 0.5 * ((x @ self.A) * x).sum(dim=1)


class _QuadKeras(keras.layers.Layer):
    def __init__(self, A):
        super().__init__()
        self.A = self.add_weight(shape=A.shape, initializer=keras.initializers.Constant(A), name="A")

    def call(self, x, training=False):
        return 0.5 * tf.reduce_sum(tf.matmul(x, self.A) * x, axis=1)


def test_r1_of_a_quadratic_critic_matches_the_closed_form():
    """f(x) = 0.5 x^T A x has grad_x f = S x with S = (A + A^T) / 2, so R1 = gamma/2 mean |S x|^2, and
    dR1/dA = (G + G^T) / 2 with G = gamma / n * S X^T X."""
    rng = np.random.default_rng(4)
    A = rng.normal(size=(3, 3))
    X = rng.normal(size=(10, 3)).astype(np.float32)
    gamma = 10.0
    S = 0.5 * (A + A.T)
    X64 = X.astype(np.float64)
    r1 = 0.5 * gamma * np.mean(((X64 @ S) ** 2).sum(axis=1))  # S symmetric: (S x)^T = x^T S
    G = gamma / len(X) * S @ X64.T @ X64
    dA = 0.5 * (G + G.T)
    for critic, pen in ((_QuadTorch(A), pen_torch), (_QuadKeras(A), pen_tf)):
        value = pen.r1_penalty(critic, _t(pen, X), gamma)
        assert float(pen.to_numpy(value)) == pytest.approx(r1, rel=1e-5)
        (grad,) = _grads(pen, critic, lambda pen=pen, critic=critic: pen.r1_penalty(critic, _t(pen, X), gamma))
        assert np.allclose(grad, dA, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("track", list(TRACKS))
@pytest.mark.parametrize("norm", [None, "layer", "batch"])
def test_penalties_reach_the_critics_parameters(track, norm):
    pen = TRACKS[track][0]
    Critic = ct_torch.Critic if track == "torch" else ct_tf.Critic
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(16, 2)), rng.normal(size=(16, 2))
    u = P.interpolation_weights(16, 5)
    for fn in (lambda c: pen.gradient_penalty(c, _t(pen, real), _t(pen, fake), u),
               lambda c: pen.r1_penalty(c, _t(pen, real), 10.0)):
        critic = Critic(2, (16, 16), norm=norm)
        if track == "torch":
            critic.train()
        grads = _grads(pen, critic, lambda fn=fn, critic=critic: fn(critic))
        assert grads and all(g is not None and np.all(np.isfinite(g)) and np.any(g != 0) for g in grads)


@pytest.mark.parametrize("track", list(TRACKS))
def test_gradient_penalty_is_finite_where_the_input_gradient_is_zero(track):
    pen = TRACKS[track][0]
    # a linear critic with w = 0: the gradient is 0 everywhere, the penalty is (0 - 1)^2 = 1
    flat = P.linear_critic([0.0, 0.0], 0.5)
    x = np.ones((4, 2), np.float32)
    critic = pen.critic_from_weights(flat)
    value = pen.gradient_penalty(critic, _t(pen, x), _t(pen, -x), P.interpolation_weights(4, 0))
    assert float(pen.to_numpy(value)) == pytest.approx(1.0, abs=1e-5)
    for g in _grads(pen, critic, lambda: pen.gradient_penalty(critic, _t(pen, x), _t(pen, -x),
                                                                P.interpolation_weights(4, 0))):
        assert g is not None and np.all(np.isfinite(g))
    # a ReLU critic that is flat on part of the batch
    spec, real, fake, u = PX.zero_gradient_critic()
    critic = pen.critic_from_weights(spec)
    grads = _grads(pen, critic, lambda: pen.gradient_penalty(critic, _t(pen, real), _t(pen, fake), u))
    assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
    assert float(pen.to_numpy(pen.gradient_penalty(critic, _t(pen, real), _t(pen, fake), u))) == pytest.approx(
        P.gradient_penalty_truth(spec, real, fake, u), rel=1e-5)


# --- the models: spectral norm, normalization layers, clipping -------------------------------

def test_spectral_norm_layers_have_largest_singular_value_one():
    x = np.random.default_rng(6).normal(size=(64, 2)).astype(np.float32)
    ct_torch.seed_everything(0)
    ct_tf.seed_everything(0)
    tc = ct_torch.Critic(2, (32, 32), spectral=True).train()
    kc = ct_tf.Critic(2, (32, 32), spectral=True)
    for _ in range(30):
        tc(torch.from_numpy(x))
        kc(x, training=True)
    torch_sigmas = [float(torch.linalg.matrix_norm(m.weight.detach(), ord=2))
                    for m in tc.modules() if isinstance(m, torch.nn.Linear)]
    keras_sigmas = [float(np.linalg.norm(layer.normalized_kernel().numpy(), 2))
                    for layer in kc.net.layers if isinstance(layer, ct_tf.models.SpectralDense)]
    assert len(torch_sigmas) == len(keras_sigmas) == 3
    assert np.allclose(torch_sigmas, 1.0, atol=0.05) and np.allclose(keras_sigmas, 1.0, atol=0.05)
    # without spectral norm the layers are not normalised
    plain = ct_torch.Critic(2, (32, 32))
    assert not np.allclose([float(torch.linalg.matrix_norm(m.weight.detach(), ord=2))
                            for m in plain.modules() if isinstance(m, torch.nn.Linear)], 1.0, atol=0.05)


def _input_grads(track, critic, x):
    if track == "torch":
        return pen_torch.to_numpy(pen_torch._input_gradient(critic, torch.from_numpy(x), create_graph=False))
    return pen_tf._input_gradient(critic, tf.constant(x), training=True).numpy()


@pytest.mark.parametrize("track", list(TRACKS))
def test_layer_norm_keeps_gradients_per_sample_batch_norm_does_not(track):
    """Lesson 04's point: a gradient penalty constrains each sample's input gradient. With
    LayerNorm (or no norm) sample 0's gradient does not depend on the rest of the batch; with
    BatchNorm in training mode it does (the batch statistics mix the samples)."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=(8, 2)).astype(np.float32)
    b = a.copy()
    b[1:] = rng.normal(loc=2.0, size=(7, 2))  # same first sample, different others
    mods = ct_torch if track == "torch" else ct_tf
    if track == "torch":
        ct_torch.seed_everything(0)
    else:
        ct_tf.seed_everything(0)
    for norm, independent in ((None, True), ("layer", True), ("batch", False)):
        critic = mods.Critic(2, (16, 16), norm=norm)
        if track == "torch":
            critic.train()
        g_a, g_b = _input_grads(track, critic, a)[0], _input_grads(track, critic, b)[0]
        assert np.allclose(g_a, g_b, atol=1e-6) == independent, norm


@pytest.mark.parametrize("track", list(TRACKS))
def test_clip_weights_bounds_every_weight(track):
    pen = TRACKS[track][0]
    if track == "torch":
        critic = ct_torch.Critic(2, (16, 16), norm="layer")
        with torch.no_grad():
            for p in critic.parameters():
                p.mul_(0).add_(torch.linspace(-3, 3, p.numel()).reshape(p.shape))
        pen.clip_weights(critic, 0.01)
        values = [p.detach().numpy() for p in critic.parameters()]
    else:
        critic = ct_tf.Critic(2, (16, 16), norm="layer")
        critic(np.zeros((1, 2), np.float32))
        for v in critic.trainable_variables:
            v.assign(tf.reshape(tf.linspace(-3.0, 3.0, int(np.prod(v.shape))), v.shape))
        pen.clip_weights(critic, 0.01)
        values = [v.numpy() for v in critic.trainable_variables]
    assert values and all(np.abs(v).max() <= 0.01 + 1e-7 for v in values)
    assert any(np.isclose(np.abs(v).max(), 0.01) for v in values)


@pytest.mark.parametrize("track", list(TRACKS))
def test_critic_output_shape_and_options(track):
    mods = ct_torch if track == "torch" else ct_tf
    x = np.zeros((5, 2), np.float32)
    for kw in ({}, {"norm": "batch"}, {"norm": "layer"}, {"spectral": True}):
        critic = mods.Critic(2, (8,), **kw)
        out = critic(torch.from_numpy(x)) if track == "torch" else critic(x, training=True)
        assert tuple(out.shape) == (5,)
    with pytest.raises(ValueError, match="norm"):
        mods.Critic(2, (8,), norm="group")


# --- checkers -----------------------------------------------------------------------------

def test_every_neutral_mistake_is_diagnosed_as_itself():
    """A learner who makes exactly one known mistake gets that mistake's diagnosis (no mistake
    hides behind an earlier one, and none coincides with the truth)."""
    for make, mistakes in ((PX.gradient_penalty_exercise, PX.GP_MISTAKES), (PX.r1_penalty_exercise, PX.R1_MISTAKES)):
        exercise = make()
        assert exercise.verdict(exercise.truth).status == CORRECT
        for m in mistakes:
            v = exercise.verdict(m.impl)
            assert v.status == WRONG and m.message in v.message, m.name


@pytest.mark.parametrize("track", list(TRACKS))
def test_references_pass_and_stubs_fall_back(track):
    pen, ex = TRACKS[track]
    assert ex.gradient_penalty.verdict(pen.gradient_penalty).status == CORRECT
    assert ex.r1_penalty.verdict(pen.r1_penalty).status == CORRECT
    assert ex.sample_interpolation_weights.verdict(P.interpolation_weights).status == CORRECT
    for exercise, fallback in ((ex.gradient_penalty, pen.gradient_penalty), (ex.r1_penalty, pen.r1_penalty),
                               (ex.sample_interpolation_weights, P.interpolation_weights)):
        for missing in (None, _stub):
            v = exercise.verdict(missing)
            assert v.status == NOT_ATTEMPTED and v.use is fallback
        assert exercise.verdict(lambda *a: 1 / 0).use is fallback


# (a) interpolation weights from a normal distribution, and other ways to draw them wrongly

def _weights_diag(name):
    return next(m.message for m in PX.WEIGHT_MISTAKES if m.name == name)


@pytest.mark.parametrize("track", list(TRACKS))
def test_interpolation_weight_mistakes(track):
    ex = TRACKS[track][1].sample_interpolation_weights
    if track == "torch":
        right = [lambda n, rng: torch.from_numpy(rng.uniform(size=(n, 1)).astype(np.float32))]
        normal = lambda n, rng: torch.from_numpy(rng.normal(size=(n, 1)).astype(np.float32))  # noqa: E731
        framework_rng = lambda n, rng: torch.rand(n, 1)  # noqa: E731
    else:
        right = [lambda n, rng: tf.constant(rng.uniform(size=(n, 1)), tf.float32)]
        normal = lambda n, rng: tf.constant(rng.normal(size=(n, 1)), tf.float32)  # noqa: E731
        framework_rng = lambda n, rng: tf.random.uniform((n, 1))  # noqa: E731
        ct_tf.seed_everything(0)  # with op determinism on, TF's random ops need a global seed (as in a notebook)
    right += [lambda n, rng: rng.random((n, 1), dtype=np.float32),
              lambda n, rng: rng.uniform(0.0, 1.0, n).astype(np.float32)[:, None]]
    for fn in right:
        assert ex.verdict(fn).status == CORRECT
    cases = [(normal, "normal weights"),
             (lambda n, rng: rng.normal(0.5, 0.25, size=(n, 1)).astype(np.float32), "normal weights"),
             (lambda n, rng: rng.uniform(size=n).astype(np.float32), "shape (n,)"),
             (lambda n, rng: rng.uniform(size=(n, 2)).astype(np.float32), "not one weight per sample"),
             (lambda n, rng: rng.integers(0, 2, size=(n, 1)).astype(np.float32), "not uniform"),
             (lambda n, rng: rng.uniform(size=(n, 1)), "float64")]
    for fn, name in cases:
        v = ex.verdict(fn)
        assert v.status == WRONG and _weights_diag(name) in v.message, name
    v = ex.verdict(framework_rng)
    assert v.status == WRONG and "not reproducible" in v.message
    v = ex.verdict(lambda n, rng: rng.uniform(size=(2000, 1)).astype(np.float32))  # a hard-coded batch size
    assert v.status == WRONG and "n=7" in v.message


# (b)-(e) gradient penalty mistakes, as a learner would write them

BLOCKED = "no gradient reaches the critic's parameters"  # the gradient check's diagnosis for a cut graph


def _gp_diag(name):
    return next(m.message for m in PX.GP_MISTAKES if m.name == name)


def _torch_gp(*, at="hat", batch_norm=False, create_graph=True, eps=True, one_sided=False, torch_norm=False):
    def gp(critic, real, fake, u):
        x = {"hat": u * real + (1 - u) * fake, "real": real}[at].detach().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=create_graph)
        if batch_norm:
            norm = g.norm(2)
        elif torch_norm:
            norm = g.norm(2, dim=1)  # PyTorch's norm has a zero subgradient at 0: no NaN, fine
        else:
            norm = torch.sqrt((g ** 2).sum(dim=1) + (1e-12 if eps else 0.0))
        return (torch.clamp(norm - 1, min=0) ** 2).mean() if one_sided else ((norm - 1) ** 2).mean()
    return gp


def _tf_gp(*, at="hat", batch_norm=False, stop=False, numpy=False, eps=True, tf_norm=False, one_sided=False):
    def gp(critic, real, fake, u):
        x = {"hat": u * real + (1 - u) * fake, "real": real}[at]
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = critic(x, training=True)
        g = tape.gradient(out, x)
        if stop:
            g = tf.stop_gradient(g)
        if numpy:
            g = tf.constant(g.numpy())
        if batch_norm:
            norm = tf.norm(g)
        elif tf_norm:
            norm = tf.norm(g, axis=1)
        else:
            norm = tf.sqrt(tf.reduce_sum(g ** 2, axis=1) + (1e-12 if eps else 0.0))
        return tf.reduce_mean(tf.nn.relu(norm - 1) ** 2) if one_sided else tf.reduce_mean((norm - 1) ** 2)
    return gp


def test_learner_style_references_pass():
    assert ex_torch.gradient_penalty.verdict(_torch_gp()).status == CORRECT
    assert ex_torch.gradient_penalty.verdict(_torch_gp(torch_norm=True)).status == CORRECT
    assert ex_tf.gradient_penalty.verdict(_tf_gp()).status == CORRECT
    # one-sided vs two-sided is a legitimate choice, not a mistake: accepted
    assert ex_torch.gradient_penalty.verdict(_torch_gp(one_sided=True)).status == CORRECT
    assert ex_tf.gradient_penalty.verdict(_tf_gp(one_sided=True)).status == CORRECT


@pytest.mark.parametrize("track,fn,expect", [
    ("torch", _torch_gp(batch_norm=True), _gp_diag("norm over the batch")),                    # (b)
    ("tensorflow", _tf_gp(batch_norm=True), _gp_diag("norm over the batch")),                 # (b)
    ("torch", _torch_gp(create_graph=False), BLOCKED + ": was it computed without create_graph=True"),  # (c)
    ("torch", lambda *a: _torch_gp()(*a).item(), "it returned a Python float, not a tensor"),  # (c)
    ("tensorflow", _tf_gp(stop=True), BLOCKED + ": was it computed with tf.stop_gradient"),    # (c)
    ("tensorflow", _tf_gp(numpy=True), BLOCKED),                                               # (c)
    ("torch", _torch_gp(at="real"), _gp_diag("penalty at the reals")),                        # (d)
    ("tensorflow", _tf_gp(at="real"), _gp_diag("penalty at the reals")),                      # (d)
    ("torch", _torch_gp(eps=False), PX.NAN_AT_ZERO),                                           # (e)
    ("tensorflow", _tf_gp(eps=False), PX.NAN_AT_ZERO),                                         # (e)
    ("tensorflow", _tf_gp(tf_norm=True), PX.NAN_AT_ZERO),                                      # (e)
])
def test_gradient_penalty_mistakes_get_their_diagnosis(track, fn, expect):
    v = TRACKS[track][1].gradient_penalty.verdict(fn)
    assert v.status == WRONG and expect in v.message
    assert v.use is TRACKS[track][0].gradient_penalty


def test_more_gradient_penalty_mistakes():
    def mean_torch(critic, real, fake, u):
        x = (u * real + (1 - u) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).mean(), x, create_graph=True)
        return ((torch.sqrt((g ** 2).sum(1) + 1e-12) - 1) ** 2).mean()

    def squared_tf(critic, real, fake, u):
        x = u * real + (1 - u) * fake
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = critic(x, training=True)
        return tf.reduce_mean(tf.reduce_sum(tape.gradient(out, x) ** 2, axis=1))

    v = ex_torch.gradient_penalty.verdict(mean_torch)
    assert v.status == WRONG and _gp_diag("gradient of the mean") in v.message
    v = ex_tf.gradient_penalty.verdict(squared_tf)
    assert v.status == WRONG and _gp_diag("squared norm") in v.message


# R1

def _r1_diag(name):
    return next(m.message for m in PX.R1_MISTAKES if m.name == name)


def test_r1_learner_answers():
    def r1_torch(half=True, create_graph=True):
        def r1(critic, real, gamma):
            x = real.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=create_graph)
            return (0.5 if half else 1.0) * gamma * (g ** 2).sum(1).mean()
        return r1

    def r1_tf(norm_squared=False, reduce=tf.reduce_mean, stop=False):
        def r1(critic, real, gamma):
            with tf.GradientTape() as tape:
                tape.watch(real)
                out = critic(real, training=True)
            g = tape.gradient(out, real)
            g = tf.stop_gradient(g) if stop else g
            sq = tf.norm(g, axis=1) ** 2 if norm_squared else tf.reduce_sum(g ** 2, axis=1)
            return gamma / 2 * reduce(sq)
        return r1

    assert ex_torch.r1_penalty.verdict(r1_torch()).status == CORRECT
    assert ex_tf.r1_penalty.verdict(r1_tf()).status == CORRECT
    v = ex_torch.r1_penalty.verdict(r1_torch(half=False))
    assert v.status == WRONG and _r1_diag("no one half") in v.message
    v = ex_torch.r1_penalty.verdict(r1_torch(create_graph=False))
    assert v.status == WRONG and BLOCKED in v.message
    # TensorFlow differentiates tf.norm(g)**2 to 0 (not NaN) at g = 0, so this is fine
    assert ex_tf.r1_penalty.verdict(r1_tf(norm_squared=True)).status == CORRECT
    v = ex_tf.r1_penalty.verdict(r1_tf(reduce=tf.reduce_sum))
    assert v.status == WRONG and _r1_diag("sum over samples") in v.message
    v = ex_tf.r1_penalty.verdict(r1_tf(stop=True))
    assert v.status == WRONG and BLOCKED in v.message
