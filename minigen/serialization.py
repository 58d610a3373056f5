"""Saving and loading checkpoints: ``save(obj, f)`` and ``load(f, map_location="cpu")``, f a path.

A checkpoint is ONE ``.npz`` file written by NumPy, never a pickle, so loading a file
from someone else cannot run their code:

- every array (a Tensor's data, a NumPy or CuPy array) is an entry ``"0"``, ``"1"``, ...
- the structure around them is JSON, kept as bytes in the entry ``"__minigen__"``:

      {"format": "minigen", "version": 1,
       "tree": {"dict": [["weight", {"tensor": "0"}], [3, {"list": [1, 2.5, null]}]]}}

  Dicts, lists and tuples are tagged objects, so int keys stay ints and tuples stay
  tuples; numbers, bools, strings and None are plain JSON.

What comes back from ``load``:

- Tensors as plain tensors on the device asked for (``requires_grad=False``, no graph; an
  ``nn.Parameter`` comes back as a Tensor, ``load_state_dict`` copies it in place);
- NumPy and CuPy arrays as NumPy arrays, NumPy scalars as NumPy scalars;
- any dict (OrderedDict included) as a plain dict, in the order it was saved.
"""
import json
import math
import os
import stat
import zipfile
import zlib

import numpy as np

from minigen import backend, tempfiles
from minigen.autograd import Tensor
from minigen.ops.options import unsupported

MARKER = "__minigen__"
FORMAT, VERSION = "minigen", 1
ZIP_SIGNATURE = b"PK\x03\x04"  # the first bytes of every .npz file
MAX_DEPTH = 100  # containers inside containers, at most


# ------------------------------------------------------------------ save
def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Write ``obj`` to the path ``f`` as one ``.npz`` file, atomically (never a pickle: PyTorch's
    pickle_module and pickle_protocol are refused with NotImplementedError).

    obj: nested dicts (str or int keys), lists and tuples of Tensors, NumPy/CuPy arrays,
    NumPy scalars, int, float, bool, str and None -- a state_dict, an optimizer's state,
    a whole checkpoint, at most MAX_DEPTH containers deep. The file is written next to
    ``f`` under a temporary name, flushed to disk, then renamed: an interrupted save
    never leaves a half-written file at ``f``, and an existing file there stays
    untouched when saving fails (and keeps its permission bits when it is replaced).
    Temporaries that killed saves left in the folder are removed (``minigen.tempfiles``).

    Raises TypeError naming the place of the first object it cannot store
    (``save: cannot store object of type set at obj['foo'][2]``), ValueError for a
    structure that contains itself or is nested too deeply, and OSError (its
    subclass for the errno: FileNotFoundError, PermissionError...) naming ``f``.
    """
    unsupported("save", pickle_module=(pickle_module, None), pickle_protocol=(pickle_protocol, None))
    arrays = {}
    tree = _encode(obj, "obj", arrays, {})
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[MARKER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    _write_atomically(os.fspath(f), arrays)


def _encode(obj, where, arrays, parents):
    """The JSON tree for ``obj``; its arrays go into ``arrays`` under fresh names.
    parents: {id: where} of the containers that hold ``obj``."""
    if isinstance(obj, (dict, list, tuple)):
        return _encode_container(obj, where, arrays, parents)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (Tensor, np.generic)) or backend.is_array(obj):
        data = obj.data if isinstance(obj, Tensor) else obj
        array = np.asarray(data) if isinstance(data, np.generic) else backend.to_host(data)
        if array.dtype.kind == "O":
            raise TypeError(f"save: cannot store an array of Python objects (dtype object) at {where}")
        name = str(len(arrays))
        arrays[name] = array
        kind = "tensor" if isinstance(obj, Tensor) else "scalar" if isinstance(obj, np.generic) else "array"
        return {kind: name}
    if callable(getattr(obj, "state_dict", None)):  # a Module, an optimizer, a scheduler
        raise TypeError(f"save: cannot store a whole {type(obj).__name__} object (at {where}): save its "
                        f"state_dict() instead, as in minigen.save(model.state_dict(), path), and load it with "
                        f"model.load_state_dict(minigen.load(path)) into one built by the same code")
    raise TypeError(f"save: cannot store object of type {type(obj).__name__} at {where}")


def _encode_container(obj, where, arrays, parents):
    if id(obj) in parents:
        raise ValueError(f"save: {where} is {parents[id(obj)]} itself: a structure that contains itself "
                         "cannot be saved")
    if len(parents) == MAX_DEPTH:
        raise ValueError(f"save: obj is nested more than {MAX_DEPTH} levels deep (at {where[:200]}...)")
    parents = {**parents, id(obj): where}
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__} key {key!r} at {where}")
        return {"dict": [[key, _encode(value, f"{where}[{key!r}]", arrays, parents)] for key, value in obj.items()]}
    kind = "list" if isinstance(obj, list) else "tuple"
    return {kind: [_encode(item, f"{where}[{i}]", arrays, parents) for i, item in enumerate(obj)]}


def _write_npz(file, arrays):
    """Write the entries into an open binary file (the one place that writes bytes)."""
    np.savez(file, **arrays)


def _write_atomically(path, arrays):
    temporary = tempfiles.temporary_path(path, ".tmp")  # same folder: same file system
    try:
        tempfiles.remove_stale(path, ".tmp")
        _write_then_rename(temporary, path, arrays)
    except OSError as error:  # the caller knows path, not the temporary file beside it
        raise _naming(error, path) from error


def _write_then_rename(temporary, path, arrays):
    file = open(temporary, "xb")
    try:
        with file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        _copy_mode(path, temporary)
        os.replace(temporary, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        os.unlink(temporary)
        raise


def _copy_mode(path, temporary):
    """Give the temporary file the permission bits of the file at ``path`` that it replaces, if any."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    os.chmod(temporary, stat.S_IMODE(mode))


