"""Convolution by im2col: conv2d, conv_transpose2d, max_pool2d, avg_pool2d (and max_unpool2d).

Two linear Functions do all the index work, and each is the other's adjoint:

    im2col: image (N, C, H, W) -> columns (C*kH*kW, Ho*Wo*N)    one strided view, one copy
    col2im: columns -> image, summing overlaps                   kH*kW strided adds, no scatter

The columns put the batch last (column (y Wo + x) N + n), and the images these functions
make hold it innermost in memory (a transposed view of a (C, H, W, N) array): then every
copy and add runs over N contiguous numbers, not over a row of Wo strided ones, which is
3 to 4 times faster in NumPy (docs/performance.md).

Everything else is composed from differentiable ops, so gradients of any order follow:

    conv2d(x, W)           = W.reshape(O, C*kH*kW) @ im2col(pad(x))              (then reshape)
    conv_transpose2d(x, W) = crop(col2im(W.reshape(C_in, C_out*kH*kW).T @ x_cols))  (its adjoint)
    max_pool2d / avg_pool2d = amax / mean over the kH*kW rows of im2col of each channel

With groups = g the channels split into g groups that never meet: the rows of im2col (and
of W) are ordered channel-major, so reshaping them to (g, rows / g, ...) puts each group in
a batch of its own, and one batched matmul does the g products.

Each takes one image (C, H, W) as well as a batch (N, C, H, W), as PyTorch (accepts_one_image).
"""
import functools

from minigen import backend
from minigen.autograd import Function, Tensor
from minigen.ops.reduce import amax, sum
from minigen.ops.shape import GetItem, pad, permute, reshape, transpose, unsqueeze


def as_pair(value, name, op):
    """An int or a pair of ints -> a pair of ints: paddings at least 0, other settings (kernel
    size, stride, dilation) at least 1."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    lowest = 0 if name.endswith("padding") else 1
    if min(pair) < lowest:
        raise ValueError(f"{op}: {name} must be at least {lowest}, got {value!r}")
    return pair


def output_size(size, kernel, stride, dilation):
    """Positions of a dilated kernel in a (padded) length: floor((size - d(k-1) - 1) / s) + 1."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


# ------------------------------------------------------------------ the adjoint pair
# geometry = (kernel, stride, dilation, grid): grid (Ho, Wo) is the number of kernel positions,
# usually all that fit, fewer for conv_transpose2d's output_padding with dilation > stride.
class Im2Col(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, x, geometry):
        self.image_shape, self.geometry = x.shape, geometry
        xp = backend.array_module(x)
        (n, c, _, _), ((kh, kw), (sh, sw), (dh, dw), (ho, wo)) = x.shape, geometry
        x = _batch_innermost(x)  # the same image, laid out for the gather below
        s_n, s_c, s_h, s_w = x.strides
        # view[c, i, j, y, x, n] = image[n, c, y*sh + i*dh, x*sw + j*dw]: no copy yet
        view = xp.lib.stride_tricks.as_strided(
            x, shape=(c, kh, kw, ho, wo, n), strides=(s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n))
        return view.reshape(c * kh * kw, ho * wo * n)  # the one copy

    def backward(self, gy):
        return Col2Im.apply(gy, image_shape=self.image_shape, geometry=self.geometry)


def _batch_innermost(x):
    """x (N, C, H, W) itself, or a copy of it whose memory has the batch axis innermost (a transposed
    C-contiguous array, strides[0] == itemsize). Im2Col's gather writes the batch innermost, and
    reading it that way too makes the gather several times faster than the copy costs
    (docs/performance.md, "Speed tricks in the forwards")."""
    if x.shape[0] > 1 and x.strides[0] != x.itemsize:
        return backend.array_module(x).ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    return x


class Col2Im(Function):
    reads_inputs = False  # backward needs only shapes

    def forward(self, cols, image_shape, geometry):
        self.geometry = geometry
        xp = backend.array_module(cols)
        (n, c, h, w), ((kh, kw), (sh, sw), (dh, dw), (ho, wo)) = image_shape, geometry
        blocks = cols.reshape(c, kh, kw, ho, wo, n)
        image = xp.zeros((c, h, w, n), dtype=cols.dtype)  # the batch innermost, as in the columns
        for i in range(kh):  # each kernel offset (i, j) adds one strided block
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
                columns = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
                image[:, rows, columns] += blocks[:, i, j]
        return image.transpose(3, 0, 1, 2)  # (N, C, H, W), a view

    def backward(self, gy):
        return Im2Col.apply(gy, geometry=self.geometry)


