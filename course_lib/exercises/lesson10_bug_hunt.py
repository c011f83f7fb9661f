"""Lesson 10, part 3: the bug hunt's checkers, NumPy truths for both tracks (re-exported by
:mod:`course_lib.exercises.lesson10_capstone`, the lesson's exercise module, which would otherwise pass
the course's 320 lines per module).

Each exercise shows a short function from an earlier lesson with ONE planted bug (the lesson runs the
buggy code: see ``### BUGGY`` in :mod:`course_lib.tooling.notebooks`); the learner finds and fixes it.
The truths, cases and most known mistakes are the earlier lessons' own; what changes is the wording.
The planted bug's verdict gives a clue that does not give the answer away, the hints end with the full
diagnosis, and the other obvious wrong fixes keep their lessons' diagnoses. Where the bug is about a
model's behaviour (BatchNorm's statistics, training or evaluation mode), the checker runs the learner's
function on a small network of the track and summarises what happened (as lesson 07's checkers do).
"""
from __future__ import annotations

import importlib
from dataclasses import replace

import numpy as np

from ..checks import Exercise, Mistake
from ..techniques import ensembles as _ens, multitask as _mt
from ..techniques.penalties import critic_forward
from . import (
    lesson06_augmentation as _l06,
    lesson07_transfer as _l07,
    lesson08_multitask as _l08,
    lesson09_ensembles as _l09,
)
from .gradient_check import Differentiable

STILL_BUGGY = "the bug is still there. "


def _planted(mistakes, name: str, clue: str, extra=()) -> tuple:
    """The lesson's known mistakes with the planted one's diagnosis replaced by a clue (first, so that it
    is the one named), then ``extra`` mistakes; the full diagnosis moves to the last hint."""
    planted = next(m for m in mistakes if m.name == name)
    return (replace(planted, message=STILL_BUGGY + clue),) + tuple(extra) + tuple(
        m for m in mistakes if m.name != name)


# 1. augmenting the reals only (lesson 06) -------------------------------------------------------------------

AUGMENT_MISTAKES = _planted(
    _l06.LOSS_MISTAKES, "reals only",
    "The loss has the right form, but the two kinds of image do not reach D the same way. Ask what D could "
    "learn to tell them apart that has nothing to do with the digits.")
AUGMENT_HINTS = (
    "Compare the path of the reals and the path of the fakes into D, line by line.",
    "Diagnosis: only the reals go through augment. D then learns 'augmented = real, clean = fake', and the "
    "generator learns to draw augmented digits: the augmentation leaks into the samples (Zhao et al. 2020, "
    "DiffAugment; Karras et al. 2020, ADA). Fix: D(augment(real)) and D(augment(fake)).",
)


def hunt_d_loss_exercise(**kwargs) -> Exercise:
    return Exercise(name="hunt_d_loss", truth=_l06.discriminator_loss_truth, cases=_l06._loss_cases(),
                    hints=AUGMENT_HINTS, mistakes=AUGMENT_MISTAKES, rtol=2e-5, atol=1e-6,
                    differentiable=Differentiable({0: "the discriminator's parameters"},
                                                  why="A loss the optimizer cannot differentiate trains nothing."),
                    **kwargs)


# 2. the generator step cut from the generator (lessons 00 and 09) --------------------------------------------


def g_loss_truth(D, fake) -> float:
    """The non-saturating generator loss on logits: ``mean softplus(-D(fake))``, differentiable w.r.t. ``fake``."""
    return float(np.mean(np.logaddexp(0.0, -critic_forward(D, fake))))


def _g_loss_cases():
    rng = np.random.default_rng(1010)
    cases = []
    for n in (5, 8):
        W1 = rng.normal(scale=0.4, size=(64, 8))
        D = _l06.CriticWeights(((W1, rng.normal(scale=0.3, size=8)),
                                (rng.normal(scale=1.5, size=(8, 1)), np.array([0.1]))))
        cases.append((D, rng.uniform(0.0, 1.0, (n, 64)).astype(np.float32)))
    return cases


