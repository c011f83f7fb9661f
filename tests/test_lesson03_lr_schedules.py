"""Lesson 03: every framework schedule against its closed form (both tracks), the seed's
compounding schedule, reduce-on-plateau, and the checkers of the lesson's exercises."""
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from course_lib.checks import CORRECT, NOT_ATTEMPTED, WRONG
from course_lib.exercises import lesson03_lr_schedules as shared
from course_lib.techniques import schedules as S

N, BASE, WARM, MIN = 400, 1e-3, 40, 1e-5
MILESTONES = (200, 300)
STEPS = np.arange(N)


# --- the closed forms -----------------------------------------------------------------------

def test_closed_forms_at_known_points():
    assert S.constant(123, BASE) == BASE
    assert S.step_decay(99, BASE, 100, 0.5) == BASE and S.step_decay(100, BASE, 100, 0.5) == BASE / 2
    assert S.multistep(199, BASE, MILESTONES, 0.5) == BASE
    assert S.multistep(200, BASE, MILESTONES, 0.5) == BASE / 2
    assert S.multistep(300, BASE, MILESTONES, 0.5) == BASE / 4
    assert S.cosine(0, BASE, N, MIN) == pytest.approx(BASE)
    assert S.cosine(N // 2, BASE, N, MIN) == pytest.approx((BASE + MIN) / 2)
    assert S.cosine(N, BASE, N, MIN) == pytest.approx(MIN) and S.cosine(3 * N, BASE, N, MIN) == pytest.approx(MIN)
    assert S.warmup_cosine(0, BASE, WARM, N, MIN) == 0.0
    assert S.warmup_cosine(WARM // 2, BASE, WARM, N, MIN) == pytest.approx(BASE / 2)
    assert S.warmup_cosine(WARM, BASE, WARM, N, MIN) == pytest.approx(BASE)
    assert S.warmup_cosine((WARM + N) // 2, BASE, WARM, N, MIN) == pytest.approx((BASE + MIN) / 2)
    assert S.warmup_cosine(N, BASE, WARM, N, MIN) == pytest.approx(MIN)
    assert S.warmup_cosine(2 * N, BASE, WARM, N, MIN) == pytest.approx(MIN)
    # vectorised and scalar agree
    vec = S.warmup_cosine(STEPS, BASE, WARM, N, MIN)
    assert vec.shape == (N,) and np.allclose(vec, [S.warmup_cosine(int(s), BASE, WARM, N, MIN) for s in STEPS])
    assert np.all(np.diff(vec[WARM:]) <= 1e-15) and np.all(np.diff(vec[:WARM + 1]) > 0)


def test_seed_schedule_compounds_towards_zero():
    rates = S.seed_compounding(100, 1e-3)
    assert rates[0] == rates[50] == 1e-3  # the first halving is applied after epoch 50
    assert rates[51] == pytest.approx(1e-3 / 2) and rates[52] == pytest.approx(1e-3 / 4)
    after = S.seed_rule(99, rates[-1])
    assert after == pytest.approx(1e-3 * 0.5**25 * 0.25**25, rel=1e-12)
    assert after < 1e-25
    intended = S.seed_intended(np.arange(100), 1e-3)
    assert intended[-1] == pytest.approx(2.5e-4) and intended[50] == pytest.approx(5e-4)
    assert S.seed_rule(80, 1e-3) == pytest.approx(S.seed_intended(80, 1e-3))  # right when given the base rate


def _plateau_sequences():
    rng = np.random.default_rng(3)
    seqs = [list(10 - np.arange(6)) + [5.0] * 10, [3.0, 2.0, 2.5, 2.4, 2.3, 2.2, 2.0, 1.0, 1.5, 1.4, 1.3, 1.2]]
    for _ in range(6):
        seqs.append(list(np.cumsum(rng.normal(0.0, 1.0, 40)) + 50))
    return seqs


def test_reduce_on_plateau_rule():
    p = S.ReduceOnPlateau(1.0, factor=0.5, patience=2)
    rates = [p.step(v) for v in [5.0, 4.0, 4.5, 4.4, 4.3, 3.0, 3.5, 3.6]]
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert p.reductions == [3, 7]
    # min_delta: a gain of exactly min_delta is no improvement
    p = S.ReduceOnPlateau(1.0, factor=0.5, patience=1, min_delta=0.5)
    assert [p.step(v) for v in [2.0, 1.5, 0.9]] == [1.0, 0.5, 0.5]
    # cooldown: the evaluations right after a cut are not counted
    p = S.ReduceOnPlateau(1.0, factor=0.5, patience=1, cooldown=2)
    assert [p.step(v) for v in [1.0, 2.0, 2.0, 2.0, 2.0, 2.0]] == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    # min_lr floors the rate; NaN never improves; max mode
    p = S.ReduceOnPlateau(1.0, factor=0.1, patience=1, min_lr=0.05)
    assert [p.step(v) for v in [1.0, float("nan"), 2.0, 2.0]] == [1.0, 0.1, 0.05, 0.05]
    p = S.ReduceOnPlateau(1.0, factor=0.5, patience=1, mode="max")
    assert [p.step(v) for v in [0.5, 0.7, 0.6]] == [1.0, 1.0, 0.5]
    for bad in (dict(factor=1.5), dict(patience=0), dict(mode="lowest"), dict(cooldown=-1)):
        with pytest.raises(ValueError):
            S.ReduceOnPlateau(1.0, **bad)


def test_schedule_table_is_aligned():
    t = S.table({"constant": lambda s: S.constant(s, BASE), "cosine": lambda s: S.cosine(s, BASE, N)}, [0, N])
    lines = t.splitlines()
    assert len(lines) == 3 and len({len(line) for line in lines}) == 1 and "1.00e-03" in lines[1]


# --- PyTorch --------------------------------------------------------------------------------

def _torch_rates(make, n=N):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=BASE)
    sched = make(opt)
    rates = []
    for _ in range(n):
        rates.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return np.array(rates)


def test_torch_schedulers_match_closed_forms():
    torch = pytest.importorskip("torch")
    L = torch.optim.lr_scheduler

    def close(a, b):
        return np.allclose(a, b, rtol=1e-6, atol=1e-12)

    assert close(_torch_rates(lambda o: L.StepLR(o, 100, 0.5)), S.step_decay(STEPS, BASE, 100, 0.5))
    assert close(_torch_rates(lambda o: L.MultiStepLR(o, list(MILESTONES), 0.5)),
                 S.multistep(STEPS, BASE, MILESTONES, 0.5))
    assert close(_torch_rates(lambda o: L.CosineAnnealingLR(o, N, MIN), N + 1),
                 S.cosine(np.arange(N + 1), BASE, N, MIN))
    assert close(_torch_rates(lambda o: L.LambdaLR(o, lambda s: S.warmup_cosine(s, 1.0, WARM, N, MIN / BASE)), N + 50),
                 S.warmup_cosine(np.arange(N + 50), BASE, WARM, N, MIN))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's internal step(0) at the milestone warns in some versions
        seq = _torch_rates(lambda o: L.SequentialLR(o, [L.LinearLR(o, 1e-9, 1.0, WARM),
                                                        L.CosineAnnealingLR(o, N - WARM, MIN)], [WARM]), N + 1)
    assert np.allclose(seq, S.warmup_cosine(np.arange(N + 1), BASE, WARM, N, MIN), rtol=1e-6, atol=1e-11)


def test_torch_warmup_cosine_scheduler_matches_the_closed_form_and_the_keras_twin():
    torch = pytest.importorskip("torch")
    from course_lib.torch.schedules import WarmupCosine
    rates = _torch_rates(lambda o: WarmupCosine(o, WARM, N, MIN), N + 50)
    assert np.allclose(rates, S.warmup_cosine(np.arange(N + 50), BASE, WARM, N, MIN), rtol=1e-9, atol=0.0)
    # each parameter group warms up to its own initial rate, as PyTorch's schedulers do
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1.0},
                           {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1}])
    sched = WarmupCosine(opt, 4, 10)
    for _ in range(2):
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.5, 0.05])
    with pytest.raises(ValueError):
        WarmupCosine(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), 10, 10)


