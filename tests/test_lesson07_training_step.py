"""Lesson 07: the fine-tuning step written out in the solution notebooks (the cells tagged
``training-step``) makes the same updates as the course library's stacked runs
(``transfer.fine_tune_gans``), which the notebook's multi-seed experiment uses, with and without
frozen discriminator layers; and the loop trains with the learner's ``freeze_lower`` when the
checker accepts it, with the reference when it does not."""
import numpy as np
import pytest

from course_lib import budgets, data, metrics
from course_lib.progress import progress

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from solution_cells import framework_namespace, solution_cells  # noqa: E402

from course_lib.tensorflow import transfer as tr_tf  # noqa: E402
from course_lib.torch import transfer as tr_torch  # noqa: E402

NOTEBOOK = "07_transfer.ipynb"
TRACKS = {"pytorch": (ct_torch, tr_torch), "tensorflow": (ct_tf, tr_tf)}
CFG = budgets.config("07_transfer", "smoke")
STEPS = 6


def _namespace(track, freeze_source=None):
    """What the notebook has defined when its training-step cells run: imports, cfg, the evaluation and the
    learner's freeze_lower as its checker returned it (the solution's own unless ``freeze_source``)."""
    ct, tr = TRACKS[track]
    by_id, by_tag = solution_cells(NOTEBOOK, track)
    ns = {"cfg": CFG, "ct": ct, "np": np, "data": data, "metrics": metrics, "progress": progress, "transfer": tr,
          "n_eval": metrics.n_eval(), "x_source": data.printed_digits(60, seed=1), "SEED": 0}
    ns.update(framework_namespace(track))
    exec(freeze_source or by_id["c12"], ns)
    assert len(by_tag["training-step"]) == 2, "the steps and the loop carry the tag training-step"
    exec(by_id["c14e"], ns)  # evaluate(), which the loop calls
    for source in by_tag["training-step"]:
        exec(source, ns)
    return ns


def _weights(tr, model):
    return [a for pair in tr.export_layers(model) for a in pair]


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("freeze_k", [0, 1])
def test_notebook_step_equals_the_stacked_library_runs(track, freeze_k, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    ct, tr = TRACKS[track]
    ns = _namespace(track)
    x = data.digits("train")[:40]
    seeds = [3, 4]
    mine = [tr.pretrained_gan() for _ in seeds]
    for (G, D), seed in zip(mine, seeds):
        ns["fine_tune"](G, D, x, STEPS, seed, CFG.lr * 5, freeze_k=freeze_k)
    Gs, Ds = zip(*[tr.pretrained_gan() for _ in seeds])
    tr.fine_tune_gans(Gs, Ds, x, STEPS, CFG.batch_size, seeds, CFG.lr * 5, CFG.betas, freeze=freeze_k)
    atol = 1e-5 if track == "pytorch" else 1e-4
    start = [a for pair in tr.export_layers(tr.pretrained_gan()[1]) for a in pair]
    for (G, D), G2, D2 in zip(mine, Gs, Ds):
        for a, b in zip(_weights(tr, G) + _weights(tr, D), _weights(tr, G2) + _weights(tr, D2)):
            np.testing.assert_allclose(a, b, rtol=0, atol=atol)
        moved = [not np.array_equal(a, s) for a, s in zip(_weights(tr, D), start)]
        assert moved[:2] == [freeze_k == 0] * 2 and all(moved[2:])


WRONG_FREEZE = {  # freezes nothing: the checker rejects it and the notebook goes on with the reference
    "pytorch": "def freeze_lower(D, k):\n    return list(D.parameters())\n\n\n"
               "freeze_lower = ex.freeze_lower.check(freeze_lower)",
    "tensorflow": "def freeze_lower(D, k):\n    return list(D.trainable_variables)\n\n\n"
                  "freeze_lower = ex.freeze_lower.check(freeze_lower)",
}


@pytest.mark.parametrize("track", TRACKS)
def test_the_loop_trains_with_what_the_checker_returned(track, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    _, tr = TRACKS[track]
    right, wrong = _namespace(track), _namespace(track, WRONG_FREEZE[track])
    assert right["freeze_lower"] is not tr.freeze_lower  # the learner's own (the solution's) function
    assert wrong["freeze_lower"] is tr.freeze_lower      # the reference replaced the wrong one
    x = data.digits("train")[:40]
    for ns in (right, wrong):
        G, D = tr.pretrained_gan()
        first = tr.export_layers(D)[0]
        ns["fine_tune"](G, D, x, STEPS, 0, CFG.lr * 5, freeze_k=1)
        assert all(np.array_equal(a, b) for a, b in zip(first, tr.export_layers(D)[0]))