def _naming(error, path):
    """``error`` told about ``path``; the same errno makes OSError pick the same subclass."""
    if error.errno is None:
        return OSError(f"save: cannot write {path!r}: {error}")
    return OSError(error.errno, f"save: cannot write: {error.strerror}", path)


# ------------------------------------------------------------------ load
class CheckpointError(ValueError):
    """A file that ``load`` cannot read: truncated, corrupt, or not written by ``save``."""


def load(f, map_location=None, pickle_module=None, *, device=None):
    """Read the file at path ``f`` written by ``save``; tensors are put on ``map_location`` (PyTorch's
    name) or ``device`` (pickle_module: NotImplementedError, there is no pickle).

    map_location / device: "cpu" (when neither is given), "cuda" or "cuda:N". A checkpoint
    does not record where its tensors lived, so PyTorch's dict and function forms of
    map_location, which map old devices to new ones, have nothing to map.
    Returns the saved structure (see the module docstring for what comes back as what).
    Raises ValueError when both are given, NotImplementedError for a dict or function
    map_location, RuntimeError for a CUDA device this machine lacks, FileNotFoundError for a
    missing file, and CheckpointError (a ValueError) naming the file when it is
    truncated, corrupt, not an ``.npz`` file, or an ``.npz`` file that ``save`` did not write
    (an entry that declares more bytes than the file holds is refused before any array is made).
    """
    unsupported("load", pickle_module=(pickle_module, None))
    device, path = backend.canonical_device(_device_of(map_location, device)), os.fspath(f)
    with open(path, "rb") as file:
        if file.read(4) != ZIP_SIGNATURE:
            raise CheckpointError(f"load: {path!r} is not an .npz file (it does not start with a zip signature)")
    try:
        _check_sizes(path)
        with np.load(path, allow_pickle=False) as npz:
            return _decode(_read_header(npz, path)["tree"], npz, device)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(f"load: {path!r} is not a readable minigen checkpoint: its structure is nested "
                              f"too deeply (save writes at most {MAX_DEPTH} levels)") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"load: {path!r} is not a readable minigen checkpoint (truncated or corrupt?): "
                              f"{type(error).__name__}: {error}") from error


