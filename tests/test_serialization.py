"""minigen.save / minigen.load: one .npz file, no pickle, atomic writes, clear errors."""
import collections
import io
import json
import os
import pickle
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import minigen
from minigen import nn, serialization, tempfiles
from minigen.serialization import CheckpointError, load, save


def _checkpoint():
    """What a training script saves: a model, an optimizer (int keys), numbers, the RNG."""
    return {
        "model": collections.OrderedDict(weight=minigen.randn(3, 4), bias=minigen.zeros(4, dtype="float64")),
        "optimizer": {"state": {0: {"step": 7, "exp_avg": minigen.ones(3, 4)}, 1: {"step": 7}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False}]},
        "epoch": 12, "best": float("inf"), "note": "run 1", "scheduler": None,
        "counts": np.arange(6, dtype=np.int16).reshape(2, 3), "mask": np.array([True, False]),
        "half": np.float16([0.5, -2.0]), "empty": np.zeros((0, 3), np.uint8), "scalar": np.float32(0.25),
        "rng": minigen.get_rng_state(),
    }


def _assert_same(saved, loaded, where="obj"):
    assert type(loaded) is (dict if isinstance(saved, dict) else type(saved)), where
    if isinstance(saved, dict):
        assert list(loaded) == list(saved), where  # key types and order
        for key in saved:
            _assert_same(saved[key], loaded[key], f"{where}[{key!r}]")
    elif isinstance(saved, (list, tuple)):
        assert len(loaded) == len(saved), where
        for i, (a, b) in enumerate(zip(saved, loaded)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(saved, minigen.Tensor):
        assert loaded.dtype == saved.dtype and loaded.device == "cpu" and not loaded.requires_grad, where
        np.testing.assert_array_equal(loaded.numpy(), saved.numpy())
    elif isinstance(saved, (np.ndarray, np.generic)):
        assert loaded.dtype == saved.dtype and loaded.shape == saved.shape, where
        np.testing.assert_array_equal(loaded, saved)
    else:
        assert loaded == saved, where


def test_round_trip_keeps_values_dtypes_key_types_and_containers(tmp_path):
    checkpoint = _checkpoint()
    save(checkpoint, tmp_path / "run.npz")
    _assert_same(checkpoint, load(tmp_path / "run.npz"))


def test_tensors_come_back_as_plain_tensors_without_grad(tmp_path):
    weight = minigen.randn(2, requires_grad=True)
    save({"w": weight * 2}, tmp_path / "w.npz")
    loaded = load(tmp_path / "w.npz")["w"]
    assert type(loaded) is minigen.Tensor and not loaded.requires_grad and loaded.grad_fn is None


def test_the_rng_state_restores_the_stream(tmp_path):
    save(minigen.get_rng_state(), tmp_path / "rng.npz")
    expected = minigen.randn(5).numpy()
    minigen.set_rng_state(load(tmp_path / "rng.npz"))
    np.testing.assert_array_equal(minigen.randn(5).numpy(), expected)


def test_the_file_is_an_npz_with_a_json_header(tmp_path):
    save({"w": minigen.ones(2)}, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as npz:
        header = json.loads(npz["__minigen__"].tobytes())
        assert header["format"] == "minigen" and header["version"] == 1
        assert sorted(npz.files) == ["0", "__minigen__"]


@pytest.mark.skipif(minigen.cuda_is_available(), reason="checks the error raised when there is no CUDA")
def test_loading_onto_cuda_without_cuda_raises_runtime_error(tmp_path):
    save({"w": minigen.ones(2)}, tmp_path / "w.npz")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        load(tmp_path / "w.npz", map_location="cuda")


def test_map_location_puts_tensors_on_the_device_as_in_pytorch(tmp_path, device):
    save({"w": minigen.ones(2)}, tmp_path / "w.npz")
    for loaded in (load(tmp_path / "w.npz", map_location=device), load(tmp_path / "w.npz", device)):
        assert loaded["w"].device == minigen.tensor(0.0, device=device).device


def test_map_location_and_device_together_are_refused(tmp_path):
    save({"w": minigen.ones(2)}, tmp_path / "w.npz")
    with pytest.raises(ValueError, match="give map_location or device, not both"):
        load(tmp_path / "w.npz", map_location="cpu", device="cpu")


@pytest.mark.parametrize("map_location, kind", [({"cuda:0": "cpu"}, "a dict"),
                                                (lambda storage, location: storage, "a function")])
def test_map_location_as_a_dict_or_function_is_not_implemented(tmp_path, map_location, kind):
    save({"w": minigen.ones(2)}, tmp_path / "w.npz")
    with pytest.raises(NotImplementedError, match=f"map_location as {kind} is not supported.*map_location='cpu'"):
        load(tmp_path / "w.npz", map_location=map_location)


@pytest.mark.parametrize("obj, where", [(nn.Linear(2, 3), "obj"), ({"model": nn.Sequential(nn.Linear(2, 3))},
                                                                  r"obj\['model'\]")])
def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path, obj, where):
    with pytest.raises(TypeError, match=rf"cannot store a whole \w+ object \(at {where}\): save its state_dict\(\) "
                                        r"instead, as in minigen.save\(model.state_dict\(\), path\)"):
        save(obj, tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_an_optimizers_state_dict_is_what_to_save_not_the_optimizer(tmp_path):
    optimizer = minigen.optim.SGD(nn.Linear(2, 3).parameters(), lr=0.1)
    with pytest.raises(TypeError, match="cannot store a whole SGD object"):
        save(optimizer, tmp_path / "optimizer.npz")


def test_load_puts_tensors_on_the_device(tmp_path, device):
    save({"w": minigen.ones(2)}, tmp_path / "w.npz")
    loaded = load(tmp_path / "w.npz", map_location=device)["w"]
    assert loaded.device == minigen.tensor(0.0, device=device).device


@pytest.mark.parametrize("obj, message", [
    ({"foo": [1, 2, {3}]}, r"cannot store object of type set at obj\['foo'\]\[2\]"),
    ({"a": (1, 2.0j)}, r"type complex at obj\['a'\]\[1\]"),
    ({(1, 2): 3}, r"dict keys must be str or int, got tuple key \(1, 2\) at obj"),
    ({"x": {True: 1}}, r"got bool key True at obj\['x'\]"),
    ([np.array([None, 1])], r"dtype object\) at obj\[0\]"),
])
def test_unsupported_objects_raise_type_error_naming_where(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        save(obj, tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []


def test_an_interrupted_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)
    before = path.read_bytes()

    def write_half_then_fail(file, arrays):
        file.write(before[: len(before) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    monkeypatch.undo()
    assert load(path) == {"epoch": 1}


def test_an_error_names_the_path_not_the_temporary_file(tmp_path):
    path = tmp_path / "missing" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as error:
        save({"epoch": 1}, path)
    assert error.value.filename == str(path) and ".tmp" not in str(error.value)
    assert isinstance(error.value.__cause__, FileNotFoundError)


def test_replacing_a_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)
    os.chmod(path, 0o640)
    save({"epoch": 2}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640 and load(path) == {"epoch": 2}


def test_save_replaces_an_existing_file(tmp_path):
    save({"epoch": 1}, tmp_path / "ckpt.npz")
    save({"epoch": 2}, tmp_path / "ckpt.npz")
    assert load(tmp_path / "ckpt.npz") == {"epoch": 2}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.npz"
    save(_checkpoint(), path)
    return path


def test_a_truncated_file_raises_value_error_naming_it(good_file):
    good_file.write_bytes(good_file.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"good\.npz.*truncated or corrupt"):
        load(good_file)


def test_a_flipped_byte_is_caught_by_the_checksum(good_file):
    data = bytearray(good_file.read_bytes())
    data[len(data) // 3] ^= 0xFF
    good_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="good.npz"):
        load(good_file)


@pytest.mark.parametrize("content", [b"", os.urandom(2000), b"\x93NUMPY not an npz", b"hello\n"])
def test_a_file_that_is_not_an_npz_raises_value_error(tmp_path, content):
    (tmp_path / "x.npz").write_bytes(content)
    with pytest.raises(ValueError, match=r"x\.npz' is not an \.npz file"):
        load(tmp_path / "x.npz")


def test_a_foreign_npz_is_recognized(tmp_path):
    np.savez(tmp_path / "foreign.npz", weight=np.ones(3))
    with pytest.raises(ValueError, match=r"foreign\.npz' is an \.npz file but not a minigen checkpoint"):
        load(tmp_path / "foreign.npz")


def test_a_newer_format_version_is_refused(tmp_path):
    header = json.dumps({"format": "minigen", "version": 99, "tree": None}).encode()
    np.savez(tmp_path / "new.npz", __minigen__=np.frombuffer(header, np.uint8))
    with pytest.raises(ValueError, match="newer minigen"):
        load(tmp_path / "new.npz")


def test_pickled_object_arrays_are_refused(tmp_path):
    header = json.dumps({"format": "minigen", "version": 1, "tree": {"array": "0"}}).encode()
    np.savez(tmp_path / "evil.npz", __minigen__=np.frombuffer(header, np.uint8), **{"0": np.array([{"a": 1}])})
    with pytest.raises(ValueError, match=r"evil\.npz.*allow_pickle"):
        load(tmp_path / "evil.npz")


def test_save_and_load_never_call_pickle(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("dump", "dumps", "load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)
    checkpoint = _checkpoint()
    save(checkpoint, tmp_path / "ckpt.npz")
    _assert_same(checkpoint, load(tmp_path / "ckpt.npz"))


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_the_file_gets_the_permissions_of_any_new_file(tmp_path):
    save({"epoch": 1}, tmp_path / "ckpt.npz")
    (tmp_path / "plain").write_bytes(b"")
    assert (tmp_path / "ckpt.npz").stat().st_mode == (tmp_path / "plain").stat().st_mode


# ------------------------------------------------------------------ temporaries left by killed saves
_KILLED_SAVE = """
import sys, time
from minigen import serialization

def write_then_hang(file, arrays):
    file.write(b"PK" + bytes(1 << 20))
    file.flush()
    print("writing", flush=True)
    time.sleep(60)

serialization._write_npz = write_then_hang
serialization.save({"epoch": 2}, sys.argv[1])
"""


def _dead_pid():
    """The id of a process that has just ended (ids are not reused this quickly)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_save_killed_mid_write_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)
    child = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(path)], stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert child.stdout.readline() == b"writing\n"
    child.kill()  # SIGKILL: no finally clause runs
    child.wait()
    left = [name for name in os.listdir(tmp_path) if name != "ckpt.npz"]
    assert len(left) == 1 and left[0].endswith(".tmp") and load(path) == {"epoch": 1}
    save({"epoch": 3}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"] and load(path) == {"epoch": 3}


def test_save_removes_abandoned_temporaries_of_its_pattern_and_nothing_else(tmp_path):
    host, dead, alive = tempfiles._host(), _dead_pid(), os.getpid()
    abandoned = [f".ckpt.npz.minigen.{host}.{dead}.0123abcd.tmp",    # killed writer on this host
                 f".epoch3.npz.minigen.{host}.{dead}.4567abcd.tmp",  # another checkpoint's, same folder
                 f".ckpt.npz.minigen.elsewhere.{alive}.89abcdef.tmp",  # another host, no write for 2 hours
                 ".ckpt.npz.0123abcd.tmp"]                             # minigen's older name, 2 hours old
    kept = [f".ckpt.npz.minigen.{host}.{alive}.0123abcd.tmp",       # a save still running
            ".other.npz.0123abcd.tmp",                              # older name, another target
            f".ckpt.npz.minigen.{host}.{dead}.0123abcd.part",        # another suffix
            "notes.tmp", "ckpt.npz.bak", f"ckpt.npz.minigen.{host}.{dead}.0123abcd.tmp"]  # not hidden: not ours
    for name in abandoned + kept:
        (tmp_path / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for name in abandoned[2:] + kept[1:2]:
        os.utime(tmp_path / name, (two_hours_ago, two_hours_ago))
    save({"epoch": 1}, tmp_path / "ckpt.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["ckpt.npz"])


# ------------------------------------------------------------------ hostile or broken files
def _npz_with(tmp_path, header, **arrays):
    path = tmp_path / "crafted.npz"
    np.savez(path, __minigen__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return path


def test_an_entry_that_declares_more_data_than_the_file_holds_is_refused_before_allocating(tmp_path):
    header = {"format": "minigen", "version": 1, "tree": {"array": "0"}}
    path = _npz_with(tmp_path, header)
    member = io.BytesIO()
    np.save(member, np.zeros(10**6))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0.npy", member.getvalue())  # 8 MB of zeros in 8 kB
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError,
                           match=r"crafted\.npz.*entry '0' declares 8000000 bytes .* holds \d{4} compressed bytes"):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"load allocated {peak} bytes before refusing the file"


def test_an_npy_header_larger_than_its_entry_is_refused(tmp_path):
    path = _npz_with(tmp_path, {"format": "minigen", "version": 1, "tree": {"array": "0"}})
    member = io.BytesIO()
    np.save(member, np.zeros(4))
    member = member.getvalue().replace(b"'shape': (4,), }      ", b"'shape': (9999999,), }")  # same length
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("0.npy", member)
    with pytest.raises(CheckpointError, match=r"entry '0' declares 79999992 bytes \(float64 of shape \(9999999,\)\) "
                                              r"but holds 32 bytes"):
        load(path)


@pytest.mark.parametrize("tree", [
    {"dict": [["k", {"tensor": ["0"]}]]}, {"dict": 5}, {"list": {"a": 1}}, {"tensor": "0", "list": []},
    {"set": [1]}, {"dict": [["k"]]}, {"dict": [[[1], 2]]}, {"array": "7"}, {},
])
def test_a_malformed_tree_raises_checkpoint_error(tmp_path, tree):
    path = _npz_with(tmp_path, {"format": "minigen", "version": 1, "tree": tree}, **{"0": np.zeros(2)})
    with pytest.raises(CheckpointError, match=r"crafted\.npz"):
        load(path)


def test_a_deeply_nested_header_raises_checkpoint_error(tmp_path):
    path = tmp_path / "deep.npz"
    deep = '{"format": "minigen", "version": 1, "tree": ' + '{"list": [' * 100000 + ']}' * 100000 + '}'
    np.savez(path, __minigen__=np.frombuffer(deep.encode(), np.uint8))
    with pytest.raises(CheckpointError, match=r"deep\.npz"):
        load(path)


def test_a_structure_that_contains_itself_is_refused_naming_where(tmp_path):
    loop = {"a": [1, 2]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"obj\['a'\]\[2\] is obj itself"):
        save(loop, tmp_path / "loop.npz")
    assert os.listdir(tmp_path) == []


def test_a_structure_nested_too_deeply_is_refused(tmp_path):
    deep = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        save(deep, tmp_path / "deep.npz")


def test_an_entry_that_is_not_an_npy_array_raises_checkpoint_error(tmp_path):
    path = tmp_path / "raw.npz"
    with zipfile.ZipFile(path, "w") as archive:  # np.load hands back entries not named .npy as raw bytes
        archive.writestr("__minigen__", json.dumps({"format": "minigen", "version": 1, "tree": None}))
    with pytest.raises(CheckpointError, match=r"raw\.npz"):
        load(path)