def test_torch_cosine_annealing_rises_after_t_max():
    torch = pytest.importorskip("torch")
    rates = _torch_rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 100, 0.0), 150)
    assert rates[100] == pytest.approx(0.0, abs=1e-12) and rates[149] > 1e-4  # the closed form clamps; torch does not


@pytest.mark.parametrize("patience,cooldown,min_lr", [(1, 0, 0.0), (2, 0, 0.0), (3, 1, 0.0), (2, 2, 1e-4), (1, 3, 0.0)])
def test_torch_reduce_on_plateau_matches_the_rule(patience, cooldown, min_lr):
    torch = pytest.importorskip("torch")
    for seq in _plateau_sequences():
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1e-3)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=patience - 1, cooldown=cooldown,
                                                           threshold=0.1, threshold_mode="abs", min_lr=min_lr,
                                                           eps=1e-12)
        mine = S.ReduceOnPlateau(1e-3, factor=0.5, patience=patience, min_delta=0.1, cooldown=cooldown, min_lr=min_lr)
        theirs, ours = [], []
        for v in seq:
            sched.step(v)
            theirs.append(opt.param_groups[0]["lr"])
            ours.append(mine.step(v))
        assert np.allclose(theirs, ours, rtol=1e-9), (seq, theirs, ours)


