"""Elementwise ops with steps in them: rounding, sign, floor division and remainder, bitwise logic,
and the tests for nan and infinity.

floor, ceil, round and sign are constant between their jumps, so their gradient is 0
(PyTorch's choice, at the jumps too). remainder(x, y) = x - y floor(x/y) has slope 1 in x
and -floor(x/y) in y. The rest have integer or boolean results and no gradient.
"""
from minigen import backend
from minigen.autograd import Function, Tensor
from minigen.ops.elementwise import as_operands, where
from minigen.ops.shape import sum_to


class Step(Function):
    """floor, ceil, round or sign: the array module's function ``name``; flat between the jumps."""
    def forward(self, x, name, **options):
        return getattr(backend.array_module(x), name)(x, **options)

    def backward(self, gy):
        nowhere = Tensor(backend.array_module(gy.data).zeros(gy.shape, dtype=bool))
        return where(nowhere, gy, 0.0)  # d floor(x)/dx = 0 (at the jumps too); still in gy's graph, never nan


class Remainder(Function):
    def forward(self, x, y):
        return backend.array_module(x).remainder(x, y)  # the sign of y, as Python's % and PyTorch

    def backward(self, gy):
        x, y = self.inputs
        quotient = Tensor(backend.array_module(x.data).floor_divide(x.data, y.data))
        return sum_to(gy, x.shape), sum_to(-gy * quotient, y.shape)  # d(x - y floor(x/y))/dy = -floor(x/y)


@backend.on_data_device
def _step(name, x, **options):
    if x.dtype.kind in "biu" and name != "sign":
        return Tensor(x.data.copy())  # an integer is already rounded; its dtype stays (as PyTorch)
    return Step.apply(x, name=name, **options)


def floor(x):
    """The largest integer <= x, elementwise; gradient 0."""
    return _step("floor", x)


def ceil(x):
    """The smallest integer >= x, elementwise; gradient 0."""
    return _step("ceil", x)


def round(x, *, decimals=0):
    """x rounded to ``decimals`` places, halves to even (as PyTorch and NumPy); gradient 0."""
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return _step("round", x, decimals=decimals)


@backend.on_data_device
def sign(x):
    """-1, 0 or 1 by the sign of x; gradient 0."""
    if x.dtype == bool:
        return Tensor(x.data.copy())
    return Step.apply(x, name="sign")


@backend.on_data_device
def floor_divide(x, y):
    """floor(x / y), rounding toward minus infinity (PyTorch's ``//`` since 1.13): -7 // 2 = -4.
    No gradient (PyTorch has none either)."""
    x, y = _integer_divisor_checked(*as_operands(x, y), "floor_divide")
    return Tensor(backend.array_module(x.data).floor_divide(x.data, y.data))


def remainder(x, y):
    """x - y floor(x / y): the result has the sign of y (Python's and PyTorch's ``%``): -7 % 2 = 1."""
    return Remainder.apply(*_integer_divisor_checked(*as_operands(x, y), "remainder"))


@backend.on_data_device
def _integer_divisor_checked(x, y, op):
    """x, y; RuntimeError when y is an integer tensor holding a 0 (NumPy would answer 0, PyTorch refuses)."""
    if y.dtype.kind in "biu" and x.dtype.kind in "biu" and not y.data.all():
        raise RuntimeError(f"{op}: ZeroDivisionError, an integer divisor holds 0")
    return x, y


# ------------------------------------------------------------------ bitwise logic (no gradient)
def _bitwise(name):
    @backend.on_data_device
    def bitwise(x, y):
        x, y = as_operands(x, y)
        for t in (x, y):
            if t.dtype.kind not in "biu":
                raise TypeError(f"{bitwise.__name__}: expected integer or boolean tensors, got dtype {t.dtype}")
        return Tensor(getattr(backend.array_module(x.data), name)(x.data, y.data))

    bitwise.__name__ = bitwise.__qualname__ = name
    bitwise.__doc__ = f"Elementwise {name.split('_')[1]} of the bits of integer or boolean tensors."
    return bitwise


bitwise_and, bitwise_or, bitwise_xor = (_bitwise(f"bitwise_{op}") for op in ("and", "or", "xor"))


@backend.on_data_device
def bitwise_not(x):
    """~x: logical not of a boolean tensor, the bits flipped of an integer one (-x - 1)."""
    if x.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: expected an integer or boolean tensor, got dtype {x.dtype}")
    return Tensor(backend.array_module(x.data).invert(x.data))


# ------------------------------------------------------------------ tests for nan and infinity (no gradient)
@backend.on_data_device
def isnan(x):
    """True where x is nan."""
    return Tensor(backend.array_module(x.data).isnan(x.data))


@backend.on_data_device
def isfinite(x):
    """True where x is neither nan nor infinite."""
    return Tensor(backend.array_module(x.data).isfinite(x.data))