G_LOSS_MISTAKES = (
    Mistake("saturating loss", lambda D, f: float(np.mean(-np.logaddexp(0.0, critic_forward(D, f)))),
            "that is the saturating loss, log(1 - sigmoid(D(fake))): its gradient vanishes exactly when D "
            "rejects the fakes, early in training. The non-saturating loss is mean(softplus(-D(fake)))."),
    Mistake("the discriminator's fake term", lambda D, f: float(np.mean(np.logaddexp(0.0, critic_forward(D, f)))),
            "that is the discriminator's term for the fakes, softplus(D(fake)): minimising it makes the fakes "
            "look *more* fake. The generator wants them judged real: softplus(-D(fake))."),
    Mistake("sum over samples", lambda D, f: float(np.sum(np.logaddexp(0.0, -critic_forward(D, f)))),
            "you summed over the samples: average over the batch."),
)
G_LOSS_CLUE = (STILL_BUGGY + "The loss has the right value, but no gradient reaches the fakes, so the generator "
               "that made them would never change. Follow the fakes from the function's argument to the loss.")
G_LOSS_HINTS = (
    "Training needs d loss / d fake, the path through which the generator's weights receive their gradient.",
    "Diagnosis: the fakes are cut from the graph before D sees them (PyTorch: fake.detach(); TensorFlow: "
    "tf.stop_gradient(fake)). That belongs in the discriminator's step, where the fakes are plain inputs; in "
    "the generator's step it leaves G with no gradient at all (a zero or missing gradient, so G never moves "
    "while the loss curves look normal). Fix: return mean(softplus(-D(fake))) on the fakes themselves.",
)


def fakes_gradient_check(autodiff, adapt):
    """An extra check: the gradient of the learner's loss w.r.t. the fakes is the truth's (non-zero)."""
    case = _g_loss_cases()[0]

    def check(fn):
        grads = autodiff.gradients(fn, case, adapt, (1,), None, np.float32(1.0))[1]
        return None if grads[0] is not None and np.abs(grads[0]).max() > 0 else G_LOSS_CLUE
    return check


def hunt_g_loss_exercise(autodiff, adapt, **kwargs) -> Exercise:
    return Exercise(name="hunt_g_loss", truth=g_loss_truth, cases=_g_loss_cases(), hints=G_LOSS_HINTS,
                    mistakes=G_LOSS_MISTAKES, adapt=adapt, extra_checks=(fakes_gradient_check(autodiff, adapt),),
                    rtol=2e-5, atol=1e-6, **kwargs)


# 3. a moving average with stale normalization statistics (lesson 09) ----------------------------------------

EMA_MISTAKES = _planted(
    _l09.EMA_MISTAKES, "buffers stale",
    "The weights of the average are right; some other entries of the state are not. Which entries of a "
    "model's state are not weights, and where should their values come from at each update?")
EMA_HINTS = (
    "Look at what happens to the entries flagged by is_buffer after the first update.",
    "Diagnosis: the buffers (BatchNorm's running mean and variance) keep the value of the first copy: the "
    "average samples with the normalization statistics of the start of training, for weights that make very "
    "different activations (lesson 09: the worst FCD on every seed). Fix: copy each buffer from current at "
    "every update, and recompute them for the averaged weights before sampling.",
)


def hunt_ema_exercise(**kwargs) -> Exercise:
    return Exercise(name="hunt_ema", truth=_ens.ema_update, cases=_l09._ema_cases(), hints=EMA_HINTS,
                    mistakes=EMA_MISTAKES, rtol=1e-5, atol=1e-6, **kwargs)


# 4. AC-GAN's fakes labelled with the real batch's labels (lesson 08) -----------------------------------------

AC_MISTAKES = _planted(
    _l08.D_MISTAKES, "fakes labelled with the real labels",
    "The source term is right, and so is the class term on the reals. Ask, for each fake, which class it "
    "was made to be.")
