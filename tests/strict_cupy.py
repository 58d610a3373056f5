"""A strict stand-in for CuPy, NumPy underneath, to run minigen's "cuda" paths without a GPU.

    standin = strict_cupy.make(n_devices=2)       # a module-like object in place of ``cupy``
    strict_cupy.install(minigen.backend)           # minigen.cuda_is_available() is now True
    strict_cupy.uninstall(minigen.backend)

It proves placement and API use, not GPU numerics. What it enforces, as CuPy 14 does:

- Only the names recorded from the real CuPy in tests/cupy_api.json exist (written by
  tools/record_cupy_api.py); any other raises AttributeError. A recorded name that the
  stand-in does not model raises NotImplementedError: a bug for it to find, or a name to add.
  A keyword that the recorded signature lacks raises TypeError.
- Its ``ndarray`` is not a NumPy array: ``np.asarray(a)`` raises CuPy's "Implicit conversion"
  TypeError; ``a.get()``, ``cupy.asnumpy(a)`` are the ways to the host. NumPy functions called
  on it dispatch to the stand-in (``__array_function__``, ``__array_ufunc__``) as in CuPy.
  Reductions and scalar indexing give 0-d arrays, not NumPy scalars. Views keep ``base``.
- Every array lives on a device; new arrays go on the current device (``cupy.cuda.Device(i)``).
  An operation on an array of another device raises CuPy's ValueError for devices without peer
  access, except where CuPy launches no kernel: views (reshape, transpose, basic indexing...),
  ``get``/``item``/``tolist``/``float()``..., ``copy`` and ``cupy.asarray`` (which copy to the
  current device).
- NumPy arrays are refused by cupy functions and operators (TypeError "Unsupported type");
  ufunc operands must be stand-in arrays or scalars. ``cupy.asarray``/``cupy.array`` upload host
  data; NumPy arrays and lists as indices are uploaded as in CuPy.
- ``cupy.linalg`` never raises LinAlgError: cholesky of a matrix that is not positive definite
  gives NaNs, or with ``set_cholesky_failure("partial")`` a finite partial factor whose failing
  diagonal entry is zero or negative; inv/solve of a singular matrix give NaNs.
- ufunc methods only where CuPy has them: ``at`` for add, subtract, maximum, minimum and the
  bitwise and/or/xor; ``reduce``/``accumulate`` for add and multiply; ``reduceat`` for add.

Known gaps (CuPy behaviour it does not model):
- Numerics, dtypes and type promotion are NumPy's (CuPy differs in corners: float16 math, weak
  scalars in some routines, int overflow, reduction order, results of non-positive-definite
  cholesky beyond the two modes above). A routine CuPy lacks an option of is accepted if the
  recorded signature has the keyword (e.g. ``**kwargs`` of einsum).
- Peer access: real multi-GPU machines with peer access only warn (PerformanceWarning) where
  the stand-in refuses.
- Views: "no kernel" is judged by NumPy (the result shares memory with an input); CuPy's own
  view/copy decisions may differ in corners (e.g. reshape of some non-contiguous arrays).
- Host values: CuPy uploads a NumPy array assigned through an advanced index
  (``a[idx] = np_array``) and NumPy index arrays in ``ufunc.at``; the stand-in refuses both.
  Lists of Python scalars passed to routines other than ufuncs are accepted (CuPy refuses many).
- Names are checked, not types of arguments beyond the above; signatures recorded as null
  (ndarray's Cython operators, a few warning classes) skip the keyword check. A NumPy ufunc
  stands in for a CuPy ufunc of the same name even where CuPy's object is a plain function or
  a gufunc (and the reverse).
- Streams, events, memory pools, kernels (RawKernel, ElementwiseKernel, fuse), cupyx and the
  rest of cupy.cuda are recorded but not modelled (NotImplementedError).
- One stand-in is current at a time: ``make`` resets the current device of the module.
"""
import functools
import json
import pathlib
import types

import numpy as np

_RECORD = json.loads(pathlib.Path(__file__).with_name("cupy_api.json").read_text())
API = _RECORD["namespaces"]
IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. "
                       "Please use `.get()` to construct a NumPy array explicitly.")
_SCALARS = (bool, int, float, complex, np.generic)
# Operations that launch no kernel when NumPy's result shares memory with an input.
_VIEWS = {"__getitem__", "T", "mT", "real", "imag", "reshape", "transpose", "swapaxes", "squeeze", "view",
          "ravel", "diagonal", "astype", "broadcast_to", "expand_dims", "moveaxis", "rollaxis", "atleast_1d",
          "atleast_2d", "atleast_3d", "as_strided", "ascontiguousarray", "asfortranarray"}