def _geometry(image_size, kernel_size, stride, dilation, op):
    kernel, stride, dilation = (as_pair(v, name, op) for v, name in
                                ((kernel_size, "kernel_size"), (stride, "stride"), (dilation, "dilation")))
    _check_fits(image_size, kernel, stride, dilation, op)
    grid = tuple(output_size(*args) for args in zip(image_size, kernel, stride, dilation))
    return kernel, stride, dilation, grid


def im2col(x, kernel_size, stride=1, dilation=1):
    """Columns of every kernel position: x (N, C, H, W) -> (C*kH*kW, Ho*Wo*N), no padding.
    cols[(c kH + i) kW + j, (y Wo + x) N + n] = x[n, c, y sh + i dh, x sw + j dw]."""
    _check_image(x, "im2col")
    return Im2Col.apply(x, geometry=_geometry(x.shape[2:], kernel_size, stride, dilation, "im2col"))


def col2im(cols, image_shape, kernel_size, stride=1, dilation=1):
    """The adjoint of im2col: columns (C*kH*kW, Ho*Wo*N) summed back into an image of ``image_shape``."""
    n, c, h, w = image_shape
    geometry = _geometry((h, w), kernel_size, stride, dilation, "col2im")
    (kh, kw), _, _, (ho, wo) = geometry
    if cols.shape != (c * kh * kw, ho * wo * n):
        raise ValueError(f"col2im: columns of shape {cols.shape} do not fit image {tuple(image_shape)} "
                         f"with this kernel, stride and dilation: expected {(c * kh * kw, ho * wo * n)}")
    return Col2Im.apply(cols, image_shape=tuple(image_shape), geometry=geometry)


# ------------------------------------------------------------------ checks at the door
def accepts_one_image(function):
    """Let ``function`` of x (N, C, H, W) take one image (C, H, W) too, as PyTorch does: it runs
    on a batch of one, and its result (or each of its results) loses the batch dim again."""
    @functools.wraps(function)
    def batched(x, *args, **kwargs):
        if x.ndim != 3:
            return function(x, *args, **kwargs)
        out = function(unsqueeze(x, 0), *args, **kwargs)
        return tuple(o[0] for o in out) if isinstance(out, tuple) else out[0]
    return batched


def _check_image(x, op):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got shape {x.shape}")


def _check_fits(spatial, kernel, stride, dilation, op, padding=(0, 0)):
    for size, k, s, d, p in zip(spatial, kernel, stride, dilation, padding):
        if output_size(size + 2 * p, k, s, d) < 1:
            raise ValueError(f"{op}: input of spatial size {tuple(spatial)} with padding {padding} is smaller "
                             f"than the kernel {kernel} with dilation {dilation}")


def _check_weight(x, weight, groups, op, transposed=False):
    """weight (O, C/g, kH, kW) for conv2d, (C, O/g, kH, kW) transposed; g = groups divides C and dim 0."""
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected a weight of 4 dims, got shape {weight.shape}")
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"{op}: the weight of shape {weight.shape} has an empty kernel")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if x.shape[1] % groups or weight.shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input's {x.shape[1]} channels and the "
                         f"{weight.shape[0]} of the weight's dim 0 (shape {weight.shape})")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != expected:
        raise ValueError(f"{op}: input has {x.shape[1]} channels (shape {x.shape}) but the weight of shape "
                         f"{weight.shape} with groups={groups} expects {expected}")


def _conv_padding(padding, kernel, stride, dilation, op):
    """padding as ((top, bottom), (left, right)). PyTorch's strings: "valid" is no padding; "same"
    pads d(k - 1) in all along each dim, the odd one at the end, so that the output keeps the
    input's size, and like PyTorch it refuses a stride other than 1."""
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions, got stride {stride}")
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    if isinstance(padding, str) and padding != "valid":
        raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a pair of ints, got {padding!r}")
    return tuple((p, p) for p in as_pair(0 if padding == "valid" else padding, "padding", op))


