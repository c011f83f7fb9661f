"""The gradient check (course_lib.exercises.gradient_check), per track: every exercise whose
output training differentiates rejects answers with the right values whose gradient is blocked
(torch.no_grad(), .detach(), a NumPy round trip, tf.stop_gradient), cut in part (a detached
mean) or wrong (a custom gradient), and answers that return plain numbers; each diagnosis names
the argument and the likely cause in the track's words. Correct alternatives still pass."""
import numpy as np
import pytest

from course_lib.checks import CORRECT, WRONG

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.tensorflow import exercises as ex_tf  # noqa: E402
from course_lib.torch import exercises as ex_torch  # noqa: E402

EX = {"torch": ex_torch, "tensorflow": ex_tf}
# exercise -> the arguments that must receive gradient, as the diagnosis names them
INPUTS = {"reparameterize": {0: "`mu`", 1: "`logvar`"},
          "negative_elbo": {1: "`logits`", 2: "`mu`", 3: "`logvar`"},
          "l2_penalty": {0: "`params[0]`"},
          "batchnorm_train": {0: "`x`", 1: "`gamma`", 2: "`beta`"},
          "layernorm": {0: "`x`", 1: "`gamma`", 2: "`beta`"}}
CUT = {"torch": "was it computed under torch.no_grad(), with .detach() or through NumPy",
       "tensorflow": "was it computed with tf.stop_gradient, through NumPy"}


def _apply(out, f):
    """``f`` on the result, or on the trained output ``y`` of batch norm's ``(y, mean, var)``."""
    return (f(out[0]), *out[1:]) if isinstance(out, tuple) else f(out)


def _whole_output_cuts(track, ref):
    """The reference, with its (trained) output cut from the graph in the usual ways."""
    if track == "torch":
        def no_grad(*a):
            with torch.no_grad():
                return ref(*a)
        return {"torch.no_grad()": no_grad,
                ".detach()": lambda *a: _apply(ref(*a), lambda t: t.detach()),
                "NumPy round trip": lambda *a: _apply(ref(*a), lambda t: torch.as_tensor(t.detach().numpy()))}
    return {"tf.stop_gradient": lambda *a: _apply(ref(*a), tf.stop_gradient),
            "NumPy round trip": lambda *a: _apply(ref(*a), lambda t: tf.constant(t.numpy()))}


def _cut_input(track, ref, i, k=None):
    """The reference with argument ``i`` (entry ``k`` of a list argument) cut from the graph."""
    cut = (lambda t: t.detach()) if track == "torch" else tf.stop_gradient

    def fn(*a):
        a = list(a)
        a[i] = [cut(t) if j == k else t for j, t in enumerate(a[i])] if k is not None else cut(a[i])
        return ref(*a)
    return fn


def _verdict(track, name, fn):
    return getattr(EX[track], name).verdict(fn)


@pytest.mark.parametrize("track", list(EX))
@pytest.mark.parametrize("name", list(INPUTS))
def test_blocked_outputs_are_rejected_with_the_gradient_diagnosis(track, name):
    exercise = getattr(EX[track], name)
    assert exercise.verdict(exercise.fallback).status == CORRECT
    for how, fn in _whole_output_cuts(track, exercise.fallback).items():
        v = exercise.verdict(fn)
        assert v.status == WRONG and "the values are right, but no gradient reaches" in v.message, (how, v.message)
        assert CUT[track] in v.message and all(arg in v.message for arg in INPUTS[name].values()), (how, v.message)
        assert v.use is exercise.fallback


@pytest.mark.parametrize("track", list(EX))
@pytest.mark.parametrize("name", list(INPUTS))
def test_one_blocked_input_is_named(track, name):
    exercise = getattr(EX[track], name)
    for i, arg in INPUTS[name].items():
        fn = _cut_input(track, exercise.fallback, i, k=0 if name == "l2_penalty" else None)
        v = exercise.verdict(fn)
        assert v.status == WRONG and f"no gradient reaches {arg}:" in v.message, (arg, v.message)
        others = [a for j, a in INPUTS[name].items() if j != i]
        assert not any(a in v.message.split("?")[0] for a in others), v.message


