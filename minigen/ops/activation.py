"""Activations: sigmoid, ReLU, leaky ReLU, softplus and erf, each with its derivative.

The speed tricks of their forwards live in named helpers at the end of the file, each
docstring giving the plain formula it computes.
"""
import math

from minigen import backend
from minigen.autograd import Function
from minigen.ops.elementwise import as_floating, constant, exp
from minigen.ops.options import unsupported


class Sigmoid(Function):
    reads_inputs, reads_output = False, True  # backward reads its output, not its input

    def forward(self, x):
        return _sigmoid(x)  # sigma(x) = 1 / (1 + e^-x), without overflow

    def backward(self, gy):
        y = self.output()
        return gy * y * (1 - y)  # d sigma/dx = sigma (1 - sigma)


class ReLU(Function):
    def forward(self, x):
        return backend.array_module(x).maximum(x, 0)  # not x * (x > 0): that gives -0.0, and nan at -inf

    def backward(self, gy):
        x, = self.inputs
        return gy * constant(x.data > 0)  # 1 for x > 0, else 0 (0 at the kink, as PyTorch)


class LeakyReLU(Function):
    reads_inputs = False  # backward needs only the slopes it saved

    def forward(self, x, negative_slope):
        self.slope = _leaky_slopes(x, negative_slope)  # 1 for x > 0, negative_slope otherwise
        return x * self.slope

    def backward(self, gy):
        return gy * constant(self.slope)  # d/dx = 1 for x > 0, negative_slope otherwise


class Softplus(Function):
    def forward(self, x, beta):
        self.beta = beta
        return _softplus(beta * x) / beta  # ln(1 + e^(beta x)) / beta

    def backward(self, gy):
        x, = self.inputs
        return gy * sigmoid(self.beta * x)  # d softplus/dx = sigma(beta x)


def sigmoid(x):
    return Sigmoid.apply(as_floating(x))


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope x otherwise; x must be a float tensor (TypeError otherwise, as PyTorch)."""
    if x.dtype.kind != "f":
        raise TypeError(f"leaky_relu: expected a floating point tensor, got dtype {x.dtype}")
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def softplus(x, beta=1.0, threshold=20.0):
    """ln(1 + exp(beta x)) / beta, computed without overflow. Exact everywhere: PyTorch's switch
    to x above ``threshold`` is not implemented (NotImplementedError for another threshold)."""
    unsupported("softplus", threshold=(threshold, 20.0))
    return Softplus.apply(x, beta=beta)


class Erf(Function):
    def forward(self, x):
        return _erf(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * (2 / math.sqrt(math.pi)) * exp(-x * x)  # d erf/dx = 2/sqrt(pi) e^(-x^2)


def erf(x):
    """The error function, erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt (GELU's Gaussian CDF is (1 + erf(x/sqrt 2))/2)."""
    return Erf.apply(x)


_ERF_SERIES_TERMS, _ERF_FRACTION_TERMS = 30, 40  # each gives erf to a few ulps on its side of |x| = 2
# erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)): the Taylor coefficients of erf(x) / x in x^2
_ERF_SERIES = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(_ERF_SERIES_TERMS)]


def _erf(x):
    """erf on raw arrays of any device (NumPy has no erf): the Taylor series for |x| < 2, and
    1 - erfc(|x|) beyond, with erfc(x) = e^(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))
    (Laplace's continued fraction), evaluated from its tail."""
    xp = backend.array_module(x)
    small = xp.abs(x) < 2
    out = xp.empty_like(x)
    xs = x[small]
    series = xp.zeros_like(xs)
    for coefficient in reversed(_ERF_SERIES):  # Horner in x^2
        series = series * (xs * xs) + coefficient
    out[small] = xs * series
    xl = xp.abs(x[~small])
    fraction = xl
    for k in range(_ERF_FRACTION_TERMS, 0, -1):
        fraction = xl + (k / 2) / fraction
    out[~small] = xp.sign(x[~small]) * (1 - xp.exp(-xl * xl) / (math.sqrt(math.pi) * fraction))
    return out


# ------------------------------------------------------------------ the activations' speed tricks
# On raw arrays, out of the forwards above: each docstring gives the plain formula it computes,
# docs/performance.md ("Speed tricks in the forwards") the measured ratio.
def _sigmoid(x):
    """sigma(x) = where(x >= 0, 1, e^x) / (1 + e^-|x|): 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x)
    below, so e^-|x| <= 1 never overflows. The where() is written as arithmetic,
    1 + (x < 0) (e^-|x| - 1), which is several times faster (equal to rounding)."""
    xp = backend.array_module(x)
    e = xp.exp(-xp.abs(x))
    return (1 + (x < 0) * (e - 1)) / (1 + e)


def _leaky_slopes(x, negative_slope):
    """where(x > 0, 1, negative_slope) in x's dtype, written as arithmetic,
    (x > 0) (1 - negative_slope) + negative_slope, which is many times faster."""
    one = x.dtype.type(1)
    return (x > 0) * (one - negative_slope) + x.dtype.type(negative_slope)


def _softplus(z):
    """ln(1 + e^z) = logaddexp(z, 0), computed as max(z, 0) + ln(1 + e^-|z|): stable (e^-|z| <= 1),
    and many times faster than logaddexp."""
    xp = backend.array_module(z)
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
