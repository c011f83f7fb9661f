"""Lesson 10's bug hunt, both tracks: each checker passes the solution notebook's fix, rejects the planted
bug (the lesson's code, made by ``### BUGGY``) with a clue that does not name the fix, and rejects the
other obvious wrong fixes with their own diagnosis."""
from __future__ import annotations

import importlib
import importlib.util
import math

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from solution_cells import exercise_cell, framework_namespace

from course_lib.tooling.notebooks import make_lesson

if importlib.util.find_spec("tensorflow"):
    import course_lib.tensorflow  # noqa: F401 - first: it configures TensorFlow, which the torch track may import

NOTEBOOK = "10_capstone"
STILL_BUGGY = "the bug is still there"

# Per exercise: words of the full diagnosis that the planted bug's verdict must not give away, and
# per track, other wrong fixes as (text in the fix, what replaces it).
HUNTS = {
    "hunt_d_loss": (("augment(fake)", "both"), {
        "pytorch": [("F.softplus(-D(augment(real)))", "F.softplus(-D(real))"), ("augment(", "(")],
        "tensorflow": [("tf.nn.softplus(-D(augment(real)))", "tf.nn.softplus(-D(real))"), ("augment(", "(")]}),
    "hunt_g_loss": (("detach", "stop_gradient"), {
        "pytorch": [("F.softplus(-D(fake)).mean()", "-F.softplus(D(fake)).mean()"),
                    ("F.softplus(-D(fake)).mean()", "F.softplus(D(fake)).mean()")],
        "tensorflow": [("tf.nn.softplus(-D(fake))", "-tf.nn.softplus(D(fake))"),
                       ("tf.nn.softplus(-D(fake))", "tf.nn.softplus(D(fake))")]}),
    "hunt_ema": (("stale", "copy"), {
        "pytorch": [("w.detach().clone() if buffer else ", ""), ("decay * a + (1 - decay)", "(1 - decay) * a + decay")],
        "tensorflow": [("tf.identity(w) if buffer else ", ""),
                       ("decay * a + (1 - decay)", "(1 - decay) * a + decay")]}),
    "hunt_acgan": (("y_fake", "y_real"), {
        "pytorch": [(" + F.cross_entropy(cls_fake, y_fake)", ""), ("source + weight * classes", "source + classes")],
        "tensorflow": [(" + ce(cls_fake, y_fake)", ""), ("source + weight * classes", "source + classes")]}),
    "hunt_log_likelihood": (("log K", "mean"), {
        "pytorch": [("torch.logsumexp(member_log_likelihoods, dim=0) - math.log(K)", "member_log_likelihoods.mean(0)"),
                    ("torch.logsumexp(member_log_likelihoods, dim=0) - math.log(K)",
                     "torch.log(torch.exp(member_log_likelihoods).mean(0))")],
        "tensorflow": [("tf.reduce_logsumexp(member_log_likelihoods, axis=0) - math.log(K)",
                        "tf.reduce_mean(member_log_likelihoods, axis=0)"),
                       ("tf.reduce_logsumexp(member_log_likelihoods, axis=0) - math.log(K)",
                        "tf.math.log(tf.reduce_mean(tf.exp(member_log_likelihoods), axis=0))")]}),
    "hunt_freeze": (("eval", "trainable"), {
        "pytorch": [("transfer.blocks(D)[:k]", "transfer.blocks(D)[-k:]"),
                    ("return [p for p in D.parameters() if p.requires_grad]", "return list(D.parameters())")],
        "tensorflow": [("transfer.blocks(D)[:k]", "transfer.blocks(D)[-k:]"),
                       ("return list(D.trainable_variables)", "return list(D.variables)")]}),
    "hunt_eval_scores": (("eval", "training="), {
        "pytorch": [("classifier.eval()",
                     "[m.eval() for m in classifier.modules() if isinstance(m, torch.nn.Dropout)]"),
                    ("torch.softmax(classifier(x), dim=-1)", "classifier(x)")],
        "tensorflow": [("tf.nn.softmax(classifier(x, training=False), axis=-1)", "classifier(x, training=False)")]}),
}


def _namespace(track):
    package = "course_lib." + ("torch" if track == "pytorch" else "tensorflow")
    importlib.import_module(package)  # the track's package first: it configures TensorFlow before it loads
    return {**framework_namespace(track), "np": np, "math": math,
            "transfer": importlib.import_module(f"{package}.transfer")}


def _define(source, name, track):
    ns = _namespace(track)
    body = source.split(f"\n\n\n{name} = ex.{name}.check(")[0]  # the def alone: the test calls the checker
    exec(compile(body, f"<{track} {name}>", "exec"), ns)
    return ns[name], ns["ex"]


def _lesson(source):
    return make_lesson(new_notebook(cells=[new_code_cell(source)])).cells[0].source


@pytest.mark.parametrize("track", ["pytorch", "tensorflow"])
@pytest.mark.parametrize("name", list(HUNTS))
def test_fix_passes_bug_and_wrong_fixes_are_rejected(track, name):
    pytest.importorskip("torch" if track == "pytorch" else "tensorflow")
    source = exercise_cell(f"{NOTEBOOK}.ipynb", track, name)
    fixed, ex = _define(source, name, track)
    checker = getattr(ex, name)
    assert checker.verdict(fixed).passed, checker.verdict(fixed).message

    buggy, _ = _define(_lesson(source), name, track)
    verdict = checker.verdict(buggy)
    assert not verdict.passed and STILL_BUGGY in verdict.message, verdict.message
    secret, wrong_fixes = HUNTS[name]
    clue = verdict.message.split(STILL_BUGGY)[1].split("\nCall")[0]
    assert not any(word in clue for word in secret), clue  # the clue leaves the answer to the learner
    assert checker.hints[-1].startswith("Diagnosis:")  # the last hint names the bug and the fix

    for old, new in wrong_fixes[track]:
        assert old in source, (name, old)
        wrong, _ = _define(source.replace(old, new), name, track)
        v = checker.verdict(wrong)
        assert not v.passed and STILL_BUGGY not in v.message, (name, new, v.message)