@pytest.mark.parametrize("track", list(EX))
def test_l2_penalty_names_the_blocked_weight_and_ignores_biases(track):
    exercise = EX[track].l2_penalty
    v = exercise.verdict(_cut_input(track, exercise.fallback, 0, k=2))  # params[2] is the second weight matrix
    assert v.status == WRONG and "no gradient reaches `params[2]`:" in v.message, v.message
    # cutting a bias changes nothing: biases are not penalised, so no gradient is expected there
    assert exercise.verdict(_cut_input(track, exercise.fallback, 0, k=1)).status == CORRECT


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")  # the learner's float()
@pytest.mark.parametrize("track", list(EX))
def test_plain_numbers_are_diagnosed_not_crashed_on(track):
    plain = {"torch": ".item(), float() or .numpy() cut the graph", "tensorflow": "float() or .numpy() cut the graph"}
    numpy = (lambda t: t.detach().numpy()) if track == "torch" else (lambda t: t.numpy())
    answers = {"l2_penalty": [(lambda ref: lambda *a: float(ref(*a)), "a Python float"),
                              (lambda ref: lambda *a: np.float32(numpy(ref(*a))), "a NumPy scalar (float32)")],
               "negative_elbo": [(lambda ref: lambda *a: numpy(ref(*a)), "a NumPy array")],
               "reparameterize": [(lambda ref: lambda *a: numpy(ref(*a)).tolist(), None)],  # a list: not an array
               "gradient_penalty": [(lambda ref: lambda *a: float(ref(*a)), "a Python float")],
               "r1_penalty": [(lambda ref: lambda *a: float(ref(*a)), "a Python float")]}
    if track == "torch":
        answers["l2_penalty"].append((lambda ref: lambda *a: ref(*a).item(), "a Python float"))
    for name, makers in answers.items():
        exercise = getattr(EX[track], name)
        for make, what in makers:
            v = exercise.verdict(make(exercise.fallback))
            assert v.status == WRONG, (name, what)
            if what is None:  # nested lists of numbers: values are compared, then the gradient check objects
                assert "returned a list, not a tensor" in v.message, v.message
            else:
                assert f"the values are right, but it returned {what}, not a tensor: {plain[track]}" in v.message, \
                    v.message


