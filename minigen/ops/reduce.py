"""Reductions (sum, mean, var, std, norm, max, min, prod, logsumexp, all, any), argmax/argmin,
cumsum, softmax, log_softmax.

Every reduction takes ``dim`` (PyTorch) or ``axis`` (NumPy): an int, a tuple, or None
for all dims, and ``keepdim``/``keepdims``. Its backward broadcasts the gradient back
over the reduced dims (``broadcast_back``) and multiplies by the local derivative.
"""
import collections
import math

import numpy as np

from minigen import backend
from minigen.autograd import Function, Tensor
from minigen.ops.elementwise import Cast, abs, exp, where
from minigen.ops.shape import BroadcastTo, Reshape, flip, normalize_dim, pad, permute, reshape, unsqueeze

MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


def _axes(x, dim, axis, op):
    """Sorted, non-negative reduction axes from ``dim`` or its alias ``axis``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: give dim or axis, not both")
        dim = axis
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:  # None, and as in PyTorch an empty tuple too: every dim
        return tuple(range(x.ndim))
    axes = tuple(sorted({normalize_dim(d, x.ndim, op) for d in dims}))
    if len(axes) != len(dims):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return axes if x.ndim else ()


def _keep(keepdim, keepdims):
    return bool(keepdim if keepdims is None else keepdims)


class Reduction(Function):
    """A Function that reduces ``axes`` of its input; knows how to broadcast back."""

    def reduce_setup(self, x, axes, keepdims):
        self.in_shape, self.axes, self.keepdims = x.shape, axes, keepdims
        self.kept_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        self.n = math.prod(x.shape[a] for a in axes)

    def broadcast_back(self, t):
        """A tensor of the reduced shape, repeated over the reduced dims to the input's shape."""
        if not self.keepdims and t.ndim:  # a 0-d t broadcasts as it is
            t = Reshape.apply(t, shape=self.kept_shape)
        return t if t.shape == self.in_shape else BroadcastTo.apply(t, shape=self.in_shape)  # shapes known to fit


# ------------------------------------------------------------------ sums and moments
class Sum(Reduction):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, axes, keepdims):
        self.reduce_setup(x, axes, keepdims)
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        return self.broadcast_back(gy)  # d(sum x)/dx_i = 1


