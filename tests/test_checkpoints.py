"""Checkpoints without pickle (lesson 02, both tracks): an npz archive of arrays plus a JSON header.

A file in the old pickle format never runs code, another run's file is refused before any array is
read, a truncated file names itself, another architecture changes nothing, a killed save leaves no
temporary file for good, and a round trip restores everything exactly.
"""
import json
import os
import pickle
import time
import zipfile

import numpy as np
import pytest

from course_lib import checkpoints, data
from course_lib.techniques import early_stopping as es

TRACKS = ["course_lib.torch", "course_lib.tensorflow"]
META = {"lesson": "02_early_stopping", "seed": 2, "budget": "smoke"}


def _track(name):
    return pytest.importorskip(name)


def _is_torch(ct):
    return ct.__name__ == "course_lib.torch"


def _new(ct, seed, hidden=(32,)):
    ct.seed_everything(seed)
    vae = ct.VAE(z_dim=4, hidden=hidden)
    return vae, ct.VAETrainer(vae, data.digits("train")[:64], batch_size=16, lr=1e-3, seed=seed)


def _weights(ct, model):
    if _is_torch(ct):
        return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    return dict(enumerate(w.copy() for w in model.get_weights()))


def _optimizer(ct, trainer):
    """Every array of the optimizer's state, and its hyperparameters."""
    if _is_torch(ct):
        sd = trainer.optimizer.state_dict()
        arrays = {f"{i}/{k}": v.detach().cpu().numpy().copy() for i, s in sd["state"].items() for k, v in s.items()}
        return arrays, sd["param_groups"]
    return {i: v.numpy().copy() for i, v in enumerate(trainer.optimizer.variables)}, None


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _snapshot(ct, trainer):
    arrays, groups = _optimizer(ct, trainer)
    return {"weights": _weights(ct, trainer.model), "optimizer": arrays, "groups": groups,
            "batches": trainer.batches.state_dict(), "noise": es.rng_state(trainer.noise_rng),
            "epoch": trainer.epoch, "last": trainer.last_batch_loss}


def _assert_same_snapshot(a, b):
    assert _same(a["weights"], b["weights"]) and _same(a["optimizer"], b["optimizer"])
    assert a["groups"] == b["groups"]
    assert a["batches"]["rng"] == b["batches"]["rng"] and a["batches"]["pos"] == b["batches"]["pos"]
    assert np.array_equal(a["batches"]["perm"], b["batches"]["perm"])
    assert a["noise"] == b["noise"] and a["epoch"] == b["epoch"]
    assert a["last"] == b["last"] or (np.isnan(a["last"]) and np.isnan(b["last"]))


def _trained(ct, path, seed=2, epochs=2, hidden=(32,)):
    vae, trainer = _new(ct, seed, hidden)
    stopper, history = ct.EarlyStopping(3), []
    for _ in range(epochs):
        trainer.train_epoch()
        history.append(trainer.evaluate(data.digits("val")))
        stopper.step(history[-1], vae)
    trainer.save(path, meta=META, early_stopping=stopper.state_dict(), history=history)
    return vae, trainer, stopper, history


def _archive(path, members: dict):
    """An npz-style zip of ``name.npy`` members, object arrays pickled (as ``np.savez`` would)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, arr in members.items():
            with zf.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, arr, allow_pickle=True)


# --- the old format: a pickle that would run code ----------------------------------------


class _Evil:
    """Unpickling this creates ``target``: what a crafted checkpoint could do with any code."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.mark.parametrize("name", TRACKS)
