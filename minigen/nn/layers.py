"""Layers without a spatial window: Linear, Identity, activations, Dropout, reshaping, Upsample, Embedding.

Each layer is a Module that holds its settings and Parameters and calls a function of
``minigen.nn.functional`` in ``forward``. Inputs are checked at the layer's door: a
wrong size raises a ValueError that names the layer (its repr) and the shape it got.
"""
import math
import warnings

from minigen.checks import check_int, is_int
from minigen.creation import zeros
from minigen.nn import functional as F
from minigen.nn import init
from minigen.nn.module import Module, Parameter
from minigen.ops import flatten, reshape
from minigen.ops.options import unsupported
from minigen.ops.shape import normalize_dim


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
        check_int("Linear", "in_features", in_features)
        check_int("Linear", "out_features", out_features)
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
class Identity(Module):
    """Returns its input unchanged; takes (and ignores) any arguments, as PyTorch's does."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


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


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF; approximate="tanh" for the tanh formula."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def extra_repr(self):
        return f"approximate={self.approximate!r}"

    def forward(self, x):
        return F.gelu(x, self.approximate)


class SiLU(Module):
    """x sigmoid(x)."""

    def __init__(self, inplace=False):
        super().__init__()
        F._check_not_inplace(inplace, "SiLU")
        self.inplace = inplace

    def forward(self, x):
        return F.silu(x)


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        F._check_not_inplace(inplace, "ELU")
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self):
        return f"alpha={self.alpha}"

    def forward(self, x):
        return F.elu(x, self.alpha)


class Softmax(Module):
    """e^x / sum e^x along ``dim``; dim=None picks PyTorch's legacy dim (0 for 0, 1 or 3 dims, else 1)
    with PyTorch's warning."""

    function = staticmethod(F.softmax)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"

    def forward(self, x):
        if self.dim is not None:
            return self.function(x, self.dim)
        warnings.warn(f"Implicit dimension choice for {type(self).__name__.lower()} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=2)
        return self.function(x, 0 if x.ndim in (0, 1, 3) else 1)


class LogSoftmax(Softmax):
    """x - log sum e^x along ``dim`` (dim=None as Softmax)."""

    function = staticmethod(F.log_softmax)


# ------------------------------------------------------------------ regularization
class Dropout(Module):
    """Zero each element with probability p while training, scaling the rest by 1 / (1 - p);
    the identity in eval mode. The mask comes from minigen's seeded stream."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_probability(p, type(self).__name__)
        unsupported(type(self).__name__, inplace=(inplace, False))
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x):
        return F.dropout(x, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) or (C, H, W) with probability p while training, scaling
    the rest by 1 / (1 - p)."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)


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
            any(not is_int(n) or n < -1 for n in sizes)):
        raise ValueError(f"Unflatten: unflattened_size must hold ints >= 0 and at most one -1, got {sizes}")
    if -1 in sizes and 0 in sizes:  # 0 times any length is 0: nothing determines the -1
        raise ValueError(f"Unflatten: unflattened_size {sizes} holds a 0 beside the -1, so the -1 cannot be inferred")
    return sizes


class Upsample(Module):
    """Resize (N, C, *spatial) to ``size`` or by ``scale_factor``, mode "nearest" or "bilinear" (F.interpolate)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        unsupported("Upsample", recompute_scale_factor=(recompute_scale_factor, None))
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners

    def extra_repr(self):
        where = f"size={self.size}" if self.scale_factor is None else f"scale_factor={self.scale_factor}"
        return f"{where}, mode={self.mode!r}"

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)


# ------------------------------------------------------------------ lookup
class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by index.

    indices: an integer tensor of any shape (...) -> (..., embedding_dim). weight ~ N(0, 1).
    padding_idx: a row that starts at 0 and is never trained (no gradient reaches it); negative
    counts from the end.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        check_int("Embedding", "num_embeddings", num_embeddings)
        check_int("Embedding", "embedding_dim", embedding_dim)
        unsupported("Embedding", max_norm=(max_norm, None), norm_type=(norm_type, 2.0),
                    scale_grad_by_freq=(scale_grad_by_freq, False), sparse=(sparse, False), _weight=(_weight, None),
                    _freeze=(_freeze, False))
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must be within [-{num_embeddings}, {num_embeddings}), "
                             f"got {padding_idx!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.weight = init.normal_(Parameter(zeros(num_embeddings, embedding_dim)))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0
        self.to(device=device, dtype=dtype)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            "" if self.padding_idx is None else f", padding_idx={self.padding_idx}")

    def forward(self, indices):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: expected an integer tensor of indices, got dtype {indices.dtype}")
        low, high = (int(indices.min().item()), int(indices.max().item())) if indices.data.size else (0, 0)
        if low < 0 or high >= self.num_embeddings:  # Tensor min/max: they run on the indices' device
            raise IndexError(f"{self!r}: indices must be in [0, {self.num_embeddings}), got values from "
                             f"{low} to {high}")
        return F.embedding(indices, self.weight, self.padding_idx)
