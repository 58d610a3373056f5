"""Elementwise ops: arithmetic, powers, exp/log, trigonometry, selection, casts, comparisons
(the activations are in activation.py).

Binary ops broadcast like NumPy; their backward sums each gradient back to its
operand's shape with ``sum_to`` (the adjoint of broadcasting).
"""
import math

from minigen import backend, dtypes
from minigen.autograd import Function, Tensor, as_tensor_like
from minigen.ops.shape import sum_to


def as_operands(x, y):
    """Both operands as Tensors of one dtype (PyTorch's promotion, minigen.dtypes) on one device
    (a number or array takes the other's device)."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        raise TypeError(f"expected at least one Tensor, got {type(x).__name__} and {type(y).__name__}")
    if type(x) is type(y) and x.dtype == y.dtype:
        return x, y
    if type(y) in (int, float) and x.dtype.kind == "f":  # the common case: a float tensor and a number
        return x, as_tensor_like(y, x, x.dtype)
    like = x if isinstance(x, Tensor) else y
    x, y = (v if isinstance(v, (Tensor, bool, int, float)) else as_tensor_like(v, like) for v in (x, y))
    dtype = dtypes.result_type(x, y)
    return as_tensor_like(x, like, dtype), as_tensor_like(y, like, dtype)


def as_floating(x):
    """x, cast to the default dtype when it holds integers or booleans (exp, /, sqrt of an int)."""
    return x if x.dtype.kind in "fc" else x.to(dtypes.get_default_dtype())


def constant(array):
    """A Tensor of raw data that takes no part in differentiation (masks, signs)."""
    return Tensor(array)


# ------------------------------------------------------------------ arithmetic
class Add(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, y):
        return x + y

    def backward(self, gy):
        x, y = self.inputs
        return sum_to(gy, x.shape), sum_to(gy, y.shape)  # d(x+y)/dx = d(x+y)/dy = 1


class Sub(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, y):
        return x - y

    def backward(self, gy):
        x, y = self.inputs
        return sum_to(gy, x.shape), sum_to(-gy, y.shape)  # d(x-y)/dy = -1


class Mul(Function):
    def forward(self, x, y):
        return x * y

    def backward(self, gy):
        x, y = self.inputs
        return sum_to(gy * y, x.shape), sum_to(gy * x, y.shape)  # d(xy)/dx = y, d(xy)/dy = x


class Div(Function):
    def forward(self, x, y):
        return x / y

    def backward(self, gy):
        x, y = self.inputs
        gx = gy / y  # d(x/y)/dx = 1/y
        return sum_to(gx, x.shape), sum_to(-gx * x / y, y.shape)  # d(x/y)/dy = -x/y^2


class Neg(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def add(input, other):
    return Add.apply(*as_operands(input, other))


def sub(input, other):
    return Sub.apply(*as_operands(input, other))


def mul(input, other):
    return Mul.apply(*as_operands(input, other))


def div(input, other):
    """input / other, true division: integers divide into the default dtype, as in PyTorch."""
    x, y = as_operands(input, other)
    return Div.apply(as_floating(x), as_floating(y))


def neg(x):
    return Neg.apply(x)


# ------------------------------------------------------------------ powers, exp and log
class PowScalar(Function):
    def forward(self, x, exponent):
        self.exponent = exponent
        return x ** exponent

    def backward(self, gy):
        x, = self.inputs
        c = self.exponent
        if c == 0:
            return gy * 0  # x^0 = 1 is flat (and 0 * x^-1 would be nan at 0)
        return gy * c * x ** (c - 1)  # d(x^c)/dx = c x^(c-1)


class Pow(Function):
    reads_output = True

    def forward(self, x, y):
        return x ** y

    def backward(self, gy):
        x, y = self.inputs
        gx = sum_to(_pow_grad_x(gy, x, y), x.shape) if self.needs_input_grad[0] else None
        gy_ = None
        if self.needs_input_grad[1]:
            base_zero = constant((x.data == 0) & (y.data >= 0))  # 0^y is flat in y there (PyTorch's choice)
            safe_log = log(where(base_zero, 1.0, x))  # finite in both branches, so no nan in higher orders
            gy_ = sum_to(where(base_zero, 0.0, gy * self.output() * safe_log), y.shape)  # d(x^y)/dy = x^y ln x
        return gx, gy_


def _pow_grad_x(gy, x, y):
    """gy y x^(y-1) = d(x^y)/dx, which is 0 at x = y = 0 (x^0 = 1 is flat, as PyTorch), not 0 * 0^-1 = nan."""
    both_zero = constant((x.data == 0) & (y.data == 0))
    return gy * y * x ** (where(both_zero, 1.0, y) - 1)  # 0^(1-1) = 1 there: finite at every order


def pow(x, exponent):
    """x ** exponent; a Python number as exponent is a constant (PowScalar)."""
    if isinstance(exponent, (int, float)) and isinstance(x, Tensor):
        return PowScalar.apply(as_floating(x) if isinstance(exponent, float) else x, exponent=exponent)
    return Pow.apply(*as_operands(x, exponent))


class Exp(Function):
    reads_inputs, reads_output = False, True  # backward reads its output, not its input

    def forward(self, x):
        return backend.array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output()  # d(e^x)/dx = e^x


class Log(Function):
    def forward(self, x):
        return backend.array_module(x).log(x)

    def backward(self, gy):
        x, = self.inputs
        return gy / x  # d(ln x)/dx = 1/x


class Log1p(Function):
    def forward(self, x):
        return backend.array_module(x).log1p(x)

    def backward(self, gy):
        x, = self.inputs
        return gy / (1 + x)  # d ln(1+x)/dx = 1/(1+x)


class LogBase(Function):
    def forward(self, x, base):
        self.base = base
        return getattr(backend.array_module(x), f"log{base}")(x)

    def backward(self, gy):
        x, = self.inputs
        return gy / (x * math.log(self.base))  # d log_b(x)/dx = 1/(x ln b)


class Expm1(Function):
    def forward(self, x):
        return backend.array_module(x).expm1(x)

    def backward(self, gy):
        return gy * (self.output() + 1)  # d(e^x - 1)/dx = e^x


class Sqrt(Function):
    reads_inputs, reads_output = False, True  # backward reads its output, not its input

    def forward(self, x):
        return backend.array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.output())  # d(sqrt x)/dx = 1/(2 sqrt x)


class Abs(Function):
    def forward(self, x):
        return backend.array_module(x).abs(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * constant(backend.array_module(x.data).sign(x.data))  # d|x|/dx = sign(x), 0 at 0


def exp(x):
    return Exp.apply(as_floating(x))


def log(x):
    return Log.apply(as_floating(x))


def log1p(x):
    return Log1p.apply(as_floating(x))


def log2(x):
    return LogBase.apply(x, base=2)


def log10(x):
    return LogBase.apply(x, base=10)


def expm1(x):
    """e^x - 1, exact also for tiny x (where exp(x) - 1 loses every digit)."""
    return Expm1.apply(x)


def sqrt(x):
    return Sqrt.apply(as_floating(x))


def square(x):
    return pow(x, 2)


def rsqrt(x):
    """1 / sqrt(x)."""
    return pow(x, -0.5)


def reciprocal(x):
    """1 / x (a float tensor for an integer x, as PyTorch)."""
    return div(1.0, x)


def abs(x):
    return Abs.apply(x)


# ------------------------------------------------------------------ trigonometry
class Sin(Function):
    def forward(self, x):
        return backend.array_module(x).sin(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * cos(x)  # d sin/dx = cos


class Cos(Function):
    def forward(self, x):
        return backend.array_module(x).cos(x)

    def backward(self, gy):
        x, = self.inputs
        return -gy * sin(x)  # d cos/dx = -sin


class Tanh(Function):
    reads_inputs, reads_output = False, True  # backward reads its output, not its input

    def forward(self, x):
        return backend.array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output()
        return gy * (1 - y * y)  # d tanh/dx = 1 - tanh^2


def sin(x):
    return Sin.apply(as_floating(x))


def cos(x):
    return Cos.apply(as_floating(x))


def tanh(x):
    return Tanh.apply(as_floating(x))


# ------------------------------------------------------------------ selection
class Clamp(Function):
    def forward(self, x, min, max):
        self.min, self.max = min, max
        return backend.array_module(x).clip(x, min, max)

    def backward(self, gy):
        x, = self.inputs
        inside = backend.array_module(x.data).ones(x.shape, dtype=bool)
        if self.min is not None:
            inside &= x.data >= self.min
        if self.max is not None:
            inside &= x.data <= self.max
        return gy * constant(inside)  # 1 inside [min, max] (bounds included, as PyTorch), else 0


def clamp(x, min=None, max=None):
    """Limit x to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min {min} is larger than max {max}")
    return Clamp.apply(x, min=min, max=max)