@pytest.mark.parametrize("writer", ["pickle", "torch.save", "npz with a pickled member"])
def test_a_malicious_pickle_checkpoint_never_runs(name, writer, tmp_path):
    ct = _track(name)
    folder, target = tmp_path / "checkpoints", tmp_path / "pwned.txt"
    folder.mkdir()
    path = es.checkpoint_path(folder, "02_early_stopping", "x", 2, "smoke", tag="resume-demo", suffix=".pkl")
    if writer == "torch.save":
        torch = pytest.importorskip("torch")
        torch.save({"meta": META, "trainer": _Evil(target)}, path)
    elif writer == "npz with a pickled member":
        _archive(path, {"__checkpoint__": np.array([_Evil(target)], dtype=object)})
    else:
        path.write_bytes(pickle.dumps({"meta": META, "trainer": _Evil(target)}))
    _, trainer = _new(ct, 0)
    before = _snapshot(ct, trainer)
    for load in (lambda: ct.load_checkpoint(path, meta=META), lambda: ct.load_checkpoint(path),
                 lambda: trainer.load(path, meta=META)):
        with pytest.raises(ValueError, match="never unpickled") as err:
            load()
        assert str(path) in str(err.value)
    assert not target.exists(), "loading the checkpoint ran code from it"
    assert sorted(os.listdir(tmp_path)) == ["checkpoints"] and os.listdir(folder) == [path.name]
    _assert_same_snapshot(before, _snapshot(ct, trainer))


# --- another run, truncated files, another architecture -------------------------------------


@pytest.mark.parametrize("name", TRACKS)
def test_another_runs_checkpoint_is_refused_before_any_array_is_read(name, tmp_path, monkeypatch):
    ct = _track(name)
    path = tmp_path / "run.ckpt"
    _trained(ct, path, epochs=1)
    _, trainer = _new(ct, 5)
    before = _snapshot(ct, trainer)

    def no_arrays(*args):
        raise AssertionError("an array was read before the metadata were checked")

    monkeypatch.setattr(checkpoints, "_read_array", no_arrays)
    for load in (lambda: trainer.load(path, meta={**META, "seed": 3}),
                 lambda: ct.load_checkpoint(path, meta={**META, "seed": 3})):
        with pytest.raises(ValueError, match="different run") as err:
            load()
        # the notebook prints what stands between the first parentheses
        assert str(err.value).split("(")[1].split(")")[0] == "seed: file has 2, this run has 3"
    _assert_same_snapshot(before, _snapshot(ct, trainer))
    with pytest.raises(AssertionError, match="array was read"):  # the right run does read arrays
        ct.load_checkpoint(path, meta=META)


