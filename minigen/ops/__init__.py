"""All differentiable ops, and the one place where they become Tensor methods and operators."""
import numpy as np

from minigen import backend
from minigen.autograd import Tensor
from minigen.ops.activation import erf, leaky_relu, relu, sigmoid, softplus
from minigen.ops.conv import avg_pool2d, col2im, conv2d, conv_transpose2d, im2col, max_pool2d, max_unpool2d
from minigen.ops.discrete import (
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, floor, floor_divide, isfinite, isnan, remainder, round,
    sign)
from minigen.ops.elementwise import (
    Cast, ToDevice, abs, add, clamp, cos, div, eq, exp, expm1, ge, gt, le, log, log1p, log2, log10, lt, maximum,
    minimum, mul, ne, neg, pow, reciprocal, rsqrt, sin, sqrt, square, sub, tanh, where)
from minigen.ops.indexing import gather, index_select, masked_fill, scatter_add, sort, topk
from minigen.ops.inplace import add_, clamp_, copy_, div_, fill_, mul_, normal_, setitem, sub_, uniform_, zero_
from minigen.ops.linalg import bmm, dot, einsum, matmul, mm, tril, triu
from minigen.ops.reduce import (
    all, amax, amin, any, argmax, argmin, cumsum, log_softmax, logsumexp, max, mean, min, norm, prod, softmax, std,
    sum, var)
from minigen.ops.shape import (
    broadcast_to, cat, chunk, clone, contiguous, expand, flatten, flip, getitem, index_scatter, pad, permute, repeat,
    reshape, split, squeeze, stack, sum_to, t, transpose, unbind, unsqueeze)

# Differentiable ops: each has an entry in tests/op_specs.py (a meta-test checks it).
DIFFERENTIABLE = (
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh",
    "sigmoid", "relu", "leaky_relu", "softplus", "clamp", "maximum", "minimum", "where", "erf",
    "sum", "mean", "var", "max", "min", "amax", "amin", "logsumexp", "prod", "softmax", "log_softmax",
    "reshape", "transpose", "permute", "squeeze", "unsqueeze", "flatten", "broadcast_to", "expand", "sum_to",
    "getitem", "index_scatter", "cat", "stack", "split", "pad", "flip", "matmul", "dot", "to",
    "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "max_unpool2d", "im2col", "col2im", "erf",
    "log2", "log10", "expm1", "square", "rsqrt", "reciprocal", "floor", "ceil", "round", "sign", "remainder",
    "std", "norm", "cumsum", "clone", "contiguous", "repeat", "chunk", "unbind", "t", "tril", "triu",
    "gather", "scatter_add", "index_select", "masked_fill", "sort", "topk", "mm", "bmm", "einsum")
# In-place ops (minigen/ops/inplace.py): each has an entry in tests/op_specs_inplace.py.
INPLACE = ("add_", "sub_", "mul_", "div_", "clamp_", "fill_", "zero_", "copy_", "uniform_", "normal_", "setitem")
# Ops without a gradient (integer or boolean results).
NOT_DIFFERENTIABLE = ("argmax", "argmin", "eq", "ne", "lt", "le", "gt", "ge", "all", "any", "isnan", "isfinite",
                      "floor_divide", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")


def to(x, *args, dtype=None, device=None):
    """x converted to a dtype and/or moved to a device: ``to("cuda")``, ``to(float64)``,
    ``to("cpu", float32)``. Returns x itself when nothing changes; differentiable, except a cast
    to an integer or boolean dtype."""
    for arg in args:
        if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda"):
            device = arg
        else:
            dtype = arg
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to: expected a device string or a dtype, got {dtype!r}") from None
        if dtype != x.dtype:  # to an integer or boolean dtype: not recorded, no gradient (as PyTorch)
            x = Cast.apply(x, dtype=dtype)
    if device is not None:
        device = backend.canonical_device(device)
        if device != x.device:
            x = ToDevice.apply(x, device=device)
    return x


def _reflected(op):
    def reflected(self, other):
        return op(other, self)

    reflected.__name__ = f"r{op.__name__}"
    return reflected


def _attach_to_tensor():
    """Tensor's operators and methods (PyTorch's names), all delegating to the functions above."""
    operators = {"add": add, "sub": sub, "mul": mul, "truediv": div, "pow": pow, "matmul": matmul,
                 "floordiv": floor_divide, "mod": remainder, "and": bitwise_and, "or": bitwise_or,
                 "xor": bitwise_xor}
    for name, op in operators.items():
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", _reflected(op))
    for name, op in {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}.items():
        setattr(Tensor, f"__{name}__", op)
    Tensor.__neg__, Tensor.__abs__, Tensor.__invert__ = neg, abs, bitwise_not
    Tensor.__getitem__, Tensor.__setitem__ = getitem, setitem
    for name, op in {"iadd": add_, "isub": sub_, "imul": mul_, "itruediv": div_}.items():
        setattr(Tensor, f"__{name}__", op)
    for op in (add_, sub_, mul_, div_, clamp_, fill_, zero_, copy_, uniform_, normal_):
        setattr(Tensor, op.__name__, op)
    methods = (add, sub, mul, div, pow, neg, exp, erf, log, log1p, sqrt, abs, sin, cos, tanh, sigmoid, relu, clamp,
               maximum, minimum, sum, mean, var, max, min, amax, amin, prod, logsumexp, argmax, argmin, softmax,
               log_softmax, reshape, transpose, permute, squeeze, unsqueeze, flatten, expand, broadcast_to,
               flip, split, matmul, dot, to, log2, log10, expm1, square, rsqrt, reciprocal, floor, ceil, round, sign,
               floor_divide, remainder, bitwise_and, bitwise_or, bitwise_xor, bitwise_not, isnan, isfinite, std, norm,
               cumsum, all, any, clone, contiguous, repeat, chunk, unbind, t, tril, triu, gather, scatter_add,
               index_select, masked_fill, sort, topk, mm, bmm)
    for op in methods:
        setattr(Tensor, op.__name__, op)
    Tensor.where = lambda self, condition, other: where(condition, self, other)
    Tensor.dim = lambda self: self.ndim
    Tensor.view = reshape
    Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self.ndim)))))
    Tensor.mT = property(lambda self: transpose(self, -2, -1))
    Tensor.cpu = lambda self: to(self, "cpu")
    Tensor.cuda = lambda self, device="cuda": to(self, device)
    Tensor.float = lambda self: to(self, np.float32)
    Tensor.double = lambda self: to(self, np.float64)
    Tensor.long = lambda self: to(self, "int64")
    Tensor.int = lambda self: to(self, "int32")
    Tensor.bool = lambda self: to(self, "bool")


_attach_to_tensor()

__all__ = list(DIFFERENTIABLE) + list(NOT_DIFFERENTIABLE)
