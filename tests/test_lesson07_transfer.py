"""Lesson 07: the shipped pretrained weights (checksums, safe loading, the same network in both tracks,
reproducible bytes) and the checkers of ``load_pretrained`` and ``freeze_lower`` in both tracks."""
import json

import numpy as np
import pytest

from course_lib import pretrained

ct_tf = pytest.importorskip("course_lib.tensorflow")  # first: configures TensorFlow
ct_torch = pytest.importorskip("course_lib.torch")
tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from course_lib.exercises import lesson07_transfer as l07  # noqa: E402
from course_lib.tensorflow import exercises as ex_tf, transfer as tr_tf  # noqa: E402
from course_lib.torch import exercises as ex_torch, transfer as tr_torch  # noqa: E402

TRACKS = {"pytorch": (ex_torch, tr_torch), "tensorflow": (ex_tf, tr_tf)}


# --- the shipped weights -----------------------------------------------------------------------------


def test_recorded_checksums_match_the_files_and_the_weights_are_small():
    info = json.loads(pretrained.MANIFEST.read_text())
    assert set(info["models"]) == set(pretrained.MODELS)
    for entry in info["models"].values():
        path = pretrained.ASSET_DIR / entry["file"]
        assert pretrained.sha256(path) == entry["sha256"], f"{entry['file']} differs from manifest.json"
        assert path.stat().st_size == entry["bytes"]
        assert entry["training"]["script"] == "scripts/pretrain_source_models.py"
        assert "classifier was not used" in entry["training"]["training_signal"]
    assert pretrained.size_bytes() < 2_000_000