# ndarray methods that read the array back to the host (no kernel on the current device); the
# creation functions *_like read only shape and dtype, also without a kernel.
_HOST_READS = {"item", "tolist", "__bool__", "__float__", "__int__", "__complex__", "__len__", "__repr__", "__str__"}
_UFUNC_METHODS = {"at": {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"},
                  "reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"}, "reduceat": {"add"}}
_state = types.SimpleNamespace(n_devices=2, current=0, root=None, cholesky_failure="nan")


class CUDARuntimeError(RuntimeError):
    """What cupy_backends.cuda.api.runtime raises for a device that does not exist."""


# ---------------------------------------------------------------- names and keywords
def _recorded(key, name):
    return name in API[key]["callables"] or name in API[key]["values"]


def _no_attribute(key, name, owner):
    """NotImplementedError for recorded public API the stand-in lacks, AttributeError otherwise."""
    if _recorded(key, name) and not name.startswith("__"):
        return NotImplementedError(f"strict_cupy: {key}.{name} is CuPy API that the stand-in does not model")
    return AttributeError(f"{owner} has no attribute {name!r}")


def _check_keywords(key, name, kwargs):
    """TypeError for a keyword that CuPy's recorded signature of ``key.name`` does not take."""
    params = API[key]["callables"][name]
    if params is None or not kwargs:
        return
    names = params.split(", ")
    if any(p.startswith("**") for p in names):
        return
    allowed = set(names[names.index("/") + 1:] if "/" in names else names) - {"*"}
    for keyword in kwargs:
        if keyword not in allowed:
            raise TypeError(f"{name}() got an unexpected keyword argument {keyword!r}")


# ---------------------------------------------------------------- the generic call
def _leaves(obj):
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _leaves(item)
    elif isinstance(obj, dict):
        yield from _leaves(list(obj.values()))
    else:
        yield obj


def _unwrap(obj):
    if isinstance(obj, ndarray):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(item) for item in obj)
    if isinstance(obj, dict):
        return {key: _unwrap(value) for key, value in obj.items()}
    return obj


def _refuse_host_arrays(obj):
    for leaf in _leaves(obj):
        if isinstance(leaf, np.ndarray):
            raise TypeError(f"Unsupported type {type(leaf)}")


def _check_operands(operands):
    """A ufunc's operands: stand-in arrays or scalars, as CuPy's kernels take."""
    for operand in operands:
        if not isinstance(operand, (ndarray,) + _SCALARS):
            raise TypeError(f"Unsupported type {type(operand)}")


def _check_devices(arrays):
    for array in arrays:
        if array._device_id != _state.current:
            raise ValueError(f"The device where the array resides ({array._device_id}) is different from the "
                             f"current device ({_state.current}). Peer access is unavailable between these devices.")


def _wrap(result, inputs):
    """NumPy results as stand-in arrays: an input itself, a view of an input (on its device,
    with its base), or a new array on the current device; NumPy scalars become 0-d arrays."""
    if isinstance(result, np.generic):
        result = np.asarray(result)
    if isinstance(result, np.ndarray):
        for array in inputs:
            if result is array._data:
                return array
        for array in inputs:
            if np.may_share_memory(result, array._data):
                return ndarray._new(result, array._device_id, array if array._base is None else array._base)
        return ndarray._new(result, _state.current)
    if isinstance(result, tuple) and hasattr(result, "_fields"):  # NumPy's named results (eigh, ...)
        return type(result)(*(_wrap(item, inputs) for item in result))
    if isinstance(result, (list, tuple)):
        return type(result)(_wrap(item, inputs) for item in result)
    return result


def _finish(result, arrays, views):
    """Wrap ``result``; where it is a new array (a kernel ran), the inputs must be on the current device."""
    wrapped = _wrap(result, arrays)
    new = isinstance(wrapped, ndarray) and wrapped._base is None and not any(wrapped is a for a in arrays)
    if views and new:
        _check_devices(arrays)
    return wrapped


def _call(func, args, kwargs, views=False, device_check=True):
    """Call the NumPy ``func`` on the unwrapped arguments: CuPy's checks before, wrapping after."""
    _refuse_host_arrays((args, kwargs))
    arrays = [leaf for leaf in _leaves((args, kwargs)) if isinstance(leaf, ndarray)]
    if device_check and not views:
        _check_devices(arrays)
    result = func(*_unwrap(args), **_unwrap(kwargs))
    return _finish(result, arrays, views) if device_check else _wrap(result, arrays)