def _device_of(map_location, device):
    """The one device string that ``map_location`` or ``device`` names."""
    if map_location is not None and device is not None:
        raise ValueError(f"load: give map_location or device, not both (got map_location={map_location!r}, "
                         f"device={device!r})")
    if isinstance(map_location, dict) or callable(map_location):
        kind = "a dict" if isinstance(map_location, dict) else "a function"
        raise NotImplementedError(f"load: map_location as {kind} is not supported: a minigen checkpoint does not "
                                  "record the devices its tensors were saved from; pass the device to load onto, "
                                  "map_location='cpu' or 'cuda:N'")
    return device if map_location is None else map_location


NPY_HEADER = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _check_sizes(path):
    """Refuse an entry whose .npy header declares more bytes than the file holds for it, or
    that is compressed, before NumPy allocates the array it declares (``save`` writes every
    entry uncompressed: an .npy header, then the data)."""
    file_size = os.path.getsize(path)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            stored = info.compress_type == zipfile.ZIP_STORED
            with archive.open(info) as entry:
                version = np.lib.format.read_magic(entry)
                if version not in NPY_HEADER:
                    raise ValueError(f"entry {info.filename!r} is .npy format version {version}, not 1.0 or 2.0")
                shape, _, dtype = NPY_HEADER[version](entry)
                declared = math.prod(shape) * dtype.itemsize
                held = min(info.compress_size, file_size) - (entry.tell() if stored else 0)
            if declared > held or not stored:
                raise CheckpointError(
                    f"load: {path!r} was not written by save (corrupt or crafted?): entry "
                    f"{info.filename.removesuffix('.npy')!r} declares {declared} bytes ({dtype} of shape {shape}) "
                    f"but holds {held} {'' if stored else 'compressed '}bytes in the file, and save writes "
                    "every entry uncompressed")


def _read_header(npz, path):
    if MARKER not in npz.files:
        raise CheckpointError(f"load: {path!r} is an .npz file but not a minigen checkpoint (no {MARKER!r} "
                              "entry); read it with numpy.load instead")
    header = json.loads(npz[MARKER].tobytes().decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != FORMAT or not isinstance(header.get("version"), int):
        raise CheckpointError(f"load: {path!r} has a {MARKER!r} entry without minigen's format marker")
    if header["version"] > VERSION:
        raise CheckpointError(f"load: {path!r} was written by a newer minigen (format version "
                              f"{header['version']}; this one reads up to {VERSION}): upgrade minigen")
    return header


def _decode(node, npz, device):
    if not isinstance(node, dict):
        return node  # None, bool, int, float, str
    (kind, value), = node.items()  # one tag (ValueError otherwise)
    if kind == "dict" and isinstance(value, list):
        return dict(_decode_item(pair, npz, device) for pair in value)
    if kind in ("list", "tuple") and isinstance(value, list):
        items = [_decode(item, npz, device) for item in value]
        return items if kind == "list" else tuple(items)
    if kind in ("tensor", "array", "scalar") and isinstance(value, str):
        array = npz[value]
        if kind == "tensor":
            return Tensor(backend.to_device(array, device))
        return array if kind == "array" else array[()]
    raise ValueError(f"malformed node {json.dumps(node)[:100]}")


def _decode_item(pair, npz, device):
    """One [key, node] pair of a saved dict."""
    key, node = pair
    if not isinstance(key, (str, int)) or isinstance(key, bool):
        raise ValueError(f"malformed dict key {json.dumps(key)[:100]}: keys are str or int")
    return key, _decode(node, npz, device)
