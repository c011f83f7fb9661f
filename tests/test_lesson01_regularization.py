"""Lesson 01: the L2 penalty against a closed form, AdamW vs L2-in-Adam single steps against
hand-computed numbers in both frameworks, dropout and spectral normalization layers, the
discriminator's measurements (memorisation AUC, FCD with precision and recall), and the checkers of
the lesson's exercises (reference passes, each known mistake gets its diagnosis). The training steps
written out in the notebooks are tested in test_lesson01_training_step.py."""
import numpy as np
import pytest

from course_lib import budgets
from course_lib.checks import CORRECT, NOT_ATTEMPTED, WRONG
from course_lib.exercises import lesson01_regularization as shared
from course_lib.techniques import regularization as reg

TRACKS = ["course_lib.torch", "course_lib.tensorflow"]


def _track(name):
    return pytest.importorskip(name)


# --- framework-neutral ---------------------------------------------------------------------

def test_l2_penalty_closed_form_skips_biases():
    W1, b1, W2 = np.full((3, 4), 2.0), np.full(4, 5.0), np.arange(6.0).reshape(2, 3)
    # wd/2 * (12 * 4 + (0 + 1 + 4 + 9 + 16 + 25)) = 0.1/2 * 103
    assert reg.l2_penalty([W1, b1, W2], 0.1) == pytest.approx(0.05 * 103)
    assert reg.l2_penalty([b1], 0.1) == 0.0


def test_first_adam_step_by_hand():
    # From a fresh state, Adam's step is lr * g / (|g| + eps) ~ lr * sign(g).
    w, g, lr, wd = np.array([1.0, -2.0]), np.array([0.5, 0.5]), 0.1, 0.2
    dec, m, v = reg.adam_step(w, g, 0 * w, 0 * w, 1, lr, wd, decoupled=True)
    np.testing.assert_allclose(dec, w * (1 - lr * wd) - lr * np.sign(g), atol=1e-7)
    np.testing.assert_allclose(m, 0.1 * g)
    np.testing.assert_allclose(v, 0.001 * g**2)
    cou = reg.adam_step(w, g, 0 * w, 0 * w, 1, lr, wd, decoupled=False)[0]
    # coupled: the gradient is g + wd * w = [0.7, 0.1], still positive -> both weights move by -lr
    np.testing.assert_allclose(cou, w - lr * np.sign(g + wd * w), atol=1e-7)


def test_decay_demo_shows_the_difference():
    left = reg.decay_demo((0.01, 100.0), steps=300, lr=1e-2, wd=0.1, n=50)
    expected = (1 - 1e-3) ** 300
    assert all(abs(x - expected) < 0.05 for x in left["decoupled"])
    assert left["coupled"][0] < 0.1 and left["coupled"][1] > 0.9


def test_effective_decay():
    coupled, decoupled = reg.effective_decay([0.01, 1.0, 100.0], lr=1e-2, wd=0.1)
    np.testing.assert_allclose(decoupled, 1e-3)
    np.testing.assert_allclose(coupled, [0.1, 1e-3, 1e-5], rtol=1e-5)


def test_memorisation_auc_reads_only_the_order_of_the_scores():
    assert reg.memorisation_auc([2.0, 3.0], [0.0, 1.0]) == 1.0  # every training image above every new one
    assert reg.memorisation_auc([0.0, 1.0], [2.0, 3.0]) == 0.0
    assert reg.memorisation_auc([1.0, 1.0], [1.0, 1.0]) == 0.5  # ties count half
    assert reg.memorisation_auc([0.0, 2.0], [1.0, 3.0]) == 0.25
    # a monotone squashing (an unconfident D) changes the mean outputs, not the AUC
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 1, 200), rng.normal(0, 1, 180)
    squash = lambda t: 0.01 * t  # noqa: E731
    assert reg.memorisation_auc(squash(a), squash(b)) == reg.memorisation_auc(a, b)
    with pytest.raises(ValueError):
        reg.memorisation_auc([], [1.0])


def test_discriminator_report_puts_precision_and_recall_beside_fcd():
    from course_lib import data
    x = data.digits("train")[:400]
    history = {"p_train": [0.9, 0.8, 0.7, 0.6], "p_val": [0.5, 0.5, 0.5, 0.4]}
    out = reg.discriminator_report(x, np.zeros(10), np.zeros(9), np.full(8, -1.0), history)
    assert {"fcd", "precision", "recall", "gap", "outputs", "auc", "real_fake_auc"} <= set(out)
    assert out["gap"] == pytest.approx(np.mean([0.3, 0.2, 0.2]))
    assert out["outputs"]["training reals"] == pytest.approx(0.5) and out["auc"] == 0.5 and out["real_fake_auc"] == 1.0