def _add_bias(y, bias, op):
    if bias is None:
        return y
    if bias.shape != (y.shape[1],):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not match {y.shape[1]} output channels")
    return y + reshape(bias, (1, -1, 1, 1))


# ------------------------------------------------------------------ convolutions
def _padded_batch_last(x, sides, value=0.0):
    """x (N, C, H, W) padded by sides = ((top, bottom), (left, right)), as a copy that holds the batch
    innermost in memory (a (C, H, W, N) array seen as (N, C, H, W)), the order in which im2col reads it."""
    (top, bottom), (left, right) = sides
    return permute(pad(permute(x, (1, 2, 3, 0)), (0, 0, left, right, top, bottom), value=value), (3, 0, 1, 2))


@accepts_one_image
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    x: (N, C, H, W); weight: (O, C/g, kH, kW) with g = groups; bias: (O,) or None.
    padding: an int, a pair, "valid" (0) or "same" (the output keeps H, W; stride 1 only).
    Returns (N, O, Ho, Wo) with Ho = floor((H + 2p - d(kH-1) - 1) / s) + 1.
    y[n, o] = sum_{c in o's group, i, j} weight[o, c, i, j] x_pad[n, c, s*y + d*i, s*x + d*j] + bias[o]
    """
    stride, dilation, sides = _conv2d_arguments(x, weight, stride, padding, dilation, groups)
    o, c, kh, kw = weight.shape  # c = C / groups channels per group
    x = _padded_batch_last(x, sides)
    n, _, h, w = x.shape
    ho, wo = output_size(h, kh, stride[0], dilation[0]), output_size(w, kw, stride[1], dilation[1])
    cols = Im2Col.apply(x, geometry=((kh, kw), stride, dilation, (ho, wo)))       # (C kH kW, Ho Wo N)
    per_group = reshape(cols, (groups, c * kh * kw, ho * wo * n))                  # group g's rows in batch g
    y = reshape(weight, (groups, o // groups, c * kh * kw)) @ per_group             # one product per group
    return _add_bias(permute(reshape(y, (o, ho, wo, n)), (3, 0, 1, 2)), bias, "conv2d")


def _conv2d_arguments(x, weight, stride, padding, dilation, groups):
    """conv2d's arguments, checked: stride and dilation as pairs, and the padding of each side
    ((top, bottom), (left, right)); ValueError for an input, weight, groups or settings that do not fit."""
    stride, dilation = (as_pair(v, name, "conv2d") for v, name in ((stride, "stride"), (dilation, "dilation")))
    _check_image(x, "conv2d")
    _check_weight(x, weight, groups, "conv2d")
    sides = _conv_padding(padding, weight.shape[2:], stride, dilation, "conv2d")
    if padding != "same":  # "same" keeps the input's size, at least 1
        _check_fits(x.shape[2:], weight.shape[2:], stride, dilation, "conv2d", tuple(before for before, _ in sides))
    return stride, dilation, sides


@accepts_one_image
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv2d with respect to its input, as torch.nn.functional.conv_transpose2d.

    x: (N, C_in, H, W); weight: (C_in, C_out/g, kH, kW) with g = groups; bias: (C_out,) or None.
    Returns (N, C_out, Ho, Wo), Ho = (H - 1)s - 2p + d(kH - 1) + output_padding + 1.
    """
    stride, padding, output_padding, dilation = _conv_transpose2d_arguments(
        x, weight, stride, padding, output_padding, groups, dilation)
    c_in, c_out, kh, kw = weight.shape  # c_out = C_out / groups channels per group
    n, _, h, w = x.shape
    size = [(length - 1) * s - 2 * p + d * (k - 1) + op + 1 for length, s, p, d, k, op in
            zip((h, w), stride, padding, dilation, (kh, kw), output_padding)]
    if min(size) < 1:
        raise ValueError(f"conv_transpose2d: input {x.shape} with padding {padding} gives an empty output {size}")
    x_cols = reshape(permute(x, (1, 2, 3, 0)), (groups, c_in // groups, h * w * n))     # group g's channels in batch g
    w_t = transpose(reshape(weight, (groups, c_in // groups, c_out * kh * kw)), 1, 2)  # each group's W^T
    cols = reshape(w_t @ x_cols, (groups * c_out * kh * kw, h * w * n))             # (C_out kH kW, H W N)
    image_shape = (n, groups * c_out, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    image = Col2Im.apply(cols, image_shape=image_shape, geometry=((kh, kw), stride, dilation, (h, w)))
    crop = (slice(None), slice(None), slice(padding[0], padding[0] + size[0]), slice(padding[1], padding[1] + size[1]))
    return _add_bias(image[crop], bias, "conv_transpose2d")


def _conv_transpose2d_arguments(x, weight, stride, padding, output_padding, groups, dilation):
    """conv_transpose2d's arguments, checked: stride, padding, output_padding and dilation as pairs;
    ValueError for an input, weight, groups or settings that do not fit."""
    stride, padding, output_padding, dilation = (as_pair(v, name, "conv_transpose2d") for v, name in (
        (stride, "stride"), (padding, "padding"), (output_padding, "output_padding"), (dilation, "dilation")))
    _check_image(x, "conv_transpose2d")
    _check_weight(x, weight, groups, "conv_transpose2d", transposed=True)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than "
                         f"stride {stride} or dilation {dilation}")
    return stride, padding, output_padding, dilation


# ------------------------------------------------------------------ pooling
def _pool_grid(size, kernel, stride, padding, dilation, ceil_mode):
    """Window positions along one dim, PyTorch's rule: floor (or ceil) of (n + 2p - d(k-1) - 1) / s, plus 1;
    with ceil_mode the last window must still start inside the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    return count - 1 if ceil_mode and (count - 1) * stride >= size + padding else count


def _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode, fill, op):
    """Every window of each channel of x (N, C, H, W): (C, kH kW, Ho Wo N), and the settings as pairs.
    Windows that ceil_mode adds past the padded image see ``fill`` there."""
    kernel = as_pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else as_pair(stride, "stride", op)
    padding, dilation = as_pair(padding, "padding", op), as_pair(dilation, "dilation", op)
    _check_image(x, op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    _check_fits(x.shape[2:], kernel, stride, dilation, op, padding)
    grid = tuple(_pool_grid(*args, ceil_mode) for args in zip(x.shape[2:], kernel, stride, padding, dilation))
    extra = tuple(max(0, (g - 1) * s + d * (k - 1) + 1 - (n + 2 * p))  # the rows and columns ceil_mode adds
                  for g, s, d, k, n, p in zip(grid, stride, dilation, kernel, x.shape[2:], padding))
    x = _padded_batch_last(x, tuple((p, p + e) for p, e in zip(padding, extra)), value=fill)
    cols = Im2Col.apply(x, geometry=(kernel, stride, dilation, grid))                 # (C kH kW, Ho Wo N)
    windows = reshape(cols, (x.shape[1], kernel[0] * kernel[1], grid[0] * grid[1] * x.shape[0]))
    return windows, (kernel, stride, padding, dilation, grid)


def _to_image(values, n, grid):
    """(C, Ho Wo N) -> (N, C, Ho, Wo)."""
    return permute(reshape(values, (-1, grid[0], grid[1], n)), (3, 0, 1, 2))


@accepts_one_image
@backend.on_data_device
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Largest value of each window (padding counts as -inf). At ties within a window the
    gradient is split evenly (PyTorch sends it all to one element).

    return_indices: also return where each maximum is, as PyTorch: the flat position h W + w
    in its (H, W) image, an int64 tensor of the output's shape (max_unpool2d's input).
    """
    windows, (kernel, stride, padding, dilation, grid) = _pool_windows(
        x, kernel_size, stride, padding, dilation, ceil_mode, float("-inf"), "max_pool2d")
    y = _to_image(amax(windows, 1), x.shape[0], grid)
    if not return_indices:
        return y
    return y, Tensor(_max_indices(windows.data, x.shape, kernel, stride, padding, dilation, grid))


def _max_indices(windows, shape, kernel, stride, padding, dilation, grid):
    """The flat index h W + w in the unpadded image of each window's (first) maximum, (N, C, Ho, Wo)."""
    xp = backend.array_module(windows)
    n, _, _, w = shape
    offset = windows.argmax(axis=1).reshape(-1, grid[0], grid[1], n)  # k-th element of the window, row-major
    rows = xp.arange(grid[0]).reshape(-1, 1, 1) * stride[0] + offset // kernel[1] * dilation[0] - padding[0]
    columns = xp.arange(grid[1]).reshape(1, -1, 1) * stride[1] + offset % kernel[1] * dilation[1] - padding[1]
    return (rows * w + columns).transpose(3, 0, 1, 2).astype(xp.int64)


@accepts_one_image
@backend.on_data_device
def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean of each window, as PyTorch: the sum divided by divisor_override when given, else by the
    window's positions inside the padded image (count_include_pad=True) or inside the image itself
    (False); positions that ceil_mode adds past the padding never count."""
    windows, (kernel, stride, padding, _, grid) = _pool_windows(
        x, kernel_size, stride, padding, 1, ceil_mode, 0.0, "avg_pool2d")
    total = _to_image(sum(windows, 1), x.shape[0], grid)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) or divisor_override < 1:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
        return total / divisor_override
    xp = backend.array_module(x.data)
    counts = [_counted(xp, g, k, s, p, n, count_include_pad)
              for g, k, s, p, n in zip(grid, kernel, stride, padding, x.shape[2:])]
    return total / Tensor((counts[0].reshape(-1, 1) * counts[1]).astype(x.dtype))  # windows are separable


def _counted(xp, grid, kernel, stride, padding, size, count_include_pad):
    """How many positions of each window along one dim count in the mean."""
    start = xp.arange(grid) * stride - padding  # in unpadded coordinates
    low, high = (-padding, size + padding) if count_include_pad else (0, size)
    return xp.minimum(start + kernel, high) - xp.maximum(start, low)


class MaxUnpool(Function):
    def forward(self, x, index, shape):
        self.index = index
        out = backend.array_module(x).zeros(shape, dtype=x.dtype)
        out[index] = x  # each value back where max_pool2d found it
        return out

    def backward(self, gy):
        return GetItem.apply(gy, index=self.index)  # the gradient of each output position, read back


@accepts_one_image
@backend.on_data_device
def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d on its maxima: each value of x (N, C, H, W) is put at its flat
    index (from max_pool2d(..., return_indices=True)) in a zero image (N, C, Ho, Wo), with
    Ho = (H - 1) s - 2p + kH unless output_size (Ho, Wo), or (N, C, Ho, Wo), is given.
    The gradient reads each input's position back (PyTorch's gather)."""
    kernel = as_pair(kernel_size, "kernel_size", "max_unpool2d")
    stride = kernel if stride is None else as_pair(stride, "stride", "max_unpool2d")
    padding = as_pair(padding, "padding", "max_unpool2d")
    _check_image(x, "max_unpool2d")
    if indices.shape != x.shape or indices.dtype.kind not in "iu":
        raise ValueError(f"max_unpool2d: indices must be an integer tensor of the input's shape {tuple(x.shape)}, "
                         f"got {indices.dtype} of shape {tuple(indices.shape)}")
    n, c, h, w = x.shape
    default = tuple((length - 1) * s - 2 * p + k for length, s, p, k in zip((h, w), stride, padding, kernel))
    size = default if output_size is None else tuple(output_size)[-2:]
    if len(size) != 2 or any(not default_n - s < n < default_n + s for n, default_n, s in zip(size, default, stride)):
        raise ValueError(f"max_unpool2d: output_size {output_size!r} must be (H, W) within the stride {stride} of "
                         f"{default} (the size max_pool2d came from)")
    if indices.data.size and (indices.data.min() < 0 or indices.data.max() >= size[0] * size[1]):
        raise IndexError(f"max_unpool2d: indices must be in [0, {size[0] * size[1]}) for an output of size {size}, "
                         f"got values from {int(indices.data.min())} to {int(indices.data.max())}")
    xp = backend.array_module(x.data)
    index = (xp.arange(n).reshape(-1, 1, 1), xp.arange(c).reshape(1, -1, 1), indices.data.reshape(n, c, h * w))
    flat = MaxUnpool.apply(reshape(x, (n, c, h * w)), index=index, shape=(n, c, size[0] * size[1]))
    return reshape(flat, (n, c) + size)
