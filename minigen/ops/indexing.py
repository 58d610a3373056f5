"""Picking elements along one dim by an index tensor: gather and its adjoint scatter_add,
index_select, masked_fill, and sort and topk (whose values are x gathered at the sorting indices).

For dim = 0 of a 3-d tensor (the other dims alike):

    gather:      out[i, j, k] = x[index[i, j, k], j, k]
    scatter_add: out = x;  out[index[i, j, k], j, k] += src[i, j, k]   (repeats add up)

<gather(x, index), g> = <x, scatter_add(0, index, g)>: each is the other's backward.
"""
import collections

from minigen import backend
from minigen.autograd import Function, Tensor
from minigen.ops.elementwise import where
from minigen.ops.shape import broadcast_shape, getitem, normalize_dim, pad, reshape

Sorted = collections.namedtuple("Sorted", ["values", "indices"])


def _along(index, dim):
    """The full index tuple that reads index's positions from a tensor, with ``index`` in dim ``dim``:
    for dim = 0 of a 3-d index, (index, j, k) with j and k the broadcast positions."""
    xp = backend.array_module(index)
    return tuple(index if d == dim else xp.arange(n).reshape([n if e == d else 1 for e in range(index.ndim)])
                 for d, n in enumerate(index.shape))


class Gather(Function):
    def forward(self, x, dim, index):
        self.dim, self.index = dim, index
        return x[_along(index, dim)]

    def backward(self, gy):
        x, = self.inputs
        zeros = Tensor(backend.array_module(gy.data).zeros_like(gy.data, shape=x.shape))
        return ScatterAdd.apply(zeros, gy, dim=self.dim, index=self.index)  # the adjoint of gather


class ScatterAdd(Function):
    def forward(self, x, src, dim, index):
        self.dim, self.index = dim, index
        out = x.copy()
        return backend.index_add(out, _along(index, dim), src[tuple(slice(0, n) for n in index.shape)])

    def backward(self, gy):
        x, src = self.inputs
        g_src = None
        if self.needs_input_grad[1]:
            g_src = Gather.apply(gy, dim=self.dim, index=self.index)  # the adjoint of scatter_add
            g_src = pad(g_src, [w for a, b in zip(reversed(src.shape), reversed(self.index.shape)) for w in (0, a - b)])
        return gy, g_src  # d out/d x = identity


def _index_checked(x, dim, index, op):
    """dim normalized, and index as an int64 array on x's device: as many dims as x, at most x's size
    in the dims other than dim, entries in [0, x.shape[dim]) (PyTorch's rules)."""
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expected a tensor of at least 1 dim, got a 0-d tensor")
    dim = normalize_dim(dim, x.ndim, op)
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise RuntimeError(f"{op}: index of shape {index.shape} does not fit a tensor of shape {x.shape}: "
                           f"expected {x.ndim} dims, each at most the tensor's size outside dim {dim}")
    data = backend.to_device(index.data, x.device)
    if data.size and (int(data.min()) < 0 or int(data.max()) >= x.shape[dim]):
        raise RuntimeError(f"{op}: index out of bounds for dim {dim} of size {x.shape[dim]}: "
                           f"entries from {int(data.min())} to {int(data.max())}")
    return dim, data.astype("int64", copy=False)


@backend.on_data_device
def gather(x, dim, index):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and alike for other dims); out has index's shape."""
    dim, index = _index_checked(x, dim, index, "gather")
    return Gather.apply(x, dim=dim, index=index)


@backend.on_data_device
def scatter_add(x, dim, index, src):
    """A copy of x with src[i][j][k] added at [index[i][j][k]][j][k] for dim=0 (repeated positions add up).
    Only src's first index.shape elements are used (as PyTorch)."""
    dim, index = _index_checked(x, dim, index, "scatter_add")
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter_add: src has dtype {src.dtype} but the tensor has {x.dtype}")
    if src.ndim != index.ndim or any(i > n for i, n in zip(index.shape, src.shape)):
        raise RuntimeError(f"scatter_add: src of shape {src.shape} is smaller than index of shape {index.shape}")
    return ScatterAdd.apply(x, src, dim=dim, index=index)


@backend.on_data_device
def index_select(x, dim, index):
    """The entries of x at positions ``index`` (a 1-d or 0-d integer tensor) along ``dim``."""
    dim = normalize_dim(dim, x.ndim, "index_select")
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu" or index.ndim > 1:
        raise TypeError(f"index_select: index must be a 1-d integer tensor, got {index!r}")
    if index.numel() and (int(index.data.min()) < 0 or int(index.data.max()) >= x.shape[dim]):
        raise IndexError(f"index_select: index out of range for dim {dim} of size {x.shape[dim]}")
    return getitem(x, (slice(None),) * dim + (reshape(index, -1),))


@backend.on_data_device
def masked_fill(x, mask, value):
    """x with ``value`` (a number, or a 0-d tensor that then gets the gradient there) where the boolean
    ``mask`` (broadcast to x's shape) is True."""
    if not isinstance(mask, Tensor) or mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a boolean tensor, got {getattr(mask, 'dtype', mask)!r}")
    if broadcast_shape(mask.shape, x.shape, "masked_fill") != x.shape:
        raise RuntimeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    else:
        value = Tensor(backend.array_module(x.data).asarray(value, dtype=x.dtype))  # x's dtype, as PyTorch
    return where(mask, value.to(x.device, x.dtype), x)


# ------------------------------------------------------------------ sorting
def _argsort(x, dim, descending):
    """Stable sorting indices along dim; for descending, ties keep their order too (sort the reversed
    x ascending, reverse that, and map the positions back)."""
    xp = backend.array_module(x)
    if not descending:
        return xp.argsort(x, axis=dim, kind="stable")
    n = x.shape[dim]
    return n - 1 - xp.flip(xp.argsort(xp.flip(x, dim), axis=dim, kind="stable"), dim)


@backend.on_data_device
def sort(x, dim=-1, descending=False, *, stable=False):
    """(values, indices) of x sorted along ``dim``; nan counts as the largest (as PyTorch). The sort is
    always stable (equal elements keep their order), which ``stable=False`` allows too. Values are
    differentiable (their gradient goes back to where they came from); indices are int64."""
    if x.ndim == 0:
        return Sorted(x, Tensor(backend.array_module(x.data).zeros((), dtype="int64")))
    dim = normalize_dim(dim, x.ndim, "sort")
    index = _argsort(x.data, dim, bool(descending))
    return Sorted(Gather.apply(x, dim=dim, index=index), Tensor(index))


@backend.on_data_device
def topk(x, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) entries along ``dim``, largest first (smallest
    first for largest=False). ``sorted=False`` also returns them in that order."""
    n = x.shape[normalize_dim(dim, x.ndim, "topk")] if x.ndim else 1
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= n:
        raise RuntimeError(f"topk: k must be an int in [0, {n}] (the size of dim {dim}), got {k!r}")
    if x.ndim == 0:
        return sort(x)
    dim = normalize_dim(dim, x.ndim, "topk")
    index = _argsort(x.data, dim, bool(largest))[(slice(None),) * dim + (slice(0, k),)]
    return Sorted(Gather.apply(x, dim=dim, index=index), Tensor(index))
