"""In-place ops: ``x += y``, ``x.add_(y)``, ``x.zero_()``, ``x[index] = value`` ...

Each is the out-of-place op written into x's own storage by ``autograd.write_inplace``,
which bumps the storage's version and, when a gradient is being recorded, makes x the
output of the op's node. PyTorch's rules hold: a leaf that requires grad can be changed
in place only under ``no_grad`` (an optimizer step), and a backward that would read a
value overwritten since it was saved raises instead of returning a wrong gradient.
"""
import numpy as np

from minigen import backend
from minigen.autograd import Function, Tensor, write_inplace
from minigen.ops.elementwise import add, clamp, div, mul, sub, where
from minigen.ops.shape import _normalize_index, getitem, sum_to


def add_(x, other, alpha=1):
    """x += alpha * other, in place."""
    return write_inplace(x, lambda x, y: add(x, y if alpha == 1 else y * alpha), other)


def sub_(x, other, alpha=1):
    """x -= alpha * other, in place."""
    return write_inplace(x, lambda x, y: sub(x, y if alpha == 1 else y * alpha), other)


def mul_(x, other):
    """x *= other, in place."""
    return write_inplace(x, mul, other)


def div_(x, other):
    """x /= other, in place (true division: an int tensor cannot hold the result)."""
    return write_inplace(x, div, other)


def clamp_(x, min=None, max=None):
    """x clamped into [min, max], in place."""
    return write_inplace(x, lambda x: clamp(x, min, max))


def fill_(x, value):
    """Every element of x set to ``value`` (a number, or a 0-d tensor that gets the gradient)."""
    return write_inplace(x, _replaced, value)


def zero_(x):
    """Every element of x set to 0."""
    return fill_(x, 0)


def copy_(x, src):
    """The values of ``src`` (broadcast to x's shape, cast to its dtype, moved to its device) into x."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor as the source, got {type(src).__name__}")
    return write_inplace(x, lambda x, s: _replaced(x, s.to(x.device).to(x.dtype)), src)


def uniform_(x, a=0.0, b=1.0):
    """x filled with draws from U(a, b) of minigen's one random stream."""
    return write_inplace(x, lambda x: _replaced(x, _drawn(x, backend.random_uniform) * (b - a) + a))


def normal_(x, mean=0.0, std=1.0):
    """x filled with draws from N(mean, std^2) of minigen's one random stream."""
    return write_inplace(x, lambda x: _replaced(x, _drawn(x, backend.random_normal) * std + mean))


def setitem(x, index, value):
    """``x[index] = value`` (PyTorch's index_put_): differentiable in x and in value."""
    return write_inplace(x, lambda x, v: SetItem.apply(x, _as_values(v, x), index=_normalize_index(index, x)),
                         value)


class SetItem(Function):
    reads_inputs = False  # backward needs only the index and the shapes

    def forward(self, x, values, index):
        self.index = index
        out = x.copy()
        out[index] = values
        return out

    def backward(self, gy):
        x, values = self.inputs
        overwritten = backend.array_module(gy.data).zeros(x.shape, dtype=bool)
        overwritten[self.index] = True
        gx = where(Tensor(overwritten), 0.0, gy)  # d out/dx = 0 where written, 1 elsewhere
        return gx, sum_to(getitem(gy, self.index), values.shape)  # d out[index]/d values = 1


def _replaced(x, values):
    """``values`` broadcast to x's shape: the new content of x, whose old values get no gradient."""
    if isinstance(values, Tensor) and values.ndim > x.ndim:
        raise RuntimeError(f"in-place operation: a value of shape {values.shape} does not fit into {x.shape}")
    return where(Tensor(backend.array_module(x.data).zeros(x.shape, dtype=bool)), x, values)


def _drawn(x, draw):
    return Tensor(draw(x.shape, x.dtype, x.device))


def _as_values(value, x):
    """A value for ``x[index] = value``: a Tensor, or a number / array made a Tensor of x's dtype."""
    if isinstance(value, Tensor):
        return value
    return Tensor(backend.to_device(np.asarray(value, dtype=x.dtype), x.device))