def test_budgets_have_the_same_keys():
    cfgs = [budgets.config("01_regularization", b) for b in ("smoke", "cpu", "gpu")]
    assert len({frozenset(c) for c in cfgs}) == 1
    assert len(cfgs[0].seeds) >= 2 and len(cfgs[1].seeds) >= 5 and len(cfgs[2].seeds) >= 5


# --- both frameworks ---------------------------------------------------------------------------

@pytest.mark.parametrize("track", TRACKS)
def test_framework_steps_match_the_numpy_rules(track):
    ct = _track(track)
    w, g, lr, wd = np.array([1.0, 1.0, 1.0, -0.5]), np.array([0.01, 1.0, 100.0, 0.3]), 0.1, 0.5
    dec = reg.adam_step(w, g, 0 * w, 0 * w, 1, lr, wd, decoupled=True)[0]
    cou = reg.adam_step(w, g, 0 * w, 0 * w, 1, lr, wd, decoupled=False)[0]
    # hand-computed: decoupled = w (1 - lr wd) - lr sign(g); coupled = w - lr sign(g + wd w)
    np.testing.assert_allclose(dec, [0.85, 0.85, 0.85, -0.575], atol=1e-6)
    np.testing.assert_allclose(cou, [0.9, 0.9, 0.9, -0.6], atol=1e-6)
    adamw, adam_wd, adam_loss = (ct.regularization.one_step(r, w, g, lr, wd) for r in ct.regularization.RECIPES)
    np.testing.assert_allclose(adamw, dec, atol=1e-5)
    np.testing.assert_allclose(adam_loss, cou, atol=1e-5)
    # torch.optim.Adam(weight_decay) is coupled L2; Keras 3's Adam(weight_decay) is decoupled.
    np.testing.assert_allclose(adam_wd, cou if track.endswith("torch") else dec, atol=1e-5)


@pytest.mark.parametrize("track", TRACKS)
def test_l2_penalty_in_the_framework(track):
    ct = _track(track)
    from course_lib import data
    model = ct.VAE(z_dim=4, hidden=(8,))
    if track.endswith("tensorflow"):
        model(ct.train.to_tensor(data.digits("val")[:1]))
        params = model.trainable_variables
    else:
        params = list(model.parameters())
    arrays = [ct.to_numpy(p) for p in params]
    assert any(a.ndim == 1 for a in arrays)
    got = float(ct.to_numpy(ct.regularization.l2_penalty(params, 0.3)))
    assert got == pytest.approx(reg.l2_penalty(arrays, 0.3), rel=1e-5)


def test_torch_adamw_leaves_biases_alone():
    torch = pytest.importorskip("torch")
    ct = _track("course_lib.torch")
    model = ct.MLP([3, 4, 2])
    for p in model.parameters():
        torch.nn.init.constant_(p, 1.0)
    opt = ct.regularization.adamw(model, lr=0.1, wd=0.5)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for p in model.parameters():
        expected = 1 - 0.1 * 0.5 if p.ndim >= 2 else 1.0
        np.testing.assert_allclose(p.detach().numpy(), expected, atol=1e-6)