@pytest.mark.parametrize("name", TRACKS)
def test_a_truncated_or_corrupt_checkpoint_names_the_file(name, tmp_path):
    ct = _track(name)
    path = tmp_path / "run.ckpt"
    _trained(ct, path, epochs=1)
    whole = path.read_bytes()
    damaged = {"empty": b"", "10 bytes": whole[:10], "half": whole[:len(whole) // 2], "all but one": whole[:-1],
               "a flipped byte": whole[:len(whole) // 2] + bytes([whole[len(whole) // 2] ^ 0xFF])
               + whole[len(whole) // 2 + 1:]}
    header = json.loads(str(np.load(path, allow_pickle=False)["__checkpoint__"]))
    crafted = {"a header that is not JSON": {"__checkpoint__": np.array("{not json")},
               "an array the header lists but the file lacks": {"__checkpoint__": np.array(json.dumps(header))},
               "an array of another shape than the header says": {
                   "__checkpoint__": np.array(json.dumps(header)),
                   **{k: np.zeros(3, np.float32) for k in header["arrays"]}},
               "no header": {"trainer/epoch": np.array(1)}}
    for what, members in crafted.items():
        _archive(tmp_path / "crafted", members)
        damaged[what] = (tmp_path / "crafted").read_bytes()
    _, trainer = _new(ct, 5)
    before = _snapshot(ct, trainer)
    for what, content in damaged.items():
        path.write_bytes(content)
        for load in (lambda: ct.load_checkpoint(path, meta=META), lambda: trainer.load(path, meta=META)):
            with pytest.raises(ValueError, match="truncated or corrupt") as err:
                load()
            assert str(path) in str(err.value), what
            assert isinstance(err.value, checkpoints.CheckpointError), what
    _assert_same_snapshot(before, _snapshot(ct, trainer))


@pytest.mark.parametrize("name", TRACKS)
def test_another_architecture_changes_nothing(name, tmp_path):
    ct = _track(name)
    path = tmp_path / "run.ckpt"
    _trained(ct, path, hidden=(32,), epochs=1)
    vae, trainer = _new(ct, 5, hidden=(16,))
    trainer.train_epoch()  # an optimizer with a state of its own
    before = _snapshot(ct, trainer)
    with pytest.raises(ValueError, match="does not fit") as err:
        trainer.load(path, meta=META)
    assert str(path) in str(err.value) and "trainer/model/" in str(err.value)
    assert "nothing was loaded" in str(err.value)
    _assert_same_snapshot(before, _snapshot(ct, trainer))


@pytest.mark.parametrize("name", TRACKS)
def test_an_optimizer_state_of_another_shape_changes_nothing(name, tmp_path):
    """The weights fit, the optimizer state does not: not even the weights may be assigned."""
    ct = _track(name)
    _, small = _new(ct, 1, hidden=(16,))
    small.train_epoch()
    _, donor = _new(ct, 3)
    donor.train_epoch(), donor.train_epoch()
    _, trainer = _new(ct, 5)
    trainer.train_epoch()
    before = _snapshot(ct, trainer)
    state = {**donor.state_dict(), "optimizer": small.state_dict()["optimizer"]}
    with pytest.raises(ValueError, match="optimizer/") as err:
        trainer.load_state_dict(state)
    assert "does not fit" in str(err.value)
    _assert_same_snapshot(before, _snapshot(ct, trainer))
    path = tmp_path / "mixed.ckpt"
    ct.save_checkpoint(path, {"trainer": state}, META)
    with pytest.raises(ValueError, match="trainer/optimizer/") as err:
        trainer.load(path, meta=META)
    assert str(path) in str(err.value)
    _assert_same_snapshot(before, _snapshot(ct, trainer))


# --- interrupted saves --------------------------------------------------------------------


def _temps(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".tmp"))


@pytest.mark.parametrize("name", TRACKS)
def test_an_interrupted_save_keeps_the_old_file_and_leaves_no_temp(name, tmp_path, monkeypatch):
    ct = _track(name)
    path = tmp_path / "run.ckpt"
    _, trainer, stopper, history = _trained(ct, path, epochs=1)
    write_array, calls = np.lib.format.write_array, []

    def dies_on_the_third_array(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            fp.write(b"half an array")
            raise KeyboardInterrupt("the laptop lid closes")
        return write_array(fp, array, *args, **kwargs)

    trainer.train_epoch()
    monkeypatch.setattr(np.lib.format, "write_array", dies_on_the_third_array)
    with pytest.raises(KeyboardInterrupt):
        trainer.save(path, meta=META, early_stopping=stopper.state_dict(), history=history)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["run.ckpt"]
    assert ct.load_checkpoint(path, meta=META)["trainer"]["epoch"] == 1  # the last complete save


@pytest.mark.parametrize("name", TRACKS)
def test_a_killed_save_leaves_no_temp_after_the_next_save_or_load(name, tmp_path):
    ct = _track(name)
    path = tmp_path / "run.ckpt"
    _, trainer, stopper, history = _trained(ct, path, epochs=1)
    hour_ago = time.time() - 3600

    def killed(tmp_name, content=b"PK\x03\x04 half a checkpoint"):  # SIGKILL: no except clause runs
        (tmp_path / tmp_name).write_bytes(content)
        os.utime(tmp_path / tmp_name, (hour_ago, hour_ago))

    killed(".run.ckpt.k1ll3d_1.tmp")
    killed(".other.ckpt.abcd1234.tmp")  # another checkpoint's: not ours to remove
    trainer.save(path, meta=META, early_stopping=stopper.state_dict(), history=history)
    assert _temps(tmp_path) == [".other.ckpt.abcd1234.tmp"]
    killed(".run.ckpt.k1ll3d_2.tmp")
    ct.load_checkpoint(path, meta=META)
    assert _temps(tmp_path) == [".other.ckpt.abcd1234.tmp"]
    assert checkpoints.remove_stale_temps(tmp_path / "other.ckpt") == [".other.ckpt.abcd1234.tmp"]


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRACKS)
def test_round_trip_restores_everything_exactly(name, tmp_path):
    ct = _track(name)
    path = tmp_path / "run.pkl"  # the TensorFlow notebook's suffix: the file keeps its name
    vae_a, trainer_a, stopper_a, history_a = _trained(ct, path, epochs=2)
    history_a.append(float("nan"))
    trainer_a.save(path, meta=META, early_stopping=stopper_a.state_dict(), history=history_a)
    assert os.listdir(tmp_path) == ["run.pkl"]
    with np.load(path, allow_pickle=False) as z:  # a plain npz archive: arrays plus a JSON header
        header = json.loads(str(z["__checkpoint__"]))
        assert header["meta"] == META and set(header["arrays"]) <= set(z.files)
        first = "trainer/model/encoder.0.weight" if _is_torch(ct) else "trainer/model/0"
        assert np.array_equal(z[first], next(iter(_weights(ct, vae_a).values())))

    vae_b, trainer_b = _new(ct, 9)  # other initial weights: everything must come from the file
    stopper_b = ct.EarlyStopping(3)
    extras = trainer_b.load(path, meta=META)
    stopper_b.load_state_dict(extras["early_stopping"])
    _assert_same_snapshot(_snapshot(ct, trainer_a), _snapshot(ct, trainer_b))
    assert extras["history"][:-1] == history_a[:-1] and np.isnan(extras["history"][-1])
    assert extras["meta"] == META
    assert stopper_b.tracker.state_dict() == stopper_a.tracker.state_dict()
    best_a = stopper_a.best_state if _is_torch(ct) else dict(enumerate(stopper_a.best_weights))
    best_b = stopper_b.best_state if _is_torch(ct) else dict(enumerate(stopper_b.best_weights))
    assert _same({k: np.asarray(v.cpu() if _is_torch(ct) else v) for k, v in best_a.items()},
                 {k: np.asarray(v.cpu() if _is_torch(ct) else v) for k, v in best_b.items()})
    if _is_torch(ct):
        import torch
        step = trainer_b.optimizer.state_dict()["state"][0]["step"]
        assert isinstance(step, torch.Tensor) and step.dtype == torch.float32 and float(step) == 8.0
        assert trainer_b.optimizer.state_dict()["param_groups"][0]["betas"] == (0.9, 0.999)
    else:
        assert int(trainer_b.optimizer.iterations) == int(trainer_a.optimizer.iterations) == 8
    assert trainer_a.train_epoch() == trainer_b.train_epoch()  # and training goes on identically
    assert _same(_weights(ct, vae_a), _weights(ct, vae_b))


def test_the_container_keeps_types_and_refuses_what_json_cannot_hold(tmp_path):
    path = tmp_path / "state.ckpt"
    state = {"ints": {0: np.float32(1.5), 7: np.int64(-3)}, "pair": (0.9, 0.999), "none": None,
             "floats": [float("nan"), float("inf"), -0.0, 1e-300], "big": 2 ** 100 + 1, "flag": np.bool_(True),
             "arrays": [np.arange(6, dtype=np.int16).reshape(2, 3), np.zeros((0, 4)), np.array(3.0)],
             "__kind__": "a key that looks like the format's own tag", "text": "é ✓"}
    checkpoints.save(path, state, {"seed": np.int64(4)})
    back = checkpoints.load(path, meta={"seed": 4})
    assert back["meta"] == {"seed": 4}
    assert back["ints"] == {0: 1.5, 7: -3} and type(back["ints"][0]) is np.float32
    assert type(back["ints"][7]) is np.int64 and type(back["flag"]) is np.bool_
    assert back["pair"] == (0.9, 0.999) and back["none"] is None and back["big"] == 2 ** 100 + 1
    assert np.isnan(back["floats"][0]) and back["floats"][1:] == [float("inf"), -0.0, 1e-300]
    assert str(back["floats"][2]) == "-0.0" and back["text"] == "é ✓" and back["__kind__"] == state["__kind__"]
    for a, b in zip(state["arrays"], back["arrays"]):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    for bad in ({"f": lambda: 0}, {"objects": np.array([{}, []], dtype=object)}):
        with pytest.raises(TypeError, match="cannot go into a checkpoint"):
            checkpoints.save(tmp_path / "bad.ckpt", bad)
    assert os.listdir(tmp_path) == ["state.ckpt"]
