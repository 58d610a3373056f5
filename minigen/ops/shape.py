"""Shape ops: reshape, permute, broadcasting, indexing, joining, repeating, padding, flipping.

All of them are linear, so each backward is the adjoint op:
reshape <-> reshape back, permute <-> inverse permute, broadcast_to <-> sum_to,
x[index] <-> index_scatter, pad <-> slice, cat <-> slices, repeat <-> sum of the copies,
flip <-> flip, clone <-> identity.
"""
import math

import numpy as np

from minigen import backend
from minigen.autograd import Clone, Function, Tensor
from minigen.checks import check_int, fail, is_int
from minigen.ops.options import unsupported


# ------------------------------------------------------------------ dims and shapes
def normalize_dim(dim, ndim, op):
    """A dimension index in [0, ndim); negative counts from the end."""
    if not is_int(dim):
        fail(op, "dim", "an int", dim, TypeError)
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"{op}: dim {dim} out of range for a tensor of {ndim} dims (expected in [{lo}, {hi}])")
    return int(dim) % max(ndim, 1)


def _shape_arg(shape, op):
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if not all(is_int(n) for n in shape):
        raise TypeError(f"{op}: sizes must be ints, got {tuple(shape)!r}")
    return tuple(int(n) for n in shape)


def broadcast_shape(a, b, op):
    """The shape that a and b broadcast to; ValueError naming ``op`` if they do not."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(f"{op}: shapes {a} and {b} do not broadcast") from None


# ------------------------------------------------------------------ reshape
class Reshape(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        x, = self.inputs
        gx = reshape(gy, self.in_shape)  # reshape is its own adjoint
        if x.data.flags.c_contiguous or gx.data.strides == x.data.strides:
            return gx
        return SameLayout.apply(gx, like=x.data)  # elementwise ops on gx and x's neighbours then match


class SameLayout(Function):
    """The values of x laid out in memory as ``like`` is (NumPy's order "K"): the identity map.
    Elementwise ops between arrays of different layouts run several times slower."""
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, like):
        out = backend.array_module(x).empty_like(like, dtype=x.dtype)
        out[...] = x
        return out

    def backward(self, gy):
        return gy


def reshape(x, *shape):
    """x with a new shape of the same size; one size may be -1 (inferred)."""
    shape = _shape_arg(shape, "reshape")
    known = math.prod(n for n in shape if n != -1)
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or x.data.size % known)) or \
            (-1 not in shape and known != x.data.size):
        raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} ({x.data.size} elements) as {shape}")
    return Reshape.apply(x, shape=shape)


def squeeze(x, dim=None):
    """Drop dimensions of size 1: all of them, or those of ``dim`` (an int or a tuple) that have size 1."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = {normalize_dim(d, x.ndim, "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    if x.ndim == 0 or all(x.shape[d] != 1 for d in dims):
        return x
    return reshape(x, tuple(n for d, n in enumerate(x.shape) if d not in dims or n != 1))


def unsqueeze(x, dim):
    """Insert a dimension of size 1 at ``dim`` (in [-ndim-1, ndim])."""
    dim = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def clone(x):
    """A copy of x with its own memory (C order), in the graph: its gradient passes through unchanged."""
    return Clone.apply(x)


def contiguous(x):
    """x itself if its memory is in C order, else a copy that is (``clone``)."""
    return x if x.data.flags.c_contiguous else clone(x)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim (inclusive) into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


# ------------------------------------------------------------------ permute
class Permute(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, gy):
        return permute(gy, tuple(np.argsort(self.dims)))  # the inverse permutation


def permute(x, *dims):
    """Reorder the dimensions: output dim i is input dim ``dims[i]``."""
    dims = _shape_arg(dims, "permute")
    if len(dims) != x.ndim or any(not -x.ndim <= d < x.ndim for d in dims) or \
            sorted(d % x.ndim for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims of a tensor of shape {x.shape}")
    return Permute.apply(x, dims=tuple(d % x.ndim for d in dims))


def t(x):
    """The transpose of a matrix; a 0-d or 1-d tensor comes back as it is. RuntimeError above 2 dims."""
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got shape {x.shape}; use transpose or mT")
    return transpose(x, 0, -1) if x.ndim == 2 else x


def transpose(x, dim0=-2, dim1=-1):
    """Swap two dimensions (by default the last two)."""
    dims = list(range(x.ndim))
    i, j = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    dims[i], dims[j] = dims[j], dims[i]
    return Permute.apply(x, dims=tuple(dims))


# ------------------------------------------------------------------ broadcasting
class BroadcastTo(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, shape):
        self.in_shape = x.shape
        return backend.array_module(x).broadcast_to(x, shape)

    def backward(self, gy):
        return sum_to(gy, self.in_shape)  # copies of an element get the sum of their gradients


class SumTo(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, shape):
        self.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        return x.sum(axis=axes, keepdims=True).reshape(shape)

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def broadcast_to(x, size):
    """x repeated along new leading dims and along its dims of size 1 to reach ``size``."""
    if x.data.shape == size:
        return x
    shape = _shape_arg((size,), "broadcast_to")
    if broadcast_shape(x.shape, shape, "broadcast_to") != shape:
        raise ValueError(f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def expand(x, *size):
    """PyTorch's expand: broadcast_to where a size of -1 keeps that dimension."""
    sizes = _shape_arg(size, "expand")
    lead = len(sizes) - x.ndim
    if -1 in sizes[:lead]:
        raise ValueError(f"expand: -1 keeps an existing dimension, but {sizes} puts it in a new leading "
                         f"dimension of a tensor of shape {x.shape}")
    return broadcast_to(x, tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes)))


def sum_to(x, shape):
    """Sum x over the dims that broadcasting added to reach x.shape from ``shape``.

    The adjoint of broadcast_to: the gradient of a broadcast operand is summed here.
    """
    if x.data.shape == shape:
        return x
    shape = _shape_arg((shape,), "sum_to")
    if broadcast_shape(shape, x.shape, "sum_to") != x.shape:
        raise ValueError(f"sum_to: shape {shape} does not broadcast to the tensor's shape {x.shape}")
    return SumTo.apply(x, shape=shape)


# ------------------------------------------------------------------ indexing
class GetItem(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, index):
        self.in_shape, self.index = x.shape, index
        return x[index]

    def backward(self, gy):
        return index_scatter(gy, self.index, self.in_shape)


class IndexScatter(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, values, index, shape):
        self.index = index
        out = backend.array_module(values).zeros_like(values, shape=shape)  # in the layout of values
        if any(backend.is_array(i) for i in index):
            return backend.index_add(out, index, values)  # repeated indices add up
        out[index] = values
        return out

    def backward(self, gy):
        return GetItem.apply(gy, index=self.index)


def _normalize_index(index, x):
    """A tuple index of ints, slices, None, Ellipsis and integer arrays on x's device.

    Tensors and lists become arrays; a boolean mask becomes the integer arrays of its
    True positions (``mask.nonzero()``), so the scatter in the backward sees plain indices.
    """
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        elif isinstance(part, list):
            part = np.asarray(part)
        if backend.is_array(part):
            if part.dtype.kind not in "biu":
                raise IndexError(f"getitem: index arrays must be integer or boolean, got dtype {part.dtype}")
            part = backend.to_device(part, x.device)
            with backend.device_scope(x.device):
                out.extend(part.nonzero() if part.dtype == bool else (part,))
        else:
            out.append(part)
    return tuple(out)


def getitem(x, index):
    """x[index] with NumPy's rules: ints, slices, None, ..., integer arrays, boolean masks."""
    return GetItem.apply(x, index=_normalize_index(index, x))


def index_scatter(values, index, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``index`` (repeats summed).

    The adjoint of ``x[index]``: <x[index], v> = <x, index_scatter(v, index, x.shape)>.
    """
    return IndexScatter.apply(values, index=_normalize_index(index, values), shape=tuple(shape))


# ------------------------------------------------------------------ joining and splitting
class Cat(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, *xs, dim):
        self.dim, self.sizes = dim, [x.shape[dim] for x in xs]
        return backend.array_module(xs[0]).concatenate(xs, axis=dim)

    def backward(self, gy):
        return tuple(split(gy, self.sizes, self.dim))


def cat(tensors, dim=0):
    """Join tensors along an existing dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    dim = normalize_dim(dim, first.ndim, "cat")
    for k, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:dim] + t.shape[dim + 1:] != first.shape[:dim] + first.shape[dim + 1:]:
            raise ValueError(f"cat: tensor {k} has shape {t.shape}, which differs from tensor 0's {first.shape} "
                             f"outside dim {dim}")
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def split(x, split_size_or_sections, dim=0):
    """Cut x along ``dim`` into pieces of one size (an int) or of the given sizes (a list)."""
    dim = normalize_dim(dim, x.ndim, "split")
    n = x.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - start) for start in range(0, n, split_size_or_sections)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the length of dim {dim}")
    starts = np.cumsum([0] + sizes)
    lead = (slice(None),) * dim
    return tuple(GetItem.apply(x, index=lead + (slice(int(a), int(b)),)) for a, b in zip(starts[:-1], starts[1:]))