def test_tensorflow_adamw_leaves_biases_alone():
    ct = _track("course_lib.tensorflow")
    import tensorflow as tf
    model = ct.MLP([3, 4, 2])
    for v in model.trainable_variables:
        v.assign(tf.ones_like(v))
    opt = ct.regularization.adamw(model, lr=0.1, wd=0.5)
    opt.apply_gradients([(tf.zeros_like(v), v) for v in model.trainable_variables])
    for v in model.trainable_variables:
        expected = 1 - 0.1 * 0.5 if len(v.shape) >= 2 else 1.0
        np.testing.assert_allclose(v.numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("track", TRACKS)
def test_dropout_zero_keeps_the_baseline_and_eval_is_deterministic(track):
    ct = _track(track)
    from course_lib import data
    x = ct.train.to_tensor(data.digits("val")[:16])
    base = ct.VAE(z_dim=4, hidden=(32, 16))
    drop = ct.VAE(z_dim=4, hidden=(32, 16), dropout=0.5)
    if track.endswith("torch"):
        assert len(base.encoder) == 5 and len(drop.encoder) == 7  # Linear, ReLU (, Dropout) x2, Linear
        drop.eval()
        a, b = drop.encode(x)[0], drop.encode(x)[0]
        drop.train()
        c, d = drop.encode(x)[0], drop.encode(x)[0]
    else:
        assert len(base.encoder.layers) == 3 and len(drop.encoder.layers) == 5
        a, b = drop.encode(x, training=False)[0], drop.encode(x, training=False)[0]
        c, d = drop.encode(x, training=True)[0], drop.encode(x, training=True)[0]
    np.testing.assert_array_equal(ct.to_numpy(a), ct.to_numpy(b))
    assert not np.allclose(ct.to_numpy(c), ct.to_numpy(d))
    with pytest.raises(ValueError):
        ct.MLP([2, 2], dropout=1.0)


def test_torch_spectral_norm_layer_has_unit_singular_value():
    torch = pytest.importorskip("torch")
    ct = _track("course_lib.torch")
    torch.manual_seed(0)
    D = ct.regularization.RegDiscriminator(spectral=True)
    D.train()
    x = torch.rand(8, 64)
    for _ in range(20):  # one power iteration per training forward
        D(x)
    D.eval()
    sigmas = [ct.regularization.largest_singular_value(m) for m in D.net if isinstance(m, torch.nn.Linear)]
    assert len(sigmas) == 3
    np.testing.assert_allclose(sigmas, 1.0, atol=0.02)
    plain = ct.regularization.RegDiscriminator(spectral=False)
    assert max(ct.regularization.largest_singular_value(m) for m in plain.net if isinstance(m, torch.nn.Linear)) > 1.1


def test_tensorflow_spectral_norm_layer_has_unit_singular_value():
    ct = _track("course_lib.tensorflow")
    import keras
    keras.utils.set_random_seed(0)
    D = ct.regularization.RegDiscriminator(spectral=True)
    x = np.random.default_rng(0).random((8, 64)).astype(np.float32)
    for _ in range(20):  # one power iteration per training call
        D(x, training=True)
    wrapped = [layer for layer in D.net.layers if isinstance(layer, ct.models.SpectralDense)]
    assert len(wrapped) == 3
    sigmas = [ct.regularization.largest_singular_value(layer.normalized_kernel()) for layer in wrapped]
    np.testing.assert_allclose(sigmas, 1.0, atol=0.02)
    # the raw kernel keeps its scale (gradients flow through sigma, as in PyTorch)
    assert max(ct.regularization.largest_singular_value(layer.kernel) for layer in wrapped) > 1.1


@pytest.mark.parametrize("track", TRACKS)
def test_train_vae_penalty_fn_and_variants_run(track):
    ct = _track(track)
    from course_lib import data
    cfg = budgets.Config({**budgets.config("01_regularization", "smoke"), "vae_steps": 4, "eval_every": 2})
    x, xv = data.digits("train")[:40], data.digits("val")[:30]
    for variant in ct.regularization.VARIANTS:
        run = ct.regularization.train_vae_variant(variant, x, xv, cfg, 0, desc=None, x_test=data.digits("test")[:30])
        h = run["history"]
        assert h["step"] == [2, 4] and len(h["train_eval"]) == 2 and len(h["val_loss"]) == 2
        assert np.isfinite(run["val"]) and np.isfinite(run["train"]) and np.isfinite(run["test"])
    assert "test" not in ct.regularization.train_vae_variant("none", x, xv, cfg, 0)
    with pytest.raises(ValueError):
        ct.regularization.train_vae_variant("L3", x, xv, cfg, 0)


@pytest.mark.parametrize("track", TRACKS)
def test_gan_variant_reports_the_discriminator_gap(track):
    ct = _track(track)
    from course_lib import data
    cfg = budgets.Config({**budgets.config("01_regularization", "smoke"), "gan_steps": 4, "gan_eval_every": 2})
    run = ct.regularization.train_gan_variant("spectral norm", data.digits("train")[:40], data.digits("val")[:30],
                                              cfg, 0)
    h = run["history"]
    for key in ("acc_train", "acc_val", "p_train", "p_val"):
        assert len(h[key]) == 2 and all(0.0 <= v <= 1.0 for v in h[key])
    assert np.isfinite(run["fcd"]) and np.isfinite(run["gap"])
    for key in ("precision", "recall", "auc", "real_fake_auc", *(f"outputs:{k}" for k in run["outputs"])):
        value = run["outputs"][key.split(":")[1]] if key.startswith("outputs:") else run[key]
        assert 0.0 <= value <= 1.0, key
    assert set(run["outputs"]) == {"training reals", "held-out reals", "fakes"} and "G" in run and "D" in run


# --- checkers ------------------------------------------------------------------------------------

def _l2_numpy_ref(params, wd):
    return wd / 2 * sum(float((np.asarray(p) ** 2).sum()) for p in params if np.ndim(p) >= 2)


def test_l2_checker_numpy_reference_and_mistakes():
    exercise = shared.l2_penalty()
    assert exercise.verdict(_l2_numpy_ref).status == CORRECT
    assert exercise.verdict(None).status == NOT_ATTEMPTED
    messages = set()
    for m in exercise.mistakes:
        v = exercise.verdict(m.impl)
        assert v.status == WRONG and m.message in v.message, m.name
        messages.add(m.message)
    assert any("seed document" in msg for msg in messages)


def _torch_l2_answers():
    return {
        "reference": lambda ps, wd: wd / 2 * sum((p**2).sum() for p in ps if p.ndim >= 2),
        "biases included": lambda ps, wd: wd / 2 * sum((p**2).sum() for p in ps),
        "no 1/2": lambda ps, wd: wd * sum((p**2).sum() for p in ps if p.ndim >= 2),
        "L1": lambda ps, wd: wd / 2 * sum(p.abs().sum() for p in ps if p.ndim >= 2),
        "mean": lambda ps, wd: wd / 2 * sum((p**2).mean() for p in ps if p.ndim >= 2),
        "squared twice": lambda ps, wd: wd / 2 * sum((p**2).sum() for p in ps if p.ndim >= 2) ** 2,
        "no penalty (the seed)": lambda ps, wd: 0.0 * ps[0].sum(),
    }


def _tf_l2_answers():
    import tensorflow as tf
    weights = lambda ps: [p for p in ps if len(p.shape) >= 2]  # noqa: E731
    return {
        "reference": lambda ps, wd: wd / 2 * tf.add_n([tf.reduce_sum(p**2) for p in weights(ps)]),
        "biases included": lambda ps, wd: wd / 2 * tf.add_n([tf.reduce_sum(p**2) for p in ps]),
        "no 1/2": lambda ps, wd: wd * tf.add_n([tf.reduce_sum(p**2) for p in weights(ps)]),
        "L1": lambda ps, wd: wd / 2 * tf.add_n([tf.reduce_sum(tf.abs(p)) for p in weights(ps)]),
        "mean": lambda ps, wd: wd / 2 * tf.add_n([tf.reduce_mean(p**2) for p in weights(ps)]),
        "squared twice": lambda ps, wd: wd / 2 * tf.add_n([tf.reduce_sum(p**2) for p in weights(ps)]) ** 2,
        "no penalty (the seed)": lambda ps, wd: tf.constant(0.0),
    }


@pytest.mark.parametrize("track", TRACKS)
def test_l2_checker_with_framework_tensors(track):
    ct = _track(track)
    import importlib
    ex = importlib.import_module(f"{track}.exercises")
    answers = _torch_l2_answers() if track.endswith("torch") else _tf_l2_answers()
    assert ex.l2_penalty.verdict(answers.pop("reference")).status == CORRECT
    assert ex.l2_penalty.verdict(ex.l2_penalty.fallback).status == CORRECT
    by_name = {m.name: m.message for m in ex.l2_penalty.mistakes}
    for name, fn in answers.items():
        v = ex.l2_penalty.verdict(fn)
        assert v.status == WRONG and by_name[name] in v.message, name

    def stub(ps, wd):
        raise NotImplementedError
    v = ex.l2_penalty.verdict(stub)
    assert v.status == NOT_ATTEMPTED and v.use is ex.l2_penalty.fallback
    assert ct is not None


def _adamw_reference(w, grad, m, v, t, lr, wd):
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    w = w - lr * wd * w
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@pytest.mark.parametrize("track", ["neutral", *[t + ".exercises" for t in TRACKS]])
def test_adamw_checker(track):
    import importlib
    if track != "neutral":
        _track(track.rsplit(".", 1)[0])
        exercise = importlib.import_module(track).adamw_step
    else:
        exercise = shared.adamw_step()
    assert exercise.verdict(_adamw_reference).status == CORRECT
    # the coupled rule written by a learner: wd * w folded into the gradient
    def coupled(w, grad, m, v, t, lr, wd):
        return _adamw_reference(w, grad + wd * w, m, v, t, lr, 0.0)
    v = exercise.verdict(coupled)
    assert v.status == WRONG and "torch.optim.Adam(weight_decay=...)" in v.message
    # plain Adam, the seed's "regularization"
    v = exercise.verdict(lambda w, grad, m, v, t, lr, wd: _adamw_reference(w, grad, m, v, t, lr, 0.0))
    assert v.status == WRONG and "seed document" in v.message
    for m in exercise.mistakes:
        verdict = exercise.verdict(m.impl)
        assert verdict.status == WRONG and m.message in verdict.message, m.name