class Maximum(Function):
    def forward(self, x, y):
        return backend.array_module(x).maximum(x, y)

    def backward(self, gy):
        return _split_by_winner(self, gy, self.inputs[0].data > self.inputs[1].data)


class Minimum(Function):
    def forward(self, x, y):
        return backend.array_module(x).minimum(x, y)

    def backward(self, gy):
        return _split_by_winner(self, gy, self.inputs[0].data < self.inputs[1].data)


def _split_by_winner(fn, gy, x_wins):
    """The gradient goes to the operand that was picked; at a tie each gets half (as PyTorch)."""
    x, y = fn.inputs
    tie = x.data == y.data
    share_x = (x_wins + 0.5 * tie).astype(gy.dtype)
    share_y = (~x_wins & ~tie) + 0.5 * tie
    return sum_to(gy * constant(share_x), x.shape), sum_to(gy * constant(share_y.astype(gy.dtype)), y.shape)


class Where(Function):
    def forward(self, condition, x, y):
        return backend.array_module(x).where(condition, x, y)

    def backward(self, gy):
        condition, x, y = self.inputs
        zero = Tensor(backend.array_module(gy.data).zeros((), dtype=gy.dtype))
        return None, sum_to(where(condition, gy, zero), x.shape), sum_to(where(condition, zero, gy), y.shape)


