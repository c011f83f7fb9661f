"""Build one track's exercise checkers. Both tracks expose the same names (``ex.<name>``);
only the conversions (NumPy <-> tensors) and the fallback references differ, so they are
assembled here once, from the track package given by name. Imports the framework only when
called (from ``course_lib.torch.exercises`` or ``course_lib.tensorflow.exercises``)."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np

from . import (
    lesson00_baselines as _l00,
    lesson01_regularization as _l01,
    lesson02_early_stopping as _l02,
    lesson03_lr_schedules as _l03,
    lesson04_batch_norm as _l04,
    lesson05_gradient_penalty as _l05,
    lesson06_augmentation as _l06,
    lesson07_transfer as _l07,
    lesson08_multitask as _l08,
    lesson09_ensembles as _l09,
    lesson10_capstone as _l10,
)

ANSWERS_PATH = Path(__file__).resolve().parents[1] / "assets" / "answers.json"
TRACK_FOLDERS = {"torch": "pytorch", "tensorflow": "tensorflow"}


def answers(track: str) -> dict:
    """``{exercise: code}``: the solution notebooks' answers for ``track`` (written by ``build``)."""
    with open(ANSWERS_PATH, encoding="utf-8") as f:
        return json.load(f)[TRACK_FOLDERS[track]]


def _l07_checkers(track: str) -> dict:
    transfer = importlib.import_module(f"course_lib.{track}.transfer")
    return {"load_pretrained": _l07.load_pretrained_exercise(transfer.build_spec, transfer.outputs,
                                                             transfer.independent_check, transfer.load_layers),
            "freeze_lower": _l07.freeze_lower_exercise(transfer.freeze_probe, transfer.freeze_lower)}


def _l08_checkers(track: str, train) -> dict:
    cond = importlib.import_module(f"course_lib.{track}.conditional")
    kw = {"adapt": cond.adapt, "to_numpy": train.to_numpy, "autodiff": train.AUTODIFF}
    return {"acgan_d_loss": _l08.acgan_d_loss_exercise(fallback=cond.acgan_d_loss, **kw),
            "acgan_g_loss": _l08.acgan_g_loss_exercise(fallback=cond.acgan_g_loss, **kw),
            "multitask_loss": _l08.multitask_loss_exercise(fallback=_l08.combine, **kw)}


def _l09_checkers(track: str, to_numpy) -> dict:
    ens = importlib.import_module(f"course_lib.{track}.ensembles")
    return {"ema_update": _l09.ema_update_exercise(fallback=ens.ema_update, adapt=ens.adapt, to_numpy=to_numpy),
            "ensemble_log_likelihood": _l09.ensemble_log_likelihood_exercise(
                fallback=ens.ensemble_log_likelihood, adapt=ens.adapt, to_numpy=to_numpy)}


def _l10_hunt_checkers(track: str, train, pen, aug) -> dict:
    """Lesson 10's bug hunt: the earlier lessons' conversions and references, the hunt's own wording."""
    cond = importlib.import_module(f"course_lib.{track}.conditional")
    ens = importlib.import_module(f"course_lib.{track}.ensembles")
    transfer = importlib.import_module(f"course_lib.{track}.transfer")
    if track == "torch":
        torch = importlib.import_module("torch")
        g_loss = lambda D, fake: torch.nn.functional.softplus(-D(fake)).mean()  # noqa: E731 - non-saturating

        def eval_scores(classifier, x):  # inference mode, then the mode it was in
            was_training = classifier.training
            classifier.eval()
            with torch.no_grad():
                scores = torch.softmax(classifier(x), dim=-1)
            classifier.train(was_training)
            return scores
    else:
        tf = importlib.import_module("tensorflow")
        g_loss = lambda D, fake: tf.reduce_mean(tf.nn.softplus(-D(fake)))  # noqa: E731
        eval_scores = lambda classifier, x: tf.nn.softmax(classifier(x, training=False), axis=-1)  # noqa: E731
    to_numpy = train.to_numpy
    return {
        "hunt_d_loss": _l10.hunt_d_loss_exercise(fallback=aug.discriminator_loss, adapt=aug.adapt,
                                                 to_numpy=pen.result_to_numpy, autodiff=train.AUTODIFF),
        "hunt_g_loss": _l10.hunt_g_loss_exercise(train.AUTODIFF, pen.adapt, fallback=g_loss,
                                                 to_numpy=pen.result_to_numpy),
        "hunt_ema": _l10.hunt_ema_exercise(fallback=ens.ema_update, adapt=ens.adapt, to_numpy=to_numpy),
        "hunt_acgan": _l10.hunt_acgan_exercise(fallback=cond.acgan_d_loss, adapt=cond.adapt, to_numpy=to_numpy,
                                               autodiff=train.AUTODIFF),
        "hunt_log_likelihood": _l10.hunt_log_likelihood_exercise(fallback=ens.ensemble_log_likelihood,
                                                                 adapt=ens.adapt, to_numpy=to_numpy),
        "hunt_freeze": _l10.hunt_freeze_exercise(transfer.freeze_probe, fallback=transfer.freeze_lower),
        "hunt_eval_scores": _l10.hunt_eval_scores_exercise(_l10.eval_probe(track), fallback=eval_scores),
    }