def _function(key, name, func):
    """The stand-in of the recorded callable ``key.name``, computed by the NumPy ``func``."""
    def call(*args, **kwargs):
        _check_keywords(key, name, kwargs)
        return _call(func, args, kwargs, views=name in _VIEWS, device_check=not name.endswith("_like"))
    call.__name__ = call.__qualname__ = name
    return call


# ---------------------------------------------------------------- ndarray
class ndarray:
    """CuPy's array: a NumPy array (``_data``) on a device (``_device_id``), with CuPy's ``base``."""
    __slots__ = ("_data", "_device_id", "_base")
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("strict_cupy: ndarray(memptr=, strides=) is not modelled")
        self._data, self._device_id, self._base = np.empty(shape, dtype, order=order), _state.current, None

    @classmethod
    def _new(cls, data, device_id, base=None):
        array = object.__new__(cls)
        array._data, array._device_id, array._base = data, device_id, base
        return array

    def __getattr__(self, name):
        raise _no_attribute("cupy.ndarray", name, "'ndarray' object")

    device = property(lambda self: Device(self._device_id))
    base = property(lambda self: self._base)

    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is None:
            return np.array(self._data, order=order)
        np.copyto(out, self._data)
        return out

    def copy(self, order="C"):
        """A copy on the current device (CuPy copies across devices here)."""
        return ndarray._new(np.array(self._data, order=order), _state.current)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        with Device(self._device_id):
            return self.copy()

    def __reduce__(self):
        return _from_host, (self.get(),)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._data)))

    def __getitem__(self, key):
        arrays = [self] + [leaf for leaf in _leaves(key) if isinstance(leaf, ndarray)]
        key = _unwrap(key)
        result = self._data[key]
        if isinstance(result, np.generic):  # an element: CuPy gives a 0-d view, as a[i, j, ...] does in NumPy
            result = self._data[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        return _finish(result, arrays, views=True)

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray) and value.ndim:
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        _check_operands([value])
        _check_devices([self] + [leaf for leaf in _leaves((key, value)) if isinstance(leaf, ndarray)])
        self._data[_unwrap(key)] = _unwrap(value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy's ufuncs on stand-in arrays run the stand-in's ufunc of the same name, as in CuPy."""
        try:
            func = getattr(_state.root, ufunc.__name__)
        except AttributeError:
            return NotImplemented
        if "out" in kwargs:
            (kwargs["out"],) = kwargs["out"]
        return (func if method == "__call__" else getattr(func, method))(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """NumPy's functions on stand-in arrays run the stand-in's function of the same name, as in CuPy."""
        try:
            module = functools.reduce(getattr, func.__module__.split(".")[1:], _state.root)
            standin = getattr(module, func.__name__)
        except AttributeError:
            return NotImplemented
        return standin(*args, **kwargs)


def _method(name):
    """ndarray.name of CuPy, computed by numpy.ndarray.name."""
    def method(self, *args, **kwargs):
        _check_keywords("cupy.ndarray", name, kwargs)
        if name.startswith("__"):  # an operator: its operands go to a kernel
            _check_operands(args)
        return _call(getattr(np.ndarray, name), (self,) + args, kwargs, views=name in _VIEWS,
                     device_check=name not in _HOST_READS)
    method.__name__ = method.__qualname__ = name
    return method


def _attribute(name):
    """ndarray.name of CuPy, read from (and written to) the NumPy array."""
    return property(lambda self: _finish(getattr(self._data, name), [self], views=True),
                    lambda self, value: setattr(self._data, name, value))


def _add_recorded_members():
    """Give ndarray each recorded member that NumPy's ndarray computes and the class does not define."""
    machinery = {"__class__", "__new__", "__init__", "__getattribute__", "__setattr__", "__delattr__", "__dir__",
                 "__init_subclass__", "__subclasshook__", "__doc__", "__module__", "__slots__", "__sizeof__",
                 "__format__", "__reduce_ex__", "__getstate__", "__hash__", "__array_priority__",
                 "__array_finalize__", "__class_getitem__", "data"}  # data: CuPy's is a device pointer
    for kind, make_member in (("callables", _method), ("values", _attribute)):
        for name in API["cupy.ndarray"][kind]:
            if name not in vars(ndarray) and name not in machinery and hasattr(np.ndarray, name):
                setattr(ndarray, name, make_member(name))


_add_recorded_members()


def _from_host(host):
    return ndarray._new(np.array(host), _state.current)


# ---------------------------------------------------------------- ufuncs
class ufunc:
    """CuPy's ufunc object, computed by the NumPy ufunc of the same name."""

    def __init__(self, name):
        self.__name__, self.name, self._numpy = name, f"cupy_{name}", getattr(np, name)

    def __call__(self, *args, **kwargs):
        _check_keywords("cupy", self.__name__, kwargs)
        out = kwargs.get("out")
        _check_operands(args + (() if out is None else tuple(_leaves(out))))
        return _call(self._numpy, args, kwargs)

    def __getattr__(self, name):
        if not (_recorded("cupy.ufunc", name) and hasattr(self._numpy, name)):
            raise _no_attribute("cupy.ufunc", name, "'ufunc' object")
        if name not in API["cupy.ufunc"]["callables"]:
            return getattr(self._numpy, name)

        def method(*args, **kwargs):
            if self.__name__ not in _UFUNC_METHODS.get(name, {self.__name__}):
                raise NotImplementedError(f"`{self.name}.{name}` is not supported yet")
            _check_keywords("cupy.ufunc", name, kwargs)
            return _call(getattr(self._numpy, name), args, kwargs)
        return method

    def __repr__(self):
        return f"<ufunc '{self.name}'>"


# ---------------------------------------------------------------- devices
class Device:
    """cupy.cuda.Device: ``with Device(i):`` makes GPU i current; ``use()`` makes it current for good."""

    def __init__(self, device=None):
        self.id = _state.current if device is None else int(device)
        self._previous = []

    def __getattr__(self, name):
        raise _no_attribute("cupy.cuda.Device", name, "'Device' object")

    def use(self):
        if not 0 <= self.id < _state.n_devices:
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        _state.current = self.id

    def synchronize(self):
        """Nothing to wait for: NumPy has finished."""

    def __enter__(self):
        self._previous.append(_state.current)
        self.use()
        return self

    def __exit__(self, *exc_info):
        _state.current = self._previous.pop()

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


# ---------------------------------------------------------------- host <-> device
def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """cupy.asarray: host data or an array of another device, copied to the current device."""
    if isinstance(a, ndarray) and a._device_id == _state.current:
        return _wrap(np.asarray(a._data, dtype=dtype, order=order, copy=copy), [a])
    return _upload(a, dtype, order)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """cupy.array: like asarray, a copy unless ``copy`` is False or None."""
    if isinstance(obj, ndarray) and obj._device_id == _state.current:
        return _wrap(np.array(obj._data, dtype=dtype, copy=copy, order=order, ndmin=ndmin), [obj])
    return _upload(obj, dtype, order, ndmin)


def _upload(obj, dtype, order, ndmin=0):
    """A new array on the current device with the values of host data or of stand-in arrays."""
    host = obj._data if isinstance(obj, ndarray) else np.array(_unwrap(obj), dtype=dtype, order=order)
    return ndarray._new(np.array(host, dtype=dtype, order=order or "K", ndmin=ndmin), _state.current)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """cupy.asnumpy: a NumPy array with the values of ``a`` (any device, or host data)."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    return _state.root if any(isinstance(arg, ndarray) for arg in args) else np


# ---------------------------------------------------------------- linalg without LinAlgError
def set_cholesky_failure(mode):
    """What cholesky gives for a matrix that is not positive definite: "nan" (all NaN, the
    default) or "partial" (a finite partial factor whose failing diagonal entry is <= 0)."""
    if mode not in ("nan", "partial"):
        raise ValueError(f"set_cholesky_failure: mode must be 'nan' or 'partial', got {mode!r}")
    _state.cholesky_failure = mode


def _failed_cholesky(m):
    """L of m = L L^T column by column until a pivot d_j = m_jj - sum_k L_jk^2 is not positive."""
    if _state.cholesky_failure == "nan":
        return np.full(m.shape, np.nan)
    L = np.zeros(m.shape)
    for j in range(len(m)):
        pivot = m[j, j] - L[j, :j] @ L[j, :j]
        if not pivot > 0:
            L[j, j] = pivot
            return L
        L[j, j] = np.sqrt(pivot)
        L[j + 1:, j] = (m[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return L


def _each_matrix(numpy_func, fallback):
    """numpy_func on a stack of matrices, ``fallback(m)`` for each matrix where it raises LinAlgError."""
    def one(m):
        try:
            return numpy_func(m)
        except np.linalg.LinAlgError:
            return fallback(m).astype(np.result_type(m.dtype, np.float32))

    def stacked(a):
        try:
            return numpy_func(a)
        except np.linalg.LinAlgError:
            flat = a.reshape((-1,) + a.shape[-2:])
            return np.stack([one(m) for m in flat]).reshape(a.shape)
    return stacked


def _solve(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:  # cuSOLVER's getrs divides by the zero pivot
        return np.linalg.solve(np.broadcast_to(np.eye(a.shape[-1]), a.shape), b) * np.nan


# ---------------------------------------------------------------- namespaces
class _Namespace:
    """A recorded CuPy namespace: ``overrides`` first, then the same name in NumPy's ``numpy_module``."""

    def __init__(self, key, numpy_module=None, **overrides):
        unrecorded = [name for name in overrides if not _recorded(key, name)]
        assert not unrecorded, f"strict_cupy models names CuPy does not have: {key}.{unrecorded}"
        self._key, self._numpy, self._overrides = key, numpy_module, overrides

    def __getattr__(self, name):
        if not _recorded(self._key, name):
            raise AttributeError(f"module {self._key!r} has no attribute {name!r}")
        if name in self._overrides:
            member = self._overrides[name]
        elif not hasattr(self._numpy, name):
            raise _no_attribute(self._key, name, f"module {self._key!r}")
        else:
            member = self._from_numpy(name, getattr(self._numpy, name))
        setattr(self, name, member)
        return member

    def _from_numpy(self, name, member):
        if isinstance(member, np.ufunc):
            return ufunc(name)
        if callable(member) and not isinstance(member, type) and name in API[self._key]["callables"]:
            return _function(self._key, name, member)
        return member  # dtypes (float64, ...), constants (pi, newaxis, ...), NumPy's classes

    def __repr__(self):
        return f"<strict stand-in for module {self._key!r}>"


def make(n_devices=2):
    """A fresh stand-in for the ``cupy`` module with ``n_devices`` GPUs; device 0 is current."""
    _state.n_devices, _state.current = n_devices, 0
    runtime = _Namespace("cupy.cuda.runtime", getDeviceCount=lambda: _state.n_devices,
                         getDevice=lambda: _state.current, setDevice=lambda device: Device(device).use())
    cuda = _Namespace("cupy.cuda", Device=Device, runtime=runtime, get_device_id=lambda: _state.current,
                      is_available=lambda: _state.n_devices > 0)
    linalg = _Namespace("cupy.linalg", np.linalg, cholesky=_function("cupy.linalg", "cholesky", _each_matrix(
        np.linalg.cholesky, _failed_cholesky)), inv=_function("cupy.linalg", "inv", _each_matrix(
            np.linalg.inv, lambda m: np.full(m.shape, np.nan))), solve=_function("cupy.linalg", "solve", _solve))
    lib = _Namespace("cupy.lib", np.lib, stride_tricks=_Namespace("cupy.lib.stride_tricks", np.lib.stride_tricks))
    _state.root = _Namespace(
        "cupy", np, ndarray=ndarray, ufunc=ufunc, cuda=cuda, linalg=linalg, lib=lib,
        random=_Namespace("cupy.random", np.random), fft=_Namespace("cupy.fft", np.fft),
        asarray=_keyword_checked("asarray", asarray), array=_keyword_checked("array", array),
        asnumpy=_keyword_checked("asnumpy", asnumpy), get_array_module=get_array_module)
    return _state.root


def _keyword_checked(name, func):
    """``func`` (a stand-in written here for cupy.name) with cupy.name's keywords checked."""
    @functools.wraps(func)
    def call(*args, **kwargs):
        _check_keywords("cupy", name, kwargs)
        return func(*args, **kwargs)
    return call


# ---------------------------------------------------------------- swapping it into minigen
_saved = {}


def install(backend, n_devices=2):
    """Make ``backend`` (minigen.backend) use a fresh stand-in with ``n_devices`` GPUs."""
    _saved.setdefault(backend.__name__, []).append((backend._cupy, backend._cuda_count))
    backend._cupy, backend._cuda_count = make(n_devices), None
    return backend._cupy


def uninstall(backend):
    """Give ``backend`` back the CuPy (or None) and device count it had before ``install``."""
    backend._cupy, backend._cuda_count = _saved[backend.__name__].pop()