def maximum(input, other):
    return Maximum.apply(*as_operands(input, other))


def minimum(input, other):
    return Minimum.apply(*as_operands(input, other))


def where(condition, input, other):
    """Elements of input where ``condition`` holds, of other elsewhere (broadcasting all three).
    input and other may both be Python numbers: then the result has PyTorch's default dtype for
    them (float32 if either is a float, else int64, or bool for two bools) on condition's device."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor) and isinstance(condition, Tensor):
        input, other = _scalars_like(input, other, condition)
    x, y = as_operands(input, other)
    condition = as_tensor_like(condition, x)
    if condition.dtype != bool:
        raise TypeError(f"where: condition must be a boolean tensor, got dtype {condition.dtype}")
    return Where.apply(condition, x, y)


def _scalars_like(x, y, condition):
    """Two Python numbers as 0-d Tensors of PyTorch's default dtype, on condition's device."""
    numbers = (x, y)
    if not all(isinstance(v, (bool, int, float)) for v in numbers):
        raise TypeError(f"where: x and y must be Tensors or numbers, got {type(x).__name__} and {type(y).__name__}")
    dtype = "float32" if any(isinstance(v, float) for v in numbers) else \
        "bool" if all(isinstance(v, bool) for v in numbers) else "int64"
    xp = backend.array_module(condition.data)
    with backend.device_scope(condition.device):
        return tuple(Tensor(xp.asarray(v, dtype=dtype)) for v in numbers)


# ------------------------------------------------------------------ conversions
class Cast(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, gy):
        return Cast.apply(gy, dtype=self.in_dtype)


class ToDevice(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, device):
        self.in_device = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, gy):
        return ToDevice.apply(gy, device=self.in_device)


# ------------------------------------------------------------------ comparisons (no gradient)
class Compare(Function):
    """x < y and the like: a boolean result, so never recorded (no gradient)."""

    def forward(self, x, y, name):
        return getattr(x, name)(y)


def _compare(name):
    def compare(input, other):
        x, y = as_operands(input, other)
        try:
            return Compare.apply(x, y, name=name)
        except ValueError:
            raise ValueError(f"{compare.__name__}: shapes {x.shape} and {y.shape} do not broadcast") from None

    compare.__name__ = name.strip("_")
    compare.__doc__ = f"Elementwise x {name.strip('_')} y as a boolean tensor (not differentiable)."
    return compare


eq, ne, lt, le, gt, ge = (_compare(f"__{op}__") for op in ("eq", "ne", "lt", "le", "gt", "ge"))