AC_HINTS = (
    "Each tensor of labels belongs to one batch: check that every cross-entropy pairs logits and labels of the "
    "same batch.",
    "Diagnosis: the fakes' class term uses y_real, the real batch's labels. A fake was made for the label the "
    "generator was given, y_fake; with y_real the class head learns to call each fake by an unrelated label, "
    "and the generator's class signal becomes noise (Odena et al. 2017, eq. 2). Fix: CE(cls_fake, y_fake).",
)


def hunt_acgan_exercise(**kwargs) -> Exercise:
    return Exercise(name="hunt_acgan", truth=_mt.acgan_d_loss, cases=_l08._ac_cases(), hints=AC_HINTS,
                    mistakes=AC_MISTAKES, rtol=2e-5, atol=1e-6,
                    differentiable=Differentiable({0: "src_real", 1: "cls_real", 3: "src_fake", 4: "cls_fake"},
                                                  why=_l08.WHY), **kwargs)


# 5. the ensemble's log-likelihood without - log K (lesson 09) -----------------------------------------------

LL_MISTAKES = _planted(
    _l09.LL_MISTAKES, "no log K",
    "Every image's value is off by the same amount, and the amount depends only on the number of members. "
    "Write down the ensemble's density and take its log.")
LL_HINTS = (
    "The ensemble's density is the mean of the members' densities, not their sum.",
    "Diagnosis: logsumexp over the members is log of the SUM of the densities: log K nats too high for K "
    "members (an ensemble of 4 would look 1.39 nats better than it is). The mean: logsumexp(x, 0) - log K.",
)


def hunt_log_likelihood_exercise(**kwargs) -> Exercise:
    return Exercise(name="hunt_log_likelihood", truth=_ens.ensemble_log_likelihood, cases=_l09._ll_cases(),
                    hints=LL_HINTS, mistakes=LL_MISTAKES, rtol=1e-5, atol=1e-3, **kwargs)


# 6. BatchNorm "frozen" by its weights alone (lesson 07) ------------------------------------------------------

FREEZE_CLUE = ("The frozen blocks' weights stay put, but something else in them still changes in training. "
               "What does a normalization layer update on every forward pass in training mode?")
FREEZE_MISTAKES = _planted(
    _l07.FREEZE_MISTAKES, "statistics still move", FREEZE_CLUE,
    # Keras: the lower variables left out of the optimizer, the layers still trainable (requires_grad's analogue)
    extra=(Mistake("left out of the optimizer", lambda s, k: _l07._freeze_outcome(s, range(k), (), exact=False),
                   STILL_BUGGY + FREEZE_CLUE),))
FREEZE_HINTS = (
    "Run the function, take a few training steps, and compare each frozen block's BatchNorm moving mean before "
    "and after.",
    "Diagnosis: the weights are kept out of training (PyTorch: requires_grad_(False); Keras: left out of the "
    "optimizer's list) but the layers still run in training mode, so BatchNorm's running statistics keep "
    "moving with each batch: the 'frozen' features drift (lesson 07). Fix, PyTorch: also put the frozen "
    "normalization layers in eval mode (and again after every model.train()). Keras 3: layer.trainable = "
    "False, which also runs BatchNormalization in inference mode, then model.trainable_variables.",
)


def hunt_freeze_exercise(probe, **kwargs) -> Exercise:
    ex = _l07.FreezeExercise(name="hunt_freeze", truth=_l07.freeze_truth, cases=_l07.freeze_cases(),
                             hints=FREEZE_HINTS, mistakes=FREEZE_MISTAKES, rtol=0.0, atol=0.0, **kwargs)
    ex.probe = probe
    return ex


# 7. the evaluation network left in training mode (lessons 00, 04) --------------------------------------------

EVAL_SIZES = (64, 32, 16, 10)  # a small classifier, BatchNorm and dropout after each hidden layer
EVAL_CASES = [(3,), (4,)]      # the classifier's seed


def eval_truth(seed) -> np.ndarray:
    """[the scores are the classifier's inference-mode probabilities, a second call gives the same scores,
    its running statistics did not change]: all true."""
    return np.ones(3)


EVAL_CLUE = ("The same images get different scores from one call to the next, and calling the function "
             "changes the classifier. Which layers behave differently when a network is trained?")