def _torch_norm_answers(detach_stats):
    cut = (lambda t: t.detach()) if detach_stats else (lambda t: t)

    def batchnorm(x, gamma, beta, rm, rv, momentum, eps):
        n = x.shape[0]
        mean, var = cut(x.mean(0)), cut(x.var(0, unbiased=False))
        y = gamma * (x - mean) / torch.sqrt(var + eps) + beta
        return y, (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var * n / (n - 1)

    def layernorm(x, gamma, beta, eps):
        if not detach_stats:  # PyTorch's own layer norm: another correct answer
            return torch.nn.functional.layer_norm(x, (x.shape[1],), gamma, beta, eps)
        mean, var = cut(x.mean(1, keepdim=True)), x.var(1, unbiased=False, keepdim=True)
        return gamma * (x - mean) / torch.sqrt(var + eps) + beta
    return {"batchnorm_train": batchnorm, "layernorm": layernorm}


def _tf_norm_answers(detach_stats):
    cut = tf.stop_gradient if detach_stats else (lambda t: t)

    def batchnorm(x, gamma, beta, rm, rv, momentum, eps):
        n = tf.cast(tf.shape(x)[0], x.dtype)
        mean, var = tf.nn.moments(x, axes=[0])
        mean, var = cut(mean), cut(var)
        y = tf.nn.batch_normalization(x, mean, var, beta, gamma, eps)
        return y, (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var * n / (n - 1)

    def layernorm(x, gamma, beta, eps):
        mean, var = tf.nn.moments(x, axes=[1], keepdims=True)
        return tf.nn.batch_normalization(x, cut(mean), var, beta, gamma, eps)
    return {"batchnorm_train": batchnorm, "layernorm": layernorm}


@pytest.mark.parametrize("track", list(EX))
def test_normalisation_with_constant_statistics_has_a_wrong_gradient(track):
    """Treating the batch statistics as constants keeps the values and changes the gradient w.r.t. x."""
    make = _torch_norm_answers if track == "torch" else _tf_norm_answers
    for name, fn in make(detach_stats=False).items():
        v = _verdict(track, name, fn)
        assert v.status == CORRECT, (name, v.message)
    for name, fn in make(detach_stats=True).items():
        v = _verdict(track, name, fn)
        assert v.status == WRONG and "the gradient with respect to `x` is not the reference's" in v.message, v.message
        assert CUT[track].replace("was it ", "") in v.message


def _torch_wrong_exp():
    class Exp(torch.autograd.Function):  # right values, a backward pass off by a factor 2
        @staticmethod
        def forward(ctx, t):
            out = torch.exp(t)
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return 2 * grad * out
    return Exp.apply


def _tf_wrong_exp():
    @tf.custom_gradient
    def exp(t):
        out = tf.exp(t)
        return out, lambda grad: 2 * grad * out
    return exp


@pytest.mark.parametrize("track", list(EX))
def test_a_custom_gradient_with_a_wrong_backward_pass_is_caught(track):
    exp = _torch_wrong_exp() if track == "torch" else _tf_wrong_exp()
    v = EX[track].reparameterize.verdict(lambda mu, lv, eps: mu + exp(0.5 * lv) * eps)
    assert v.status == WRONG and "the gradient with respect to `logvar` is not the reference's" in v.message
    assert "custom gradient" in v.message


def _torch_penalty_cuts():
    def gp(critic, real, fake, u, how):
        x = (u * real + (1 - u) * fake).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        if how == ".detach()":
            g = g.detach()
        if how == "NumPy round trip":
            g = torch.as_tensor(g.detach().numpy())
        norm = torch.sqrt((g ** 2).sum(dim=1) + 1e-12)
        if how == "torch.no_grad()":
            with torch.no_grad():
                return ((norm - 1) ** 2).mean()
        return ((norm - 1) ** 2).mean()
    return {how: (lambda *a, how=how: gp(*a, how)) for how in ("torch.no_grad()", ".detach()", "NumPy round trip")}


def _tf_penalty_cuts():
    def gp(critic, real, fake, u, how):
        x = u * real + (1 - u) * fake
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = critic(x, training=True)
        g = tape.gradient(out, x)
        g = {"tf.stop_gradient": tf.stop_gradient, "NumPy round trip": lambda t: tf.constant(t.numpy())}[how](g)
        return tf.reduce_mean((tf.sqrt(tf.reduce_sum(g ** 2, axis=1) + 1e-12) - 1) ** 2)
    return {how: (lambda *a, how=how: gp(*a, how)) for how in ("tf.stop_gradient", "NumPy round trip")}


@pytest.mark.parametrize("track", list(EX))
def test_penalties_with_a_cut_graph_are_rejected(track):
    ex = EX[track]
    cuts = _torch_penalty_cuts() if track == "torch" else _tf_penalty_cuts()
    for how, fn in cuts.items():
        v = ex.gradient_penalty.verdict(fn)
        assert v.status == WRONG, (how, v.message)
        assert "no gradient reaches the critic's parameters: was it" in v.message, (how, v.message)
        assert "constrains nothing" in v.message
    for name in ("gradient_penalty", "r1_penalty"):
        exercise = getattr(ex, name)
        for how, fn in _whole_output_cuts(track, exercise.fallback).items():
            if how == "torch.no_grad()":
                continue  # the input gradient itself cannot be taken under no_grad: that raises (tested below)
            v = exercise.verdict(fn)
            assert v.status == WRONG and "no gradient reaches the critic's parameters" in v.message, (name, how)


def test_a_penalty_under_no_grad_raises_and_says_so():
    def r1(critic, real, gamma):
        with torch.no_grad():
            return ex_torch.r1_penalty.fallback(critic, real, gamma)
    v = ex_torch.r1_penalty.verdict(r1)
    assert v.status == WRONG and "your function raised RuntimeError" in v.message

