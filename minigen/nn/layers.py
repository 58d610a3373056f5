"""Layers without a spatial window: Linear, activations, Dropout, reshaping, Upsample, Embedding.

Each layer is a Module that holds its settings and Parameters and calls a function of
``minigen.nn.functional`` in ``forward``. Inputs are checked at the layer's door: a
wrong size raises a ValueError that names the layer (its repr) and the shape it got.
"""
import math

import numpy as np

from minigen.creation import zeros
from minigen.nn import functional as F
from minigen.nn import init
from minigen.nn.module import Module, Parameter
from minigen.ops import flatten, reshape
from minigen.ops.options import unsupported
from minigen.ops.shape import normalize_dim


def _check_sizes(layer, **sizes):
    """Constructor sizes (in_features=..., ...) must be positive ints."""
    for name, n in sizes.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{layer}: {name} must be a positive int, got {n!r}")


def _default_init_(weight, bias):
    """PyTorch's default for Linear and conv layers: kaiming_uniform_ with a = sqrt(5), that is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias uniform with the same bound."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in)
        init.uniform_(bias, -bound, bound)


# ------------------------------------------------------------------ affine
class Linear(Module):
    """y = x W^T + b. x: (..., in_features) -> (..., out_features).

    weight: (out_features, in_features); bias: (out_features,), or None with bias=False.
    Both start uniform on [-1/sqrt(in_features), 1/sqrt(in_features)], as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features))
        self.register_parameter("bias", Parameter(zeros(out_features)) if bias else None)
        _default_init_(self.weight, self.bias)
        self.to(device=device, dtype=dtype)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: expected input with last dim {self.in_features}, got shape {tuple(x.shape)}")
        return F.linear(x, self.weight, self.bias)


# ------------------------------------------------------------------ activations
class ReLU(Module):
    """max(x, 0). inplace=True is not implemented (NotImplementedError)."""

    def __init__(self, inplace=False):
        super().__init__()
        unsupported("ReLU", inplace=(inplace, False))
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        unsupported("LeakyReLU", inplace=(inplace, False))
        self.negative_slope, self.inplace = negative_slope, inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Softplus(Module):
    """ln(1 + e^(beta x)) / beta, a smooth relu (exact everywhere: only threshold=20 is accepted)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        unsupported("Softplus", threshold=(threshold, 20.0))
        self.beta, self.threshold = beta, threshold

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)


# ------------------------------------------------------------------ regularization
class Dropout(Module):
    """Zero each element with probability p while training, scaling the rest by 1 / (1 - p);
    the identity in eval mode. The mask comes from minigen's seeded stream."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_probability(p, "Dropout")
        unsupported("Dropout", inplace=(inplace, False))
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x):
        return F.dropout(x, self.p, self.training)


# ------------------------------------------------------------------ reshaping
class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: Unflatten(1, (C, H, W)) undoes Flatten().

    unflattened_size: ints >= 0, at most one of them -1 (inferred from the input); ValueError otherwise.
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, _checked_unflattened_size(tuple(unflattened_size))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

    def forward(self, x):
        dim = normalize_dim(self.dim, x.ndim, "Unflatten")
        known = math.prod(n for n in self.unflattened_size if n != -1)
        length = x.shape[dim]
        if (length % known if -1 in self.unflattened_size else length != known):
            raise ValueError(f"{self!r}: dim {self.dim} of the input has length {length}, which does not split "
                             f"into {self.unflattened_size}; got shape {tuple(x.shape)}")
        return reshape(x, x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])


def _checked_unflattened_size(sizes):
    """``sizes``, after raising ValueError unless they are ints >= 0 with at most one -1 (the one inferred)."""
    if (sizes.count(-1) > 1 or
            any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < -1 for n in sizes)):
        raise ValueError(f"Unflatten: unflattened_size must hold ints >= 0 and at most one -1, got {sizes}")
    if -1 in sizes and 0 in sizes:  # 0 times any length is 0: nothing determines the -1
        raise ValueError(f"Unflatten: unflattened_size {sizes} holds a 0 beside the -1, so the -1 cannot be inferred")
    return sizes


class Upsample(Module):
    """Nearest-neighbour upsampling to ``size`` or by an integer ``scale_factor`` (give one):
    (N, C, H, W) -> (N, C, sH, sW). Other modes, align_corners and recompute_scale_factor raise
    NotImplementedError."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        unsupported("Upsample", mode=(mode, "nearest"), align_corners=(align_corners, None),
                    recompute_scale_factor=(recompute_scale_factor, None))
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def extra_repr(self):
        setting = f"size={self.size}" if self.scale_factor is None else f"scale_factor={self.scale_factor}"
        return f"{setting}, mode={self.mode!r}"

    def forward(self, x):
        return F.upsample(x, self.size, self.scale_factor, self.mode)


# ------------------------------------------------------------------ lookup
class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by index.

    indices: an integer tensor of any shape (...) -> (..., embedding_dim). weight ~ N(0, 1).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        _check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        unsupported("Embedding", padding_idx=(padding_idx, None), max_norm=(max_norm, None),
                    norm_type=(norm_type, 2.0), scale_grad_by_freq=(scale_grad_by_freq, False), sparse=(sparse, False),
                    _weight=(_weight, None), _freeze=(_freeze, False))
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = init.normal_(Parameter(zeros(num_embeddings, embedding_dim)))
        self.to(device=device, dtype=dtype)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"

    def forward(self, indices):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: expected an integer tensor of indices, got dtype {indices.dtype}")
        if indices.data.size and (indices.data.min() < 0 or indices.data.max() >= self.num_embeddings):
            raise IndexError(f"{self!r}: indices must be in [0, {self.num_embeddings}), got values from "
                             f"{int(indices.data.min())} to {int(indices.data.max())}")
        return self.weight[indices]