def checkers(track: str) -> dict:
    """``{name: Exercise}`` for ``track`` ("torch" or "tensorflow")."""
    if track not in ("torch", "tensorflow"):
        raise ValueError(f"unknown track {track!r}; expected 'torch' or 'tensorflow'")
    pkg = importlib.import_module(f"course_lib.{track}")
    train = importlib.import_module(f"course_lib.{track}.train")
    pen = importlib.import_module(f"course_lib.{track}.penalties")
    bn = importlib.import_module(f"course_lib.{track}.batchnorm")
    aug = importlib.import_module(f"course_lib.{track}.augment")
    to_tensor, to_numpy = train.to_tensor, train.to_numpy
    # The exercises that training differentiates also get the gradient check, in the track's words.
    tensors = {"adapt": to_tensor, "to_numpy": to_numpy, "autodiff": train.AUTODIFF}

    def tensor_list(a):  # l2_penalty takes a list of parameter tensors
        return [to_tensor(p) for p in a] if isinstance(a, (list, tuple)) else a

    def arrays_to_tensors(a):  # batch norm: tensors for arrays, plain floats for momentum and eps
        return to_tensor(a) if isinstance(a, np.ndarray) else a

    flat = _l05.zero_gradient_critic()
    made = {
        # lesson 00
        "frechet_distance": _l00.frechet_distance(),
        "reparameterize": _l00.reparameterize(fallback=train.reparameterize, **tensors),
        "negative_elbo": _l00.negative_elbo(fallback=train.negative_elbo, **tensors),
        # lesson 01 (adamw_step is NumPy in both tracks)
        "l2_penalty": _l01.l2_penalty(fallback=pkg.regularization.l2_penalty, **{**tensors, "adapt": tensor_list}),
        "adamw_step": _l01.adamw_step(),
        # lesson 02 and 03: pure Python, the same checkers in both tracks
        "should_stop": _l02.should_stop(),
        "best_step": _l02.best_step(),
        "lr_at": _l03.lr_at(),
        "warmup_cosine": _l03.warmup_cosine(),
        # lesson 04
        "batchnorm_train": _l04.batchnorm_exercise(fallback=bn.batchnorm_train,
                                                   **{**tensors, "adapt": arrays_to_tensors}),
        "layernorm": _l04.layernorm_exercise(fallback=bn.layernorm, **{**tensors, "adapt": arrays_to_tensors}),
        # lesson 05: the critic is built from NumPy weights; the gradient check differentiates the penalty
        # w.r.t. its weights, the extra check makes sure that gradient is finite where the input gradient is 0
        "gradient_penalty": _l05.gradient_penalty_exercise(
            fallback=pen.gradient_penalty, adapt=pen.adapt, to_numpy=pen.result_to_numpy, autodiff=pen.AUTODIFF,
            extra_checks=(pen.finite_at_zero_gradient_check(flat),)),
        "r1_penalty": _l05.r1_penalty_exercise(
            fallback=pen.r1_penalty, adapt=pen.adapt, to_numpy=pen.result_to_numpy, autodiff=pen.AUTODIFF,
            extra_checks=(pen.finite_at_zero_gradient_check(flat[:2] + (10.0,)),)),
        "sample_interpolation_weights": _l05.sample_interpolation_weights_exercise(),
        # lesson 06: offsets and the discriminator's weights come as NumPy; the track's augment.adapt converts them
        "translate": _l06.translate_exercise(fallback=aug.translate, adapt=aug.adapt, to_numpy=to_numpy,
                                             autodiff=train.AUTODIFF),
        "discriminator_loss": _l06.discriminator_loss_exercise(
            fallback=aug.discriminator_loss, adapt=aug.adapt, to_numpy=pen.result_to_numpy, autodiff=train.AUTODIFF),
        "ada_update": _l06.ada_update_exercise(),
        # lesson 07: the track builds the networks and runs the steps; the NumPy truths judge the outcome
        **_l07_checkers(track),
        # lesson 08: the AC-GAN losses take the heads' outputs; labels come as int arrays, the losses as a list
        **_l08_checkers(track, train),
        # lesson 09: states and log-likelihoods come as NumPy; the track's ensembles.adapt converts them
        **_l09_checkers(track, to_numpy),
        # lesson 10, part 1: pure Python, the same checker in both tracks
        "compounded_rate": _l10.compounded_rate_exercise(),
        # lesson 10, part 2: as lesson 06's discriminator_loss, plus gamma; the track's augment.adapt converts
        "recipe_d_loss": _l10.recipe_d_loss_exercise(
            fallback=importlib.import_module(f"course_lib.{track}.recipe").recipe_d_loss, adapt=aug.adapt,
            to_numpy=pen.result_to_numpy, autodiff=train.AUTODIFF),
        # lesson 10, part 3: the bug hunt, on the earlier lessons' cases and conversions
        **_l10_hunt_checkers(track, train, pen, aug),
    }
    written = answers(track)
    for name, exercise in made.items():
        exercise.answer = written.get(name)
    return made
