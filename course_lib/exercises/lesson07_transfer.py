"""Lesson 07 exercises (transfer learning): ``load_pretrained`` and ``freeze_lower``.

The truths are NumPy: the output of a dense network given as ``[(kernel, bias), ...]``
(:func:`course_lib.pretrained.forward`), and, for freezing, what a few training steps may change in
a discriminator with BatchNorm (per block: its weights, its normalization statistics; and whether
the optimizer holds exactly the parameters that still train). Each track builds the networks and
runs the steps in its framework (``course_lib.<track>.transfer``), then reports the same NumPy
summary, so one definition checks both tracks.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..checks import Exercise, Mistake
from ..pretrained import forward


@dataclass(frozen=True)
class NetSpec:
    """A network to build in the learner's framework: ``kind`` "generator" (ReLU, sigmoid output),
    "critic" (LeakyReLU 0.2, one score) or "mlp" (ReLU, linear output), its layer ``sizes`` and the seed
    of its (random) initial weights; ``norm`` "batch" for a critic with BatchNorm after each hidden layer."""
    kind: str
    sizes: tuple
    seed: int = 0
    norm: str | None = None

    @property
    def n_blocks(self) -> int:
        return len(self.sizes) - 1


PROBE_ROWS = 5


def probe_input(in_dim: int) -> np.ndarray:
    """The fixed inputs on which a loaded network's outputs are compared."""
    return np.random.default_rng(123).normal(size=(PROBE_ROWS, in_dim)).astype(np.float32)


# --- loading pretrained weights ------------------------------------------------------------------


def _weights(spec: NetSpec, seed: int):
    rng = np.random.default_rng(seed)
    return [(rng.normal(scale=1 / np.sqrt(a), size=(a, b)).astype(np.float32),
             rng.normal(scale=0.3, size=b).astype(np.float32)) for a, b in zip(spec.sizes[:-1], spec.sizes[1:])]


def _forward(spec: NetSpec, layers) -> np.ndarray:
    hidden = "leaky" if spec.kind == "critic" else "relu"
    out = forward(layers, probe_input(spec.sizes[0]), hidden, "sigmoid" if spec.kind == "generator" else "linear")
    return out[:, 0] if spec.kind == "critic" else out


def load_truth(spec: NetSpec, layers):
    """The outputs of the network with exactly these weights, on :func:`probe_input`."""
    return _forward(spec, layers)


def _no_biases(spec, layers):
    return _forward(spec, [(k, np.zeros_like(b)) for k, b in layers])


def _no_last_bias(spec, layers):
    return _forward(spec, [(k, b) for k, b in layers[:-1]] + [(layers[-1][0], np.zeros_like(layers[-1][1]))])


LOAD_MISTAKES = (
    Mistake("biases not loaded", _no_biases,
            "the outputs are those of the network with the pretrained kernels and *zero* biases: copy every "
            "layer's bias too (bias is the second array of each pair)."),
    Mistake("last bias not loaded", _no_last_bias,
            "every layer matches except the last one's bias: loop over all layers (zip the model's dense layers "
            "with the pairs), not over all but the last."),
)

LOAD_HINTS = (
    "`transfer.dense_layers(model)` lists the model's dense layers, input side first; `layers` lists "
    "(kernel, bias) pairs in the same order. zip them.",
    "The kernel has shape (inputs, outputs). PyTorch's Linear.weight is (outputs, inputs): copy kernel.T "
    "into it, inside torch.no_grad(), with .copy_ (a copy, not a view of the NumPy array). Keras' Dense.kernel "
    "has the kernel's own shape: dense.kernel.assign(kernel), dense.bias.assign(bias).",
    "Return the model.",
)


def load_cases():
    specs = [NetSpec("generator", (4, 6, 8, 5), seed=1), NetSpec("critic", (5, 7, 3, 1), seed=2),
             NetSpec("mlp", (3, 9, 4), seed=3)]
    return [(spec, _weights(spec, 10 + i)) for i, spec in enumerate(specs)]


class LoadExercise(Exercise):
    """Calls the learner's ``fn(model, layers)`` on a freshly built network of the case's spec and
    reads back the outputs of the model it returns. ``build(spec)`` makes the track's network,
    ``outputs(model, x)`` runs it; ``extra_checks`` see the trained copy is not a view."""

    build: Callable = None
    outputs: Callable = None

    def call(self, fn, args):
        spec, layers = args
        model = fn(self.build(spec), [(k.copy(), b.copy()) for k, b in layers])
        if model is None:
            return None
        return (spec, model)


def load_pretrained_exercise(build, outputs, independent_check, fallback) -> Exercise:
    """``independent_check(fn) -> message or None``: the track's test that the model holds copies of the
    arrays (changing the model's weights must leave the arrays as they were) that still train."""
    ex = LoadExercise(name="load_pretrained", truth=load_truth, cases=load_cases(), hints=LOAD_HINTS,
                      mistakes=LOAD_MISTAKES, fallback=fallback,
                      to_numpy=lambda pair: np.asarray(outputs(pair[1], probe_input(pair[0].sizes[0])), np.float64),
                      extra_checks=(independent_check,), rtol=1e-5, atol=1e-6)
    ex.build, ex.outputs = build, outputs
    return ex