def chunk(x, chunks, dim=0):
    """x cut along ``dim`` into at most ``chunks`` pieces of ceil(n / chunks) (the last may be smaller)."""
    check_int("chunk", "chunks", chunks)
    n = x.shape[normalize_dim(dim, x.ndim, "chunk")] if x.ndim else 0
    return split(x, max(math.ceil(n / chunks), 1), dim)


def unbind(x, dim=0):
    """The slices of x along ``dim``, that dim removed: a tuple of x.shape[dim] tensors."""
    dim = normalize_dim(dim, x.ndim, "unbind")
    if x.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dimension to unbind")
    return tuple(GetItem.apply(x, index=(slice(None),) * dim + (i,)) for i in range(x.shape[dim]))


# ------------------------------------------------------------------ repeating
class Repeat(Function):
    def forward(self, x, repeats):
        self.in_shape, self.repeats = x.shape, repeats
        self.sizes = (1,) * (len(repeats) - x.ndim) + x.shape  # x's shape with the new leading dims
        return backend.array_module(x).tile(x.reshape(self.sizes), repeats)

    def backward(self, gy):
        copies = reshape(gy, tuple(m for r, n in zip(self.repeats, self.sizes) for m in (r, n)))  # (r0, n0, r1, ...)
        summed = sum_to(copies, tuple(m for n in self.sizes for m in (1, n)))  # each copy's gradient adds up
        return reshape(summed, self.in_shape)