class Mean(Reduction):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, axes, keepdims):
        self.reduce_setup(x, axes, keepdims)
        return x.mean(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        return self.broadcast_back(gy) / self.n  # d(mean x)/dx_i = 1/n


class Var(Reduction):
    def forward(self, x, axes, keepdims, correction):
        self.reduce_setup(x, axes, keepdims)
        self.correction = correction
        return x.var(axis=axes, ddof=correction, keepdims=keepdims)

    def backward(self, gy):
        x, = self.inputs
        centered = x - mean(x, self.axes, keepdim=True)
        scale = 2 / (self.n - self.correction) if self.n > self.correction else float("nan")  # as the forward's 0/0
        return self.broadcast_back(gy) * centered * scale  # d var/dx_i = 2(x_i - mean)/(n - c)


def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return Sum.apply(x, axes=_axes(x, dim, axis, "sum"), keepdims=_keep(keepdim, keepdims))


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return Mean.apply(x, axes=_axes(x, dim, axis, "mean"), keepdims=_keep(keepdim, keepdims))


def var(x, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """Variance, sum (x - mean)^2 / (n - correction). PyTorch's two ways to say the correction:
    ``unbiased`` (True: Bessel's 1, the default; False: 0, NumPy's) or ``correction``, which wins."""
    correction = int(unbiased) if correction is None else correction
    return Var.apply(x, axes=_axes(x, dim, axis, "var"), keepdims=_keep(keepdim, keepdims), correction=correction)


class Std(Var):
    def forward(self, x, axes, keepdims, correction):
        return backend.array_module(x).sqrt(super().forward(x, axes, keepdims, correction))

    def backward(self, gy):
        x, = self.inputs
        std = self.output()
        zero = Tensor(std.data == 0)
        centered = x - mean(x, self.axes, keepdim=True)
        scale = where(zero, 0.0, gy / where(zero, 1.0, std)) / (self.n - self.correction)
        return self.broadcast_back(scale) * centered  # d std/dx_i = (x_i - mean)/((n - c) std), 0 where std = 0


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """Standard deviation, PyTorch's signature: ``std(dim, unbiased, keepdim)`` or ``correction=``
    (default 1, Bessel's; ``unbiased=False`` is correction 0); ``std(True)`` means unbiased=True.
    The gradient where the deviation is 0 is 0 (PyTorch's choice, not nan)."""
    if isinstance(dim, bool):  # PyTorch's overload std(unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError("std: give unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None else int(bool(unbiased))
    return Std.apply(x, axes=_axes(x, dim, axis, "std"), keepdims=_keep(keepdim, keepdims), correction=correction)


# ------------------------------------------------------------------ norms
class Norm(Reduction):
    def forward(self, x, axes, keepdims, p):
        self.reduce_setup(x, axes, keepdims)
        self.p = p
        xp = backend.array_module(x)
        magnitude = xp.abs(x)
        if p == float("inf") or p == -float("inf"):
            return (magnitude.max if p > 0 else magnitude.min)(axis=axes, keepdims=keepdims)
        if p == 0:
            return (x != 0).sum(axis=axes, keepdims=keepdims).astype(x.dtype)
        if p == 1:
            return magnitude.sum(axis=axes, keepdims=keepdims)
        if p == 2:
            return xp.sqrt((x * x).sum(axis=axes, keepdims=keepdims))
        return (magnitude ** p).sum(axis=axes, keepdims=keepdims) ** (1 / p)

    def backward(self, gy):
        x, = self.inputs
        norm = self.broadcast_back(self.output())
        direction = Tensor(backend.array_module(x.data).sign(x.data))
        if self.p == 0:
            return self.broadcast_back(gy) * 0  # a count of nonzeros is flat
        if self.p in (float("inf"), -float("inf")):
            winners = abs(x).data == norm.data
            share = winners / winners.sum(axis=self.axes, keepdims=True)  # ties split the gradient evenly
            return self.broadcast_back(gy) * direction * Tensor(share.astype(gy.dtype))
        zero = Tensor((x.data == 0) | (norm.data == 0))
        ratio = where(zero, 1.0, abs(x)) / where(zero, 1.0, norm)  # |x_i| / ||x||, finite at zeros
        slope = where(zero, 0.0, direction * ratio ** (self.p - 1))  # d||x||_p/dx_i = sign(x_i) (|x_i|/||x||)^(p-1)
        return self.broadcast_back(gy) * slope


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm (sum |x_i|^p)^(1/p) over ``dim`` (all dims by default), PyTorch's
    ``torch.norm``: p a number (inf and -inf are max and min |x_i|, 0 counts nonzeros) or
    'fro' (= 2). The gradient where the norm or x_i is 0 is 0 (PyTorch's subgradient).
    Raises NotImplementedError for 'nuc' (a matrix norm)."""
    if p == "fro":
        p = 2
    elif isinstance(p, str) or isinstance(p, bool) or not isinstance(p, (int, float)):
        if p == "nuc":
            raise NotImplementedError("norm: the nuclear norm p='nuc' is not implemented")
        raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating point tensor, got dtype {x.dtype}")
    return Norm.apply(x, axes=_axes(x, dim, None, "norm"), keepdims=bool(keepdim), p=float(p))


# ------------------------------------------------------------------ extremes
class Amax(Reduction):
    reads_output = True

    pick = "max"

    def forward(self, x, axes, keepdims):
        self.reduce_setup(x, axes, keepdims)
        return getattr(x, self.pick)(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        x, = self.inputs
        winners = x.data == self.output().data.reshape(self.kept_shape)
        share = winners / winners.sum(axis=self.axes, keepdims=True)  # ties split the gradient evenly
        return self.broadcast_back(gy) * Tensor(share.astype(gy.dtype))


class Amin(Amax):
    pick = "min"


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Largest values over ``dim``; at ties the gradient is split evenly among the maxima."""
    return Amax.apply(x, axes=_axes(x, dim, axis, "amax"), keepdims=_keep(keepdim, keepdims))


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Smallest values over ``dim``; at ties the gradient is split evenly among the minima."""
    return Amin.apply(x, axes=_axes(x, dim, axis, "amin"), keepdims=_keep(keepdim, keepdims))


def max(x, dim=None, keepdim=False):
    """PyTorch's max: the largest value, or with ``dim`` the pair (values, indices).

    The gradient at ties is split evenly among the maxima (PyTorch's ``max(dim)``
    sends it all to the returned index instead).
    """
    if dim is None:
        return amax(x)
    return MaxMin(amax(x, dim, keepdim), argmax(x, dim, keepdim))


def min(x, dim=None, keepdim=False):
    """PyTorch's min: the smallest value, or with ``dim`` the pair (values, indices)."""
    if dim is None:
        return amin(x)
    return MaxMin(amin(x, dim, keepdim), argmin(x, dim, keepdim))


def argmax(x, dim=None, keepdim=False):
    """Index of the largest value (over the flattened tensor when dim is None); no gradient."""
    return _arg(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    """Index of the smallest value (over the flattened tensor when dim is None); no gradient."""
    return _arg(x, dim, keepdim, "argmin")


@backend.on_data_device
def _arg(x, dim, keepdim, op):
    """x.data.argmax/argmin; with keepdim and no dim, shaped (1,) * ndim as PyTorch's flat index."""
    if dim is None:
        index = getattr(x.data, op)()
        return Tensor(index.reshape((1,) * x.ndim) if keepdim else index)
    return Tensor(getattr(x.data, op)(axis=normalize_dim(dim, x.ndim, op), keepdims=keepdim))


@backend.on_data_device
def all(x, dim=None, keepdim=False):
    """True where every element over ``dim`` (an int, a tuple, or None for all) is nonzero; no gradient."""
    return Tensor(x.data.all(axis=_axes(x, dim, None, "all"), keepdims=bool(keepdim)))


@backend.on_data_device
def any(x, dim=None, keepdim=False):
    """True where some element over ``dim`` (an int, a tuple, or None for all) is nonzero; no gradient."""
    return Tensor(x.data.any(axis=_axes(x, dim, None, "any"), keepdims=bool(keepdim)))


# ------------------------------------------------------------------ products
class Prod(Reduction):
    def forward(self, x, axes, keepdims):
        self.reduce_setup(x, axes, keepdims)
        return x.prod(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        x, = self.inputs
        return self.broadcast_back(gy) * _product_of_others(x, self.axes)  # d(prod x)/dx_i = prod_{j!=i} x_j


def _product_of_others(x, axes):
    """For each x_i, the product of the other elements of its reduction group.

    Not prod / x_i: that divides by zero at zeros and loses all precision near them.
    The group is moved to the last dim, where ``_others_in_last_dim`` multiplies only.
    """
    keep = [i for i in range(x.ndim) if i not in axes]
    moved = permute(x, keep + list(axes))
    n = math.prod(x.shape[a] for a in axes)
    others = _others_in_last_dim(reshape(moved, moved.shape[:len(keep)] + (n,)))
    inverse = [0] * x.ndim
    for position, d in enumerate(keep + list(axes)):
        inverse[d] = position
    return permute(reshape(others, moved.shape), inverse)


def _others_in_last_dim(g):
    """others[..., i] = prod_{j != i} g[..., j], by a tree of pairwise products: O(n) memory, no division.

    Neighbours are paired (a 1 pads an odd length); in a pair (a, b), the others of a are b times
    the product of the other pairs, which is the same problem at half the length.
    """
    n = g.shape[-1]
    if n <= 1:
        return Tensor(backend.array_module(g.data).ones_like(g.data))  # the empty product
    if n % 2:
        g = pad(g, (0, 1), value=1.0)
    pairs = reshape(g, g.shape[:-1] + (g.shape[-1] // 2, 2))
    of_other_pairs = _others_in_last_dim(pairs[..., 0] * pairs[..., 1])
    others = unsqueeze(of_other_pairs, -1) * flip(pairs, -1)  # (a, b) -> (b, a) times the other pairs
    return reshape(others, g.shape)[..., :n]


def prod(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Product over ``dim``; its gradient is exact also at and near zeros."""
    return Prod.apply(x, axes=_axes(x, dim, axis, "prod"), keepdims=_keep(keepdim, keepdims))


# ------------------------------------------------------------------ running sums
class Cumsum(Function):
    def forward(self, x, dim):
        self.dim = dim
        return x.cumsum(axis=dim) if x.ndim else x.copy()

    def backward(self, gy):
        return flip(cumsum(flip(gy, self.dim), self.dim), self.dim)  # d(sum_{j<=i} x_j)/dx_j = 1 for i >= j


def cumsum(x, dim, *, dtype=None):
    """Running sums along ``dim``: out_i = x_0 + ... + x_i. Integer and boolean inputs give int64
    (as PyTorch); ``dtype`` casts first."""
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.to("int64")
    return Cumsum.apply(x, dim=normalize_dim(dim, x.ndim, "cumsum"))


# ------------------------------------------------------------------ log-sum-exp and softmax
class LogSumExp(Reduction):
    reads_output = True

    def forward(self, x, axes, keepdims):
        self.reduce_setup(x, axes, keepdims)
        xp = backend.array_module(x)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # shift by the max so exp cannot overflow
        out = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        return out if keepdims else out.squeeze(axis=axes)

    def backward(self, gy):
        x, = self.inputs
        return self.broadcast_back(gy) * exp(x - self.broadcast_back(self.output()))  # softmax(x)


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """ln sum exp(x) over ``dim``, without overflow."""
    return LogSumExp.apply(x, axes=_axes(x, dim, axis, "logsumexp"), keepdims=_keep(keepdim, keepdims))


class Softmax(Function):
    reads_inputs, reads_output = False, True  # backward reads its output, not its input

    def forward(self, x, dim):
        self.dim = dim
        e = backend.array_module(x).exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    def backward(self, gy):
        y = self.output()
        return y * (gy - sum(gy * y, self.dim, keepdim=True))  # dy_i/dx_j = y_i (delta_ij - y_j)


class LogSoftmax(Function):
    reads_inputs, reads_output = False, True  # backward reads its output, not its input

    def forward(self, x, dim):
        self.dim = dim
        xp = backend.array_module(x)
        z = x - x.max(axis=dim, keepdims=True)
        return z - xp.log(xp.exp(z).sum(axis=dim, keepdims=True))

    def backward(self, gy):
        return gy - exp(self.output()) * sum(gy, self.dim, keepdim=True)  # d/dx_j = delta_ij - softmax_j


def softmax(x, dim=-1, dtype=None):
    """exp(x) / sum exp(x) along ``dim``, stable (the max is subtracted first); x cast to
    ``dtype`` first when given."""
    return Softmax.apply(_cast(x, dtype), dim=normalize_dim(dim, x.ndim, "softmax"))


def log_softmax(x, dim=-1, dtype=None):
    """x - logsumexp(x) along ``dim``, stable; x cast to ``dtype`` first when given."""
    return LogSoftmax.apply(_cast(x, dtype), dim=normalize_dim(dim, x.ndim, "log_softmax"))


def _cast(x, dtype):
    return x if dtype is None or np.dtype(dtype) == x.dtype else Cast.apply(x, dtype=np.dtype(dtype))