# --- freezing the lower k layers ---------------------------------------------------------------------

FREEZE_STEPS = 3


def freeze_truth(spec: NetSpec, k: int) -> np.ndarray:
    """Per block (input side first): [weights changed, normalization statistics changed], after
    :data:`FREEZE_STEPS` optimizer steps; then [the optimizer holds exactly the trainable parameters]."""
    return _freeze_outcome(spec, frozen=range(k), stats_frozen=range(k))


def _freeze_outcome(spec, frozen, stats_frozen, exact=True):
    rows = []
    for b in range(spec.n_blocks):
        has_norm = spec.norm is not None and b < spec.n_blocks - 1
        rows += [0.0 if b in frozen else 1.0, float(has_norm and b not in stats_frozen)]
    return np.array(rows + [1.0 if exact else 0.0])


FREEZE_MISTAKES = (
    Mistake("statistics still move", lambda s, k: _freeze_outcome(s, range(k), ()),
            "the frozen layers' weights stayed put, but their BatchNorm running statistics still moved. In "
            "PyTorch requires_grad_(False) stops gradients, not the running mean and variance: a BatchNorm "
            "layer in training mode updates them on every forward pass. Put the frozen normalization layers in "
            "eval mode (layer.eval()), and remember that a later model.train() puts them back in training mode. "
            "(In Keras 3, trainable = False on a BatchNormalization layer also makes it run in inference mode.)"),
    Mistake("every parameter to the optimizer", lambda s, k: _freeze_outcome(s, range(k), range(k), exact=False),
            "the frozen layers did not change, but the list you returned also holds parameters that no longer "
            "train. Return only what still trains ([p for p in model.parameters() if p.requires_grad], or "
            "model.trainable_variables): an optimizer that holds frozen weights keeps state for them and, with "
            "momentum or weight decay and zero-filled gradients, moves them."),
    Mistake("frozen weights handed to the optimizer", lambda s, k: _freeze_outcome(s, (), range(k), exact=False),
            "the list you returned holds the frozen layers' weights, and they changed in training. In TensorFlow a "
            "Keras layer's trainable = False does not change its variables: a GradientTape still differentiates "
            "them and apply_gradients updates whatever it is given. Return model.trainable_variables, read *after* "
            "freezing (a list taken before, or model.variables / model.weights, still holds the frozen ones)."),
    Mistake("the top k layers", lambda s, k: _freeze_outcome(s, range(s.n_blocks - k, s.n_blocks),
                                                             range(s.n_blocks - k, s.n_blocks)),
            "you froze the *last* k layers. FreezeD freezes the lower, input-side layers (the generic features) "
            "and fine-tunes the upper ones, which decide real or fake."),
    Mistake("one layer too many", lambda s, k: _freeze_outcome(s, range(k + 1), range(k + 1)),
            "you froze k + 1 layers: the lower k blocks are blocks 0 .. k-1 (blocks(model)[:k])."),
    Mistake("one layer too few", lambda s, k: _freeze_outcome(s, range(k - 1), range(k - 1)),
            "you froze k - 1 layers: the lower k blocks are blocks 0 .. k-1 (blocks(model)[:k])."),
    Mistake("nothing frozen", lambda s, k: _freeze_outcome(s, (), ()),
            "nothing was frozen: every layer changed in training."),
)

FREEZE_HINTS = (
    "`transfer.blocks(model)[:k]` are the lower k blocks; each block is a dense layer and the normalization "
    "layer after it, if any.",
    "PyTorch: for each layer of those blocks, layer.requires_grad_(False), and layer.eval() for the "
    "normalization layers (their running statistics move in training mode). Keras: layer.trainable = False.",
    "Return what still trains, for the optimizer: [p for p in model.parameters() if p.requires_grad] "
    "(PyTorch) or list(model.trainable_variables) (Keras).",
)


class FreezeExercise(Exercise):
    """Calls ``probe(fn, spec, k)``: the track builds a discriminator with BatchNorm from ``spec``, calls
    the learner's ``fn(D, k)``, builds Adam from what it returned, takes :data:`FREEZE_STEPS` steps and
    reports :func:`freeze_truth`'s summary (NumPy)."""

    probe: Callable = None

    def call(self, fn, args):
        return self.probe(fn, *args)


def freeze_cases():
    return [(NetSpec("critic", (6, 8, 7, 1), seed=4, norm="batch"), 1),
            (NetSpec("critic", (5, 9, 8, 6, 1), seed=5, norm="batch"), 2)]


def freeze_lower_exercise(probe, fallback) -> Exercise:
    ex = FreezeExercise(name="freeze_lower", truth=freeze_truth, cases=freeze_cases(), hints=FREEZE_HINTS,
                        mistakes=FREEZE_MISTAKES, fallback=fallback, rtol=0.0, atol=0.0)
    ex.probe = probe
    return ex