# --- TensorFlow (Keras 3) --------------------------------------------------------------------

def _tf():
    ct = pytest.importorskip("course_lib.tensorflow")
    import keras
    import tensorflow as tf
    return ct, tf, keras


def _keras_rates(schedule, n=N):
    return np.array([float(schedule(s)) for s in range(n)])


def test_keras_schedules_match_closed_forms():
    ct, tf, keras = _tf()
    from course_lib.tensorflow.schedules import WarmupCosine
    K = keras.optimizers.schedules

    def close(a, b):
        return np.allclose(a, b, rtol=1e-5, atol=1e-12)

    assert close(_keras_rates(K.ExponentialDecay(BASE, 100, 0.5, staircase=True)), S.step_decay(STEPS, BASE, 100, 0.5))
    values = [BASE, BASE * 0.5, BASE * 0.25]
    assert close(_keras_rates(K.PiecewiseConstantDecay([m - 1 for m in MILESTONES], values)),
                 S.multistep(STEPS, BASE, MILESTONES, 0.5))
    # Keras keeps values[i] up to *and including* boundaries[i]: the milestones as boundaries are one step late
    late = _keras_rates(K.PiecewiseConstantDecay(list(MILESTONES), values))
    diff = np.flatnonzero(~np.isclose(late, S.multistep(STEPS, BASE, MILESTONES, 0.5)))
    assert list(diff) == list(MILESTONES)
    n = N + 50
    assert close(_keras_rates(K.CosineDecay(BASE, N, alpha=MIN / BASE), n), S.cosine(np.arange(n), BASE, N, MIN))
    assert close(_keras_rates(K.CosineDecay(0.0, N - WARM, alpha=MIN / BASE, warmup_target=BASE, warmup_steps=WARM), n),
                 S.warmup_cosine(np.arange(n), BASE, WARM, N, MIN))
    assert close(_keras_rates(WarmupCosine(BASE, WARM, N, MIN), n), S.warmup_cosine(np.arange(n), BASE, WARM, N, MIN))
    assert WarmupCosine.from_config(WarmupCosine(BASE, WARM, N, MIN).get_config()).total_steps == N


def test_keras_optimizer_follows_its_schedule_step_by_step():
    ct, tf, keras = _tf()
    from course_lib.tensorflow.schedules import WarmupCosine
    v = keras.Variable(np.zeros(2, np.float32))
    opt = keras.optimizers.SGD(WarmupCosine(BASE, 5, 20, MIN))
    seen = []
    for _ in range(25):
        seen.append(float(opt.learning_rate))
        opt.apply_gradients([(tf.ones(2), v)])
    assert np.allclose(seen, S.warmup_cosine(np.arange(25), BASE, 5, 20, MIN), rtol=1e-5, atol=1e-12)


