"""The NumPy/CuPy swap: which array module serves a device, transfers, one seeded RNG.

This is the only module of minigen that imports CuPy. Everything above asks it:

    xp = array_module(x)        # numpy or cupy, from an array or a device string
    y = to_device(x, "cuda")    # host <-> device transfers

Devices are strings: ``"cpu"``, ``"cuda"`` (the same as ``"cuda:0"``), ``"cuda:1"``.
"""
import contextlib
import ctypes
import functools
import inspect
import itertools
import os
import re
import sys

import numpy as np

from minigen.checks import check_int

try:  # CuPy is optional: the extras cuda12 / cuda13 install it.
    import cupy as _cupy
except ImportError:  # pragma: no cover - depends on the machine
    _cupy = None

def keep_freed_host_memory():
    """Ask glibc's malloc to keep freed memory for reuse rather than return it to the OS.

    A training step allocates the same large temporaries (im2col columns, activations) over
    and over. By default glibc hands freed blocks back to the OS and then faults every 4 KiB
    page in again on the next step: a 64-channel conv step spent half its time so
    (docs/performance.md). PyTorch's CPU allocator keeps such memory too. Skipped off
    Linux/glibc, when the user set MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_
    themselves, or with MINIGEN_KEEP_FREED_MEMORY=0. Returns True when the setting was made.
    """
    if sys.platform != "linux" or os.environ.get("MINIGEN_KEEP_FREED_MEMORY") == "0" or \
            {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} & set(os.environ):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))


keep_freed_host_memory()

_DEVICE_RE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")
_cuda_count = None


def cuda_device_count():
    """Number of CUDA devices CuPy can see (0 without CuPy or without a GPU)."""
    global _cuda_count
    if _cuda_count is None:
        _cuda_count = 0
        if _cupy is not None:
            try:
                _cuda_count = _cupy.cuda.runtime.getDeviceCount()
            except Exception:  # no driver, no device: CuPy raises its own errors
                _cuda_count = 0
    return _cuda_count


def _why_no_cuda():
    if _cupy is None:
        return ('CuPy is not installed: pip install -e ".[cuda12]" (or ".[cuda13]", matching your CUDA driver) '
                "on a machine with a GPU")
    return (f"CuPy {getattr(_cupy, '__version__', '')} is installed, but it finds no usable GPU: "
            "no NVIDIA driver, no device, or CUDA_VISIBLE_DEVICES hides them")


def cuda_is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return cuda_device_count() > 0


def canonical_device(device):
    """``"cpu"``, ``"cuda"``, ``"cuda:1"`` -> ``"cpu"``, ``"cuda:0"``, ``"cuda:1"``.

    Raises ValueError for a malformed string and RuntimeError for a CUDA device
    that this machine does not have.
    """
    if device is None:
        return "cpu"
    match = _DEVICE_RE.match(str(device)) if isinstance(device, str) else None
    if match is None:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    kind, index = match.groups()
    if kind == "cpu":
        if index is not None:
            raise ValueError(f"device 'cpu' takes no index, got {device!r}")
        return "cpu"
    index = int(index or 0)
    if not cuda_is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available ({_why_no_cuda()})")
    if index >= cuda_device_count():
        raise RuntimeError(f"device {device!r} requested but only {cuda_device_count()} CUDA device(s) exist")
    return f"cuda:{index}"


def device_of(array):
    """The canonical device string of a NumPy or CuPy array."""
    if isinstance(array, np.ndarray):
        return "cpu"
    return f"cuda:{array.device.id}"


def is_array(obj):
    """True for a NumPy or CuPy ndarray."""
    return isinstance(obj, np.ndarray) or (_cupy is not None and isinstance(obj, _cupy.ndarray))


def array_module(obj):
    """The array module (``numpy`` or ``cupy``) for an array or a device string."""
    if isinstance(obj, np.ndarray):
        return np
    if _cupy is not None and isinstance(obj, _cupy.ndarray):
        return _cupy
    if isinstance(obj, str) and canonical_device(obj) != "cpu":
        return _cupy
    return np