def test_load_reads_without_pickle_and_refuses_changed_files(monkeypatch):
    # np.load(..., allow_pickle=False) refuses object arrays; the files hold plain float32 arrays
    for model in pretrained.MODELS:
        with np.load(pretrained.path(model), allow_pickle=False) as f:
            assert all(f[k].dtype == np.float32 for k in f.files)
    monkeypatch.setattr(pretrained, "sha256", lambda path: "0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        pretrained.load("gan")


def test_writing_the_loaded_arrays_gives_the_shipped_bytes(tmp_path):
    """write_npz depends only on the arrays: the script's output is reproducible byte for byte."""
    for model in pretrained.MODELS:
        out = pretrained.write_npz(tmp_path / f"{model}.npz", pretrained.flat(pretrained.load(model)))
        assert pretrained.sha256(out) == pretrained.manifest()["models"][model]["sha256"]


def test_both_tracks_give_the_same_samples_from_the_same_latent_codes():
    z = np.random.default_rng(0).normal(size=(64, 16)).astype(np.float32)
    x = np.random.default_rng(1).uniform(size=(64, 64)).astype(np.float32)
    (G1, D1), (G2, D2) = tr_torch.pretrained_gan(), tr_tf.pretrained_gan()
    layers = pretrained.load("gan")
    for a, b, want in ((tr_torch.outputs(G1, z), tr_tf.outputs(G2, z), pretrained.forward(layers["generator"], z,
                                                                                          "relu", "sigmoid")),
                       (tr_torch.outputs(D1, x), tr_tf.outputs(D2, x), pretrained.forward(layers["discriminator"], x,
                                                                                          "leaky")[:, 0])):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
        np.testing.assert_allclose(a, want, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ct_torch.sample_gan(G1, 100, seed=3), ct_tf.sample_gan(G2, 100, seed=3), atol=1e-5)
    v1, v2 = tr_torch.pretrained_vae(), tr_tf.pretrained_vae()
    np.testing.assert_allclose(ct_torch.sample_vae(v1, 100, seed=3), ct_tf.sample_vae(v2, 100, seed=3), atol=1e-5)
    np.testing.assert_allclose(tr_torch.outputs(v1.encoder, x), tr_tf.outputs(v2.encoder, x), atol=1e-4)


@pytest.mark.parametrize("track", TRACKS)
def test_stacked_fine_tuning_leaves_the_frozen_layer_bit_identical(track):
    _, tr = TRACKS[track]
    pairs = [tr.pretrained_gan() for _ in range(2)]
    Gs, Ds = zip(*pairs)
    first = [tr.export_layers(D)[0] for D in Ds]
    x = np.random.default_rng(0).uniform(size=(40, 64)).astype(np.float32)
    tr.fine_tune_gans(Gs, Ds, x, 4, 16, [0, 1], 1e-3, freeze=1)
    for D, (k, b) in zip(Ds, first):
        k2, b2 = tr.export_layers(D)[0]
        assert np.array_equal(k, k2) and np.array_equal(b, b2)
        assert not np.array_equal(tr.export_layers(D)[1][0], pretrained.load("gan")["discriminator"][1][0])


# --- the checkers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("track", TRACKS)
def test_reference_answers_pass(track):
    ex, tr = TRACKS[track]
    assert ex.load_pretrained.verdict(tr.load_layers).passed
    assert ex.freeze_lower.verdict(tr.freeze_lower).passed
    assert ex.freeze_lower.verdict(tr.freeze_lower).use is tr.freeze_lower


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("track", TRACKS)
def test_stubs_are_not_attempted_and_fall_back_to_the_reference(track):
    ex, tr = TRACKS[track]
    for name, ref in (("load_pretrained", tr.load_layers), ("freeze_lower", tr.freeze_lower)):
        v = getattr(ex, name).verdict(_stub)
        assert v.status == "not attempted" and v.use is ref


def _freeze_mistakes(track):
    tr = TRACKS[track][1]

    def upper(D, k):
        n = len(tr.blocks(D))
        return _freeze_blocks(track, D, range(n - k, n))

    return {
        "the top k layers": upper,
        "one layer too many": lambda D, k: tr.freeze_lower(D, k + 1),
        "one layer too few": lambda D, k: tr.freeze_lower(D, k - 1),
        "nothing frozen": lambda D, k: list(D.parameters() if track == "pytorch" else D.trainable_variables),
    }


def _freeze_blocks(track, D, which):
    tr = TRACKS[track][1]
    blocks = tr.blocks(D)
    for i in which:
        for layer in blocks[i]:
            if track == "pytorch":
                layer.requires_grad_(False)
                if isinstance(layer, tr.NORMS):
                    layer.eval()
            else:
                layer.trainable = False
    return [p for p in D.parameters() if p.requires_grad] if track == "pytorch" else list(D.trainable_variables)


@pytest.mark.parametrize("track", TRACKS)
def test_freeze_checker_names_the_common_mistakes(track):
    ex, _ = TRACKS[track]
    for name, fn in _freeze_mistakes(track).items():
        v = ex.freeze_lower.verdict(fn)
        message = next(m.message for m in l07.FREEZE_MISTAKES if m.name == name)
        assert not v.passed and message in v.message, (name, v.message)


def test_freeze_checker_catches_batchnorm_statistics_and_extra_parameters_in_pytorch():
    def grads_only(D, k):
        for block in tr_torch.blocks(D)[:k]:
            for layer in block:
                layer.requires_grad_(False)
        return [p for p in D.parameters() if p.requires_grad]

    def everything(D, k):
        tr_torch.freeze_lower(D, k)
        return list(D.parameters())

    for fn, text in ((grads_only, "running statistics still moved"), (everything, "no longer train")):
        v = ex_torch.freeze_lower.verdict(fn)
        assert not v.passed and text in v.message and v.use is tr_torch.freeze_lower


def test_freeze_checker_catches_a_variable_list_with_the_frozen_weights_in_tensorflow():
    def everything(D, k):
        tr_tf.freeze_lower(D, k)
        return list(D.variables)

    v = ex_tf.freeze_lower.verdict(everything)
    assert not v.passed and "trainable = False does not change its variables" in v.message


def test_load_checker_catches_missing_biases_and_shared_memory():
    def no_biases(model, layers):
        with torch.no_grad():
            for lin, (k, _) in zip(tr_torch.dense_layers(model), layers):
                lin.weight.copy_(torch.as_tensor(k.T))
        return model

    def shared(model, layers):
        for lin, (k, b) in zip(tr_torch.dense_layers(model), layers):
            lin.weight.data, lin.bias.data = torch.from_numpy(k.T), torch.from_numpy(b)
        return model

    assert "zero* biases" in ex_torch.load_pretrained.verdict(no_biases).message
    v = ex_torch.load_pretrained.verdict(shared)
    assert not v.passed and "share memory" in v.message


def test_load_checker_catches_missing_biases_in_tensorflow():
    def no_biases(model, layers):
        for dense, (k, _) in zip(tr_tf.dense_layers(model), layers):
            dense.kernel.assign(k)
        return model

    assert "zero* biases" in ex_tf.load_pretrained.verdict(no_biases).message