def test_keras3_rejects_optimizer_lr_and_learning_rate_is_settable():
    ct, tf, keras = _tf()
    opt = keras.optimizers.Adam(1e-3)
    with pytest.raises(AttributeError):
        opt.lr  # the seed's `lr_schedule(epoch, optimizer.lr)` fails right here  # noqa: B018
    opt.lr = 0.5  # a plain Python attribute: the optimizer never reads it
    assert float(opt.learning_rate) == pytest.approx(1e-3)
    opt.learning_rate = 0.1
    assert float(opt.learning_rate) == pytest.approx(0.1)
    opt.learning_rate.assign(0.2)
    assert float(opt.learning_rate) == pytest.approx(0.2)
    scheduled = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, 10))
    with pytest.raises(TypeError):
        scheduled.learning_rate = 0.1


@pytest.mark.parametrize("patience,min_lr", [(1, 0.0), (2, 0.0), (3, 1e-4)])
def test_keras_reduce_on_plateau_callback_matches_the_rule(patience, min_lr):
    ct, tf, keras = _tf()
    for seq in _plateau_sequences():
        opt = keras.optimizers.SGD(1e-3)
        cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=patience, min_delta=0.1,
                                               min_lr=min_lr, verbose=0)
        cb.set_model(SimpleNamespace(optimizer=opt))
        cb.on_train_begin()
        mine = S.ReduceOnPlateau(1e-3, factor=0.5, patience=patience, min_delta=0.1, min_lr=min_lr)
        theirs, ours = [], []
        for epoch, v in enumerate(seq):
            cb.on_epoch_end(epoch, {"val_loss": v})
            theirs.append(float(opt.learning_rate))
            ours.append(mine.step(v))
        assert np.allclose(theirs, ours, rtol=1e-6), (seq, theirs, ours)


def test_plateau_rule_drives_a_keras_optimizer_in_a_custom_loop():
    ct, tf, keras = _tf()
    opt = keras.optimizers.Adam(1e-3)
    rule = S.ReduceOnPlateau(1e-3, factor=0.5, patience=2)
    for v in [5.0, 4.0, 4.5, 4.4, 4.3]:
        opt.learning_rate.assign(rule.step(v))
    assert float(opt.learning_rate) == pytest.approx(5e-4)


# --- the checkers --------------------------------------------------------------------------

def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("make", [shared.lr_at, shared.warmup_cosine])
def test_checker_accepts_reference_and_diagnoses_each_mistake(make):
    ex = make()
    assert ex.verdict(ex.truth).status == CORRECT
    assert ex.verdict(_stub).status == NOT_ATTEMPTED and ex.verdict(None).status == NOT_ATTEMPTED
    for m in ex.mistakes:
        v = ex.verdict(m.impl)
        assert v.status == WRONG and m.message in v.message, m.name
        assert v.use is ex.truth


def test_lr_at_diagnoses_the_seed_and_accepts_natural_answers():
    ex = shared.lr_at()

    def seed_style(epoch, base_lr):  # what a learner who copies the seed's loop writes
        lr = base_lr
        for e in range(epoch):
            lr = S.seed_rule(e, lr)
        return lr

    v = ex.verdict(seed_style)
    assert v.status == WRONG and "compound" in v.message
    assert ex.verdict(lambda e, b: b * (1.0 if e < 50 else 0.5 if e < 75 else 0.25)).status == CORRECT
    assert ex.verdict(lambda e, b: b * 0.5 ** ((e >= 50) + (e >= 75))).status == CORRECT


def test_warmup_cosine_accepts_natural_answers():
    ex = shared.warmup_cosine()

    def mine(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
        if step < warmup_steps:
            return base_lr * step / warmup_steps
        t = min(step, total_steps) - warmup_steps
        return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * t / (total_steps - warmup_steps)))

    assert ex.verdict(mine).status == CORRECT
    v = ex.verdict(lambda s, b, w, T, m=0.0: mine(s, b, w, T, m) * 2)
    assert v.status == WRONG and "2 times" in v.message


@pytest.mark.parametrize("track", ["course_lib.torch", "course_lib.tensorflow"])
def test_tracks_export_the_checkers(track):
    mod = pytest.importorskip(track + ".exercises")
    for name in ("lr_at", "warmup_cosine"):
        assert getattr(mod, name).verdict(getattr(mod, name).truth).status == CORRECT