def device_scope(device):
    """Context that makes ``device`` CuPy's current GPU (nothing to do on the CPU)."""
    if device == "cpu":
        return contextlib.nullcontext()
    return _cupy.cuda.Device(int(device.partition(":")[2] or 0))  # "cuda" is "cuda:0"


def on_data_device(function):
    """``function`` run with CuPy's current device set to where its data lives.

    CuPy allocates every new array, and launches every kernel, on the *current* device, so a
    computation on cuda:1 arrays must make cuda:1 current. The device is that of the first CuPy
    array among the arguments, else the ``device`` of the object whose method this is (a model).
    On the CPU this is a plain call.
    """
    @functools.wraps(function)
    def on_device(*args, **kwargs):
        device = _data_device(args, kwargs)
        if device is None or device == "cpu":
            return function(*args, **kwargs)
        with device_scope(device):
            return function(*args, **kwargs)
    return on_device


def on_data_device_methods(cls):
    """Class decorator: ``__init__`` and every public method of ``cls`` run on their data's device
    (``on_data_device``)."""
    for name, method in list(vars(cls).items()):
        if inspect.isfunction(method) and (name == "__init__" or not name.startswith("_")):
            setattr(cls, name, on_data_device(method))
    return cls


def _data_device(args, kwargs):
    if _cupy is None:
        return None
    for value in itertools.chain(args, kwargs.values()):
        if isinstance(value, _cupy.ndarray):
            return device_of(value)
    device = getattr(args[0], "device", None) if args else None
    return device if isinstance(device, str) else None


def to_device(array, device):
    """Copy an array to ``device`` ("cpu", "cuda", "cuda:N"); no copy if it is already there."""
    if isinstance(array, np.generic):  # a NumPy scalar, e.g. from a 0-d draw
        array = np.asarray(array)
    if device == "cpu":
        return array if isinstance(array, np.ndarray) else _cupy.asnumpy(array)
    device = canonical_device(device)
    if device_of(array) == device:
        return array
    with device_scope(device):
        return _cupy.asarray(array)


def synchronize(device):
    """Wait until the work queued on ``device`` has finished (nothing to wait for on the CPU)."""
    if canonical_device(device) != "cpu":
        with device_scope(device):
            _cupy.cuda.Device().synchronize()


def device_name(device):
    """A readable name of ``device``: "cpu", or the GPU's name as CUDA reports it."""
    device = canonical_device(device)
    if device == "cpu":
        return "cpu"
    name = _cupy.cuda.runtime.getDeviceProperties(int(device.split(":")[1]))["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def to_host(array):
    """A NumPy array with the values of ``array`` (a copy when it lives on a GPU)."""
    return array if isinstance(array, np.ndarray) else _cupy.asnumpy(array)


def index_add(target, index, values):
    """``target[index] += values`` with repeated indices summed (``add.at`` of NumPy or CuPy >= 13)."""
    array_module(target).add.at(target, index, values)
    return target


# ---------------------------------------------------------------- random numbers
# One stream for every device: numbers are drawn on the host and then moved, so that
# after manual_seed(s) a run on "cuda" sees the very numbers a run on "cpu" sees.
_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed minigen's one random stream (used by randn, rand, dropout, initializers...)."""
    global _rng
    check_int("manual_seed", "seed", seed, lowest=0, expected="a non-negative integer")
    _rng = np.random.default_rng(int(seed))


def host_rng():
    """The numpy Generator behind minigen's random stream (draw on the host with it)."""
    return _rng


def get_rng_state():
    """A dict describing the random stream, for checkpoints (see set_rng_state)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    """Restore a state returned by get_rng_state."""
    _rng.bit_generator.state = state


def random_normal(shape, dtype, device):
    """Standard normal samples of ``shape``, drawn on the host, cast, then moved to ``device``."""
    return to_device(_rng.standard_normal(shape).astype(dtype, copy=False), device)


def random_uniform(shape, dtype, device):
    """Uniform samples on [0, 1) of ``shape``, drawn on the host, cast, then moved to ``device``."""
    return to_device(_rng.random(shape).astype(dtype, copy=False), device)