EVAL_MISTAKES = (
    Mistake("training mode", lambda seed: np.zeros(3), STILL_BUGGY + EVAL_CLUE),
    Mistake("BatchNorm still in training mode", lambda seed: np.array([0.0, 1.0, 0.0]),
            "dropout is off, but BatchNorm still normalizes with the batch's own statistics, and updates its "
            "running ones with every call: put the whole classifier in evaluation mode."),
    Mistake("dropout still on", lambda seed: np.array([0.0, 0.0, 1.0]),
            "BatchNorm uses its running statistics, but dropout still drops units at random: put the whole "
            "classifier in evaluation mode."),
)
EVAL_HINTS = (
    "Call the function twice on the same images, and compare the scores, and the classifier's running "
    "statistics before and after.",
    "Diagnosis: the classifier runs in training mode (PyTorch: the training loop left it in train(); Keras: "
    "training=True). Dropout then drops random units, so the metric is noisy, and BatchNorm normalizes each "
    "batch by its own statistics and moves its running ones, so the metric depends on the batch and changes "
    "the classifier. Fix, PyTorch: classifier.eval() (then restore its mode); Keras: training=False.",
)


class EvalModeExercise(Exercise):
    """Calls ``probe(fn, seed)``: the track builds the classifier, gives it running statistics, leaves it
    in training mode as a training loop does, calls the learner's ``fn(classifier, x)`` twice and reports
    :func:`eval_truth`'s summary (NumPy)."""

    probe = None

    def call(self, fn, args):
        return self.probe(fn, *args)


def _softmax(logits) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def eval_probe(track: str):
    """The checker's side of ``hunt_eval_scores`` in ``track`` ("torch" or "tensorflow"), through the
    track's own modules (so this module imports no framework): build the classifier, set its running
    statistics with a few training-mode passes, leave it in training mode as a training loop does, call
    the learner's ``fn(classifier, x)`` twice and report :func:`eval_truth`'s summary."""
    package = importlib.import_module(f"course_lib.{track}")
    models, train = (importlib.import_module(f"course_lib.{track}.{m}") for m in ("models", "train"))
    rng = np.random.default_rng(77)
    warm = rng.normal(0.5, 1.0, (4, 32, EVAL_SIZES[0])).astype(np.float32)  # batches that set the statistics
    x = rng.normal(0.5, 1.0, (16, EVAL_SIZES[0])).astype(np.float32)

    def forward(net, batch, training):  # PyTorch keeps the mode in the model, Keras takes it per call
        if track == "torch":
            net.train(training)
            return train.to_numpy(net(train.to_tensor(batch)))
        return train.to_numpy(net(train.to_tensor(batch), training=training))

    def statistics(net):  # BatchNorm's running mean and variance (PyTorch: and its batch count)
        held = net.buffers() if track == "torch" else net.non_trainable_variables
        return [np.array(train.to_numpy(b)) for b in held]

    def probe(fn, seed):
        package.seed_everything(seed)
        net = models.MLP(EVAL_SIZES, dropout=0.3, norm="batch")
        for batch in warm:
            forward(net, batch, training=True)
        want = _softmax(forward(net, x, training=False))
        if track == "torch":
            net.train()  # as the training loop leaves it (Keras has no mode to leave)
        before = statistics(net)
        first, second = (np.asarray(train.to_numpy(fn(net, train.to_tensor(x)))) for _ in range(2))
        kept = all(np.array_equal(a, b) for a, b in zip(before, statistics(net)))
        return np.array([first.shape == want.shape and np.allclose(first, want, atol=1e-5),
                         np.array_equal(first, second), kept], float)
    return probe


def hunt_eval_scores_exercise(probe, **kwargs) -> Exercise:
    ex = EvalModeExercise(name="hunt_eval_scores", truth=eval_truth, cases=EVAL_CASES, hints=EVAL_HINTS,
                          mistakes=EVAL_MISTAKES, rtol=0.0, atol=0.0, **kwargs)
    ex.probe = probe
    return ex
