"""Making tensors: from data (``tensor``, ``from_numpy``), filled (``zeros``, ``full``, ``eye``, ``linspace``...),
random (``randn``, ``randint``, ``randperm``...).

Defaults follow PyTorch: Python floats give the default dtype (float32, see
``minigen.set_default_dtype``), Python ints int64, NumPy arrays keep their dtype; ``device="cpu"`` unless said otherwise.
"""
import math

import numpy as np

from minigen import backend
from minigen.autograd import Tensor
from minigen.dtypes import get_default_dtype
from minigen.ops.shape import _shape_arg
from minigen.checks import check_int, is_int

float16, float32, float64 = np.float16, np.float32, np.float64
uint8, int8, int16, int32, int64, bool_ = np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_


def _dtype(dtype, default):
    if dtype is None:
        return np.dtype(default)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy dtype or a name like 'float32', got {dtype!r}") from None


def _size(size, op):
    size = _shape_arg(size, op)
    if any(n < 0 for n in size):
        raise ValueError(f"{op}: sizes must be non-negative, got {size}")
    return size


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a Tensor).

    device: where it lives (default: the device of ``data`` for arrays and tensors, else "cpu").
    """
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_array(data):
        device = backend.device_of(data) if device is None else device
        array = data
    else:
        array = np.asarray(data)
        if array.dtype == np.float64 and dtype is None and not isinstance(data, np.generic):
            array = array.astype(get_default_dtype())  # Python floats become the default dtype
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} (NumPy sees dtype "
                        f"{array.dtype}); give numbers, nested lists of numbers or an array of them")
    device = backend.canonical_device(device)
    dtype = _dtype(dtype, array.dtype)
    _check_integer_conversion(array, dtype)
    with backend.device_scope(device):
        array = backend.array_module(device).array(backend.to_device(array, device), dtype=dtype, copy=True)
    return Tensor(array, requires_grad=requires_grad)


def _check_integer_conversion(array, dtype):
    """Refuse nan and inf where floats become integers (NumPy would give -2**63 and the like)."""
    if array.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
        bad = int((~backend.array_module(array).isfinite(array)).sum())
        if bad:
            raise ValueError(f"tensor: cannot convert nan or inf to {np.dtype(dtype)}: {bad} of the values "
                             f"{'is' if bad == 1 else 'are'} nan or inf")


def from_numpy(array):
    """A tensor that shares memory with the NumPy ``array`` (writes to one show in the other), as PyTorch."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert an array of dtype {array.dtype}; numbers and booleans only")
    return Tensor(array)


def _filled(fill, size, dtype, device, requires_grad, op):
    """A tensor of ``size`` filled with ``fill`` (None: left as it comes, ``empty``)."""
    device = backend.canonical_device(device)
    xp, size, dtype = backend.array_module(device), _size(size, op), _dtype(dtype, get_default_dtype())
    with backend.device_scope(device):
        array = xp.empty(size, dtype=dtype) if fill is None else xp.full(size, fill, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad)


def empty(*size, dtype=None, device="cpu", requires_grad=False):
    """A tensor of ``size`` whose values are whatever the memory held (fill it before reading)."""
    return _filled(None, size, dtype, device, requires_grad, "empty")


def zeros(*size, dtype=None, device="cpu", requires_grad=False):
    return _filled(0, size, dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device="cpu", requires_grad=False):
    return _filled(1, size, dtype, device, requires_grad, "ones")


def full(size, fill_value, *, dtype=None, device="cpu", requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype from the value: float32, int64 or bool;
    NumPy scalars count as the Python numbers they hold)."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, (bool, np.bool_)) else \
            np.int64 if isinstance(fill_value, (int, np.integer)) else get_default_dtype()
    return _filled(fill_value, (size,) if isinstance(size, (int, np.integer)) else size, dtype, device,
                   requires_grad, "full")


def arange(start, end=None, step=1, *, dtype=None, device="cpu", requires_grad=False):
    """Values start + k step (start default 0) up to, not including, end."""
    start, end = (0, start) if end is None else (start, end)
    if step == 0:
        raise ValueError("arange: step must not be zero")
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = _dtype(dtype, np.int64 if integral else get_default_dtype())
    if dtype.kind in "iu":
        array = np.arange(start, end, step, dtype=dtype)
    else:  # in float64, then cast: a float32 step drifts (1000 + 0.1 k ends 0.24 low at k = 9999)
        n = max(math.ceil((end - start) / step), 0)
        array = (start + step * np.arange(n, dtype=np.float64)).astype(dtype)
    return tensor(array, device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, dtype=None, device="cpu", requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included (the default dtype unless ``dtype``)."""
    check_int("linspace", "steps", steps, lowest=0, expected="a non-negative int")
    array = np.linspace(start, end, int(steps)).astype(_dtype(dtype, get_default_dtype()))  # in float64, then cast
    return tensor(array, device=device, requires_grad=requires_grad)


def eye(n, m=None, *, dtype=None, device="cpu", requires_grad=False):
    """The n x m (default n x n) identity matrix."""
    device = backend.canonical_device(device)
    with backend.device_scope(device):
        array = backend.array_module(device).eye(n, m, dtype=_dtype(dtype, get_default_dtype()))
    return Tensor(array, requires_grad=requires_grad)


def randn(*size, dtype=None, device="cpu", requires_grad=False):
    """Standard normal samples from minigen's seeded stream (same numbers on every device)."""
    array = backend.random_normal(_size(size, "randn"), _dtype(dtype, get_default_dtype()), backend.canonical_device(device))
    return Tensor(array, requires_grad=requires_grad)


def rand(*size, dtype=None, device="cpu", requires_grad=False):
    """Uniform samples on [0, 1) from minigen's seeded stream (same numbers on every device)."""
    array = backend.random_uniform(_size(size, "rand"), _dtype(dtype, get_default_dtype()), backend.canonical_device(device))
    return Tensor(array, requires_grad=requires_grad)


def randint(*args, size=None, dtype=None, device="cpu", requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (PyTorch's overloads), int64 by default, from minigen's seeded stream."""
    if size is None and args:
        *args, size = args
    if len(args) not in (1, 2) or size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high = (0, *args) if len(args) == 1 else args
    if not (is_int(low) and is_int(high)) or low >= high:
        raise ValueError(f"randint: expected ints with low < high, got low={low!r}, high={high!r}")
    size = _size((size,) if isinstance(size, (int, np.integer)) else size, "randint")
    array = backend.host_rng().integers(low, high, size).astype(_dtype(dtype, np.int64))
    return tensor(array, device=device, requires_grad=requires_grad)


def randperm(n, dtype=None, device="cpu", requires_grad=False):
    """A random permutation of 0 .. n-1 (int64 by default), from minigen's seeded stream."""
    check_int("randperm", "n", n, lowest=0, expected="a non-negative int")
    array = backend.host_rng().permutation(int(n)).astype(_dtype(dtype, np.int64))
    return tensor(array, device=device, requires_grad=requires_grad)


def _like(make):
    def like(input, *, dtype=None, device=None, requires_grad=False):
        return make(*input.shape, dtype=input.dtype if dtype is None else dtype,
                    device=input.device if device is None else device, requires_grad=requires_grad)

    like.__name__ = f"{make.__name__}_like"
    like.__doc__ = f"``{make.__name__}`` with the shape, dtype and device of ``input`` (unless given)."
    return like


zeros_like, ones_like, randn_like, rand_like = (_like(make) for make in (zeros, ones, randn, rand))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=input.dtype if dtype is None else dtype,
                device=input.device if device is None else device, requires_grad=requires_grad)
