"""dtypes: the default float dtype and PyTorch's type promotion.

PyTorch, not NumPy, decides the dtype of ``a + b`` in minigen (docs/autograd.md, "dtype
rules"). Operands come in three ranks: tensors with dimensions, 0-d tensors, and Python
numbers. A lower rank changes the result only when it is of a higher *category*
(bool < integer < floating < complex): ``int64 + float32`` is float32, ``float32 tensor +
float64 0-d tensor`` is float32, ``uint8 tensor / 255`` is the default dtype (float32).
"""
import numpy as np

_default = np.dtype(np.float32)


def get_default_dtype():
    """The dtype of floats made without one: Python floats, randn, zeros... (float32)."""
    return _default


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64; float16 too) the default float dtype."""
    global _default
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {dtype}")
    _default = dtype


def category(dtype):
    """0 bool, 1 integer (signed or not), 2 floating, 3 complex."""
    return "biufc".index(dtype.kind) - (dtype.kind in "uf") - (dtype.kind == "c")


def promote_types(a, b):
    """PyTorch's promote_types: within a category NumPy's rule; across, the higher category's dtype."""
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = category(a), category(b)
    if ca == cb or 3 in (ca, cb):
        return np.promote_types(a, b)
    return a if ca > cb else b


def result_type(*operands):
    """The dtype PyTorch gives an op on ``operands`` (arrays or tensors with ``.ndim``/``.dtype``,
    or Python numbers)."""
    dimensioned = zero_dim = number = None
    for value in operands:
        if isinstance(value, (bool, int, float, complex)):
            number = _promote(number, _number_dtype(value))
        elif value.ndim > 0:
            dimensioned = _promote(dimensioned, value.dtype)
        else:
            zero_dim = _promote(zero_dim, value.dtype)
    return _combine(dimensioned, _combine(zero_dim, number))


def floating(dtype):
    """``dtype`` if it is floating or complex, else the default dtype (int / int, exp of an int)."""
    return dtype if dtype.kind in "fc" else _default


def _number_dtype(value):
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, int):
        return np.dtype(np.int64)
    return _default if isinstance(value, float) else np.result_type(_default, np.complex64)


def _promote(a, b):
    return b if a is None else promote_types(a, b)


def _combine(higher, lower):
    """A higher-ranked dtype wins unless the lower one is of a higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    return higher if category(higher) >= category(lower) else promote_types(higher, lower)
