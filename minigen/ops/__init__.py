"""All differentiable ops, and the one place where they become Tensor methods and operators."""
import numpy as np

from minigen import backend
from minigen.autograd import Tensor
from minigen.ops.conv import avg_pool2d, col2im, conv2d, conv_transpose2d, im2col, max_pool2d, max_unpool2d
from minigen.ops.elementwise import (
    Cast, ToDevice, abs, add, clamp, cos, div, eq, erf, exp, ge, gt, le, leaky_relu, log, log1p, lt, maximum,
    minimum, mul, ne, neg, pow, relu, sigmoid, sin, softplus, sqrt, sub, tanh, where)
from minigen.ops.linalg import dot, matmul
from minigen.ops.reduce import (
    amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, prod, softmax, sum, var)
from minigen.ops.shape import (
    broadcast_to, cat, expand, flatten, flip, getitem, index_scatter, pad, permute, reshape, split, squeeze,
    stack, sum_to, transpose, unsqueeze)

# Differentiable ops: each has an entry in tests/op_specs.py (a meta-test checks it).
DIFFERENTIABLE = (
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh",
    "sigmoid", "relu", "leaky_relu", "softplus", "clamp", "maximum", "minimum", "where", "erf",
    "sum", "mean", "var", "max", "min", "amax", "amin", "logsumexp", "prod", "softmax", "log_softmax",
    "reshape", "transpose", "permute", "squeeze", "unsqueeze", "flatten", "broadcast_to", "expand", "sum_to",
    "getitem", "index_scatter", "cat", "stack", "split", "pad", "flip", "matmul", "dot", "to",
    "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "max_unpool2d", "im2col", "col2im")
# Ops without a gradient (integer or boolean results).
NOT_DIFFERENTIABLE = ("argmax", "argmin", "eq", "ne", "lt", "le", "gt", "ge")


def to(x, *args, dtype=None, device=None):
    """x converted to a dtype and/or moved to a device: ``to("cuda")``, ``to(float64)``,
    ``to("cpu", float32)``. Returns x itself when nothing changes; differentiable."""
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
        if dtype != x.dtype:
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
    operators = {"add": add, "sub": sub, "mul": mul, "truediv": div, "pow": pow, "matmul": matmul}
    for name, op in operators.items():
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", _reflected(op))
    for name, op in {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}.items():
        setattr(Tensor, f"__{name}__", op)
    Tensor.__neg__, Tensor.__abs__, Tensor.__getitem__ = neg, abs, getitem
    methods = (add, sub, mul, div, pow, neg, exp, erf, log, log1p, sqrt, abs, sin, cos, tanh, sigmoid, relu, clamp,
               maximum, minimum, sum, mean, var, max, min, amax, amin, prod, logsumexp, argmax, argmin, softmax,
               log_softmax, reshape, transpose, permute, squeeze, unsqueeze, flatten, expand, broadcast_to,
               flip, split, matmul, dot, to)
    for op in methods:
        setattr(Tensor, op.__name__, op)
    Tensor.view = reshape
    Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self.ndim)))))
    Tensor.mT = property(lambda self: transpose(self, -2, -1))
    Tensor.cpu = lambda self: to(self, "cpu")
    Tensor.cuda = lambda self, device="cuda": to(self, device)
    Tensor.float = lambda self: to(self, np.float32)
    Tensor.double = lambda self: to(self, np.float64)


_attach_to_tensor()

__all__ = list(DIFFERENTIABLE) + list(NOT_DIFFERENTIABLE)