def repeat(x, *sizes):
    """x tiled ``sizes[i]`` times along dim i (PyTorch's ``repeat``, NumPy's ``tile``); ``sizes`` may
    have more entries than x has dims (new leading dims) but not fewer."""
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < x.ndim or any(n < 0 for n in sizes):
        raise ValueError(f"repeat: expected at least {x.ndim} non-negative sizes for a tensor of shape "
                         f"{x.shape}, got {sizes}")
    return Repeat.apply(x, repeats=sizes)


# ------------------------------------------------------------------ padding and flipping
class Pad(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, widths, value):
        self.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        shape = tuple(before + n + after for (before, after), n in zip(widths, x.shape))
        out = backend.array_module(x).full(shape, value, dtype=x.dtype)
        out[self.inner] = x  # faster than np.pad, which fills each border in a Python loop
        return out

    def backward(self, gy):
        return GetItem.apply(gy, index=self.inner)  # the adjoint of padding is cropping


def pad(x, pad, mode="constant", value=None):
    """Constant padding by ``value`` (None: 0), PyTorch's convention: ``pad = (left, right, top,
    bottom, ...)`` starting from the last dimension. Only mode="constant" is implemented."""
    unsupported("pad", mode=(mode, "constant"))
    value = 0.0 if value is None else value
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim or any(not isinstance(p, int) or p < 0 for p in pad):
        raise ValueError(f"pad: expected an even number of non-negative ints, at most 2 per dim of a "
                         f"{x.ndim}-d tensor, got {pad}")
    pairs = [(pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]
    widths = tuple([(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1])
    return Pad.apply(x, widths=widths, value=value)


class Flip(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, dims):
        self.dims = dims
        return backend.array_module(x).flip(x, dims)

    def backward(self, gy):
        return Flip.apply(gy, dims=self.dims)  # flipping twice is the identity


def flip(x, dims):
    """Reverse the order of elements along ``dims`` (an int or a tuple)."""
    dims = tuple(normalize_dim(d, x.ndim, "flip") for d in ((dims,) if isinstance(dims, int) else dims))
    if x.ndim == 0:
        return x  # a 0-d tensor has nothing to reverse (dim 0 or -1 names it, as in PyTorch)
    return Flip.apply(x, dims=dims)
