"""Claims checked by code: each kind against canned numbers (held and not held), the smoke budget,
recording into the results JSON, cross-track decisions, and a false claim failing `refresh` and `run`."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from test_runner import write_nb

from course_lib import claims, results
from course_lib.tooling.crosscheck import cross_track
from course_lib.tooling.refresh import refresh
from course_lib.tooling.report import write_report
from course_lib.tooling.runner import NotebookError, run_one

MODES = {"WGAN-GP": [8, 8, 8, 8, 8], "GAN": [7, 5, 8, 6, 7], "clip": [0, 0, 0, 0, 0]}


def quiet(budget="cpu", path=None):
    return claims.Claims(budget, path, verbose=False)


def test_ranking_holds_and_fails_on_means():
    c = quiet()
    assert c.ranking("r", MODES, ["WGAN-GP", "GAN", "clip"], lower_is_better=False).outcome == claims.HELD
    assert c.ranking("r2", MODES, ["GAN", "WGAN-GP"], lower_is_better=False).outcome == claims.NOT_HELD
    # lower is better reverses the order; a tie is not a ranking
    assert c.ranking("r3", MODES, ["clip", "GAN"], lower_is_better=True).outcome == claims.HELD
    tie = c.ranking("r4", {"a": [1, 2], "b": [2, 1]}, ["a", "b"], lower_is_better=True)
    assert tie.outcome == claims.NOT_HELD and "a 1.5 < b 1.5" in tie.evidence


def test_best_needs_the_strictly_best_mean():
    c = quiet()
    assert c.best("b", MODES, "WGAN-GP", lower_is_better=False).outcome == claims.HELD
    claim = c.best("b2", MODES, "GAN", lower_is_better=False)
    assert claim.outcome == claims.NOT_HELD and claim.evidence.startswith("means, best first: WGAN-GP 8")
    assert c.best("b3", MODES, "clip", lower_is_better=True).outcome == claims.HELD
    assert c.best("b4", {"a": [1.0], "b": [1.0]}, "a", lower_is_better=True).outcome == claims.NOT_HELD


def test_every_seed_is_paired_not_on_means():
    c = quiet()
    # WGAN-GP's mean is far better, but seed 2 is a tie: not "on every seed"
    claim = c.every_seed("e", MODES, "WGAN-GP", "GAN", lower_is_better=False)
    assert claim.outcome == claims.NOT_HELD and "4 of 5 seeds" in claim.evidence and "+0" in claim.evidence
    assert c.every_seed("e2", MODES, "GAN", "clip", lower_is_better=False).outcome == claims.HELD
    # pairs, not sorted values: a wins every pair although its values overlap b's range
    assert c.every_seed("e3", {"a": [1, 3, 5], "b": [2, 4, 6]}, "a", "b", lower_is_better=True).outcome == claims.HELD
    with pytest.raises(ValueError, match="same seeds"):
        c.every_seed("e4", {"a": [1, 2], "b": [1, 2, 3]}, "a", "b", lower_is_better=True)


def test_beyond_spread_compares_the_gap_with_the_larger_spread():
    c = quiet()
    assert c.beyond_spread("b", MODES, "WGAN-GP", "GAN", lower_is_better=False).outcome == claims.HELD  # 1.4 > 1.1
    close = {"a": [1.0, 2.0, 3.0], "b": [1.5, 2.5, 3.5]}  # gap 0.5, spread 1.0
    claim = c.beyond_spread("b2", close, "a", "b", lower_is_better=True)
    assert claim.outcome == claims.NOT_HELD and "advantage +0.5" in claim.evidence and "spread 1" in claim.evidence


def test_all_seeds_and_check():
    c = quiet()
    assert c.all_seeds("a", MODES, "WGAN-GP", at_least=8).outcome == claims.HELD
    assert c.all_seeds("a2", MODES, "GAN", at_least=6).outcome == claims.NOT_HELD
    assert c.all_seeds("a3", MODES, "clip", at_most=0.0).outcome == claims.HELD
    assert c.check("c", 2 > 1, "2 > 1").outcome == claims.HELD
    with pytest.raises(ValueError, match="at_least, at_most"):
        c.all_seeds("a4", MODES, "GAN")
    with pytest.raises(TypeError, match="evidence"):
        c.check("c2", True, "")


def test_smoke_does_not_evaluate_but_still_validates(capsys):
    c = claims.Claims("smoke")
    claim = c.ranking("GAN beats WGAN-GP", MODES, ["GAN", "WGAN-GP"], lower_is_better=False)
    assert claim.outcome == claims.NOT_EVALUATED
    assert "not evaluated: GAN beats WGAN-GP" in capsys.readouterr().out
    with pytest.raises(KeyError, match="no variant 'R1'.*WGAN-GP, GAN, clip"):
        c.ranking("x", MODES, ["R1", "GAN"], lower_is_better=False)
    with pytest.raises(ValueError, match="pass cfg.budget"):
        claims.Claims("auto")


def test_printed_line_says_what_decided(capsys):
    claims.Claims("cpu").every_seed("penalties win", MODES, "GAN", "clip", lower_is_better=False)
    out = capsys.readouterr().out
    assert out.startswith("✓ held: penalties win (GAN better than clip on 5 of 5 seeds; per-seed advantage +7")
    claims.Claims("gpu").check("false", False, "1 < 0")
    assert "✗ DID NOT HOLD: false (1 < 0)" in capsys.readouterr().out


def test_claims_are_recorded_before_and_after_the_headline(tmp_path):
    path = tmp_path / "r.json"
    c = quiet(path=path)
    c.check("before", True, "stated before record")
    results.record(path, "modes", False, MODES)
    c.check("after", False, "stated after record")
    c.check("before", False, "restated: replaces the first")
    saved = results.load(path)
    assert [x["statement"] for x in saved["claims"]] == ["after", "before"]
    assert [x["outcome"] for x in saved["claims"]] == [claims.NOT_HELD, claims.NOT_HELD]
    assert claims.failed(saved) == saved["claims"]
    with pytest.raises(ValueError, match="course_lib.claims"):
        results.record(path, "m", True, MODES, claims=[])


def test_tracks_agree_is_pending_then_decided_across_tracks(tmp_path):
    def notebook(track, values):
        path = tmp_path / f"{track}.json"
        results.record(path, "m", True, {"a": values})
        quiet(path=path).tracks_agree("the tracks agree", {"a": values})
        return results.load(path)

    pt = notebook("pytorch", [1.0, 2.0, 3.0])
    assert pt["claims"][0]["outcome"] == claims.PENDING
    tf_close, tf_far = notebook("tf_close", [1.5, 2.5, 3.5]), notebook("tf_far", [3.0, 4.0, 5.0])
    decided = cross_track({"solutions/pytorch/05_x.ipynb": pt, "solutions/tensorflow/05_x.ipynb": tf_close})
    assert decided["solutions/05_x"][0]["outcome"] == claims.HELD  # gap 0.5 <= spread 1
    decided = cross_track({"solutions/pytorch/05_x.ipynb": pt, "solutions/tensorflow/05_x.ipynb": tf_far})
    assert decided["solutions/05_x"][0]["outcome"] == claims.NOT_HELD  # gap 2 > spread 1
    assert cross_track({"solutions/pytorch/05_x.ipynb": pt})["solutions/05_x"][0]["outcome"] == claims.PENDING
    held, _ = claims.agree({"a": [8.0, 8.0]}, {"a": [8.0, 8.0]})
    assert held  # zero spread, equal means
    assert not claims.agree({"a": [8.0, 8.0]}, {"a": [7.9, 7.9]})[0]
    assert claims.agree({"a": [8.0, 8.0]}, {"a": [7.9, 7.9]}, atol=0.2)[0]


def test_report_lists_claims_per_notebook_and_across_tracks(tmp_path):
    path = tmp_path / "r.json"
    results.record(path, "modes", False, MODES)
    quiet(path=path).check("WGAN-GP covers every mode", True, "8 of 8")
    quiet(path=path).tracks_agree("tracks agree", MODES)  # pending here, decided below: counted once
    summary = {"budget": "cpu", "notebooks": {"solutions/pytorch/05_x.ipynb": {
        "status": "ok", "seconds": 1.0, "error": None, "results": results.load(path)}},
        "cross_track_claims": {"solutions/05_x": [{"statement": "tracks agree", "kind": "tracks agree",
                                                   "outcome": "did not hold", "evidence": "gap 2"}]}}
    report = write_report(tmp_path / "out", summary).read_text()
    assert "Claims: 1 held, 1 did not hold." in report
    assert "| WGAN-GP covers every mode | ✓ held | 8 of 8 |" in report
    assert "## Claims across tracks" in report and "| tracks agree | ✗ did not hold | gap 2 |" in report


CLAIM_CELL = """\
from course_lib import budgets, claims, results
cfg_budget = budgets.resolve(BUDGET)
_ = results.record(RESULTS_PATH, "modes", False, {"GAN": [5.0, 6.0], "WGAN-GP": [8.0, 8.0]})
claim = claims.Claims(cfg_budget, RESULTS_PATH)
claim.ranking("WGAN-GP covers more modes than the GAN", _["variants"], ["WGAN-GP", "GAN"], lower_is_better=False)
"""
FALSE_CLAIM = 'claim.ranking("the GAN covers more modes", _["variants"], ["GAN", "WGAN-GP"], lower_is_better=False)'


def test_false_claim_fails_refresh_and_leaves_the_notebook_unchanged(tmp_path):
    path = write_nb(tmp_path, "solutions/pytorch/05_claims.ipynb", CLAIM_CELL, FALSE_CLAIM)
    before = path.read_bytes()
    with pytest.raises(NotebookError, match=r"05_claims\.ipynb: 1 claim\(s\) did not hold at budget 'cpu': "
                                            r"the GAN covers more modes \(means GAN 5\.5 > WGAN-GP 8\)"):
        refresh(tmp_path, budget="cpu")
    assert path.read_bytes() == before
    # at smoke nothing is evaluated, so the same notebook refreshes
    assert refresh(tmp_path, budget="smoke") == [path.resolve()]


def test_true_claims_refresh_and_a_false_one_fails_the_run(tmp_path):
    path = write_nb(tmp_path, "solutions/pytorch/05_claims.ipynb", CLAIM_CELL)
    assert refresh(tmp_path, budget="cpu") == [path.resolve()]
    outputs = "".join(o.get("text", "") for c in nbformat.read(path, as_version=4).cells for o in c.get("outputs", []))
    assert "✓ held: WGAN-GP covers more modes than the GAN" in outputs
    bad = write_nb(tmp_path, "solutions/pytorch/06_claims.ipynb", CLAIM_CELL, FALSE_CLAIM)
    entry = run_one(bad, tmp_path, budget="cpu", out="build", timeout=120)
    assert entry["status"] == "failed" and "claim(s) did not hold: the GAN covers more modes" in entry["error"]
    assert entry["results"]["claims"][1]["outcome"] == claims.NOT_HELD
    assert Path(tmp_path / "build" / "results" / "solutions" / "pytorch" / "06_claims.json").exists()
