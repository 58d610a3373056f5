"""Changing the size of images, for minigen.nn.functional: pad (constant, reflect, replicate),
interpolate (nearest, bilinear) and adaptive_avg_pool2d.

Each resampling is linear and separable: along each spatial dim, output = R @ input for a
matrix R (out, in) that depends only on the sizes. Bilinear interpolation and adaptive average
pooling are the products R_h @ x @ R_w^T, so their gradients (R^T @ g, every order) come from
matmul; nearest and the non-constant paddings pick entries by index (a gather, whose adjoint
adds back).
"""
import math

import numpy as np

from minigen import backend
from minigen.autograd import Tensor
from minigen.ops import broadcast_to, matmul, pad as constant_pad, reshape


# ------------------------------------------------------------------ padding
PAD_MODES = ("constant", "reflect", "replicate")


@backend.on_data_device
def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) / 2 dims, PyTorch's order: pad = (left, right, top, bottom, front, back).

    mode "constant" fills with value (0 by default); "reflect" mirrors without repeating the edge
    (each pad smaller than its dim); "replicate" repeats the edge. The last two pad 1 to 3 dims
    of a batched or unbatched input (2 to 5 dims).
    """
    pad = tuple(pad)
    if mode not in PAD_MODES:
        raise NotImplementedError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if mode == "constant":
        return constant_pad(input, pad, value=0.0 if value is None else value)
    if value is not None:
        raise ValueError(f"pad: value={value!r} only applies to mode='constant', got mode={mode!r}")
    k = len(pad) // 2
    if len(pad) % 2 or not 1 <= k <= 3 or input.ndim not in (k + 1, k + 2) or any(
            isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pad):
        raise ValueError(f"pad: mode {mode!r} takes 2, 4 or 6 non-negative ints for the last 1, 2 or 3 dims of a "
                         f"{k + 1}- or {k + 2}-dim input, got pad {pad} for input of shape {tuple(input.shape)}")
    for j in range(k):
        dim = input.ndim - 1 - j
        before, after = pad[2 * j], pad[2 * j + 1]
        if mode == "reflect" and max(before, after) >= input.shape[dim]:
            raise ValueError(f"pad: reflect padding {(before, after)} must be smaller than dim {dim}'s size "
                             f"{input.shape[dim]} (input of shape {tuple(input.shape)})")
        input = input[(slice(None),) * dim + (_pad_index(input.shape[dim], before, after, mode),)]
    return input


def _pad_index(n, before, after, mode):
    """The source of each padded position along a dim of size n."""
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)  # the edge, repeated
    return n - 1 - np.abs(n - 1 - np.abs(i))  # mirrored at 0 and at n - 1


# ------------------------------------------------------------------ interpolation
INTERPOLATE_MODES = ("nearest", "bilinear")


@backend.on_data_device
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of input (N, C, *spatial) to ``size``, or to floor(n * scale_factor).

    "nearest" (1 to 3 spatial dims): output position d takes input min(floor(d * s), n - 1), s = n / size
    or 1 / scale_factor (float32 arithmetic, as PyTorch).
    "bilinear" (N, C, H, W): along each dim, output d reads the source point
        align_corners=False:  u = max((d + 0.5) s - 0.5, 0)     (pixel centres line up)
        align_corners=True:   u = d (n - 1) / (size - 1)        (corner pixels line up)
    and mixes its two neighbours, (1 - (u - floor u)) x[floor u] + (u - floor u) x[floor u + 1].
    recompute_scale_factor=True computes s from the output size even when scale_factor is given.
    """
    if mode not in INTERPOLATE_MODES:
        raise NotImplementedError(f"interpolate: mode must be one of {INTERPOLATE_MODES}, got {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners can only be set with mode='bilinear'")
    if (mode == "bilinear" and input.ndim != 4) or not 3 <= input.ndim <= 5:
        raise ValueError(f"interpolate: mode {mode!r} expects input of shape "
                         f"{'(N, C, H, W)' if mode == 'bilinear' else '(N, C, *spatial), 1 to 3 spatial dims'}, "
                         f"got shape {tuple(input.shape)}")
    spatial = input.shape[2:]
    sizes, scales = _output_sizes(spatial, size, scale_factor)
    if recompute_scale_factor:
        scales = (None,) * len(spatial)
    if mode == "nearest" and all(out % n == 0 and scale in (None, out // n) for n, out, scale in
                                 zip(spatial, sizes, scales)):
        return _repeat_blocks(input, tuple(out // n for n, out in zip(spatial, sizes)))
    if mode == "nearest":
        for dim, (n, out, scale) in enumerate(zip(spatial, sizes, scales), start=2):
            input = input[(slice(None),) * dim + (_nearest_index(n, out, scale),)]
        return input
    rows, columns = (_constant(_bilinear_matrix(n, out, scale, bool(align_corners)), input)
                     for n, out, scale in zip(spatial, sizes, scales))
    return _separable(input, rows, columns)


def _repeat_blocks(x, factors):
    """Nearest upsampling by whole factors, fast: each value becomes a block of copies, by reshape and
    broadcast_to (its gradient sums each block), where the gather in interpolate adds one by one."""
    lead, spatial = x.shape[:2], x.shape[2:]
    gaps = lead + tuple(d for n in spatial for d in (n, 1))                       # (N, C, H, 1, W, 1)
    blocks = lead + tuple(d for n, k in zip(spatial, factors) for d in (n, k))   # (N, C, H, k, W, k)
    return reshape(broadcast_to(reshape(x, gaps), blocks), lead + tuple(n * k for n, k in zip(spatial, factors)))


def _output_sizes(spatial, size, scale_factor):
    """The output's spatial sizes, and the scale factors given (None where the size was given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        sizes = (size,) * len(spatial) if isinstance(size, int) else tuple(size)
        if len(sizes) != len(spatial) or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
            raise ValueError(f"interpolate: size must be a positive int or {len(spatial)} of them, got {size!r}")
        return sizes, (None,) * len(spatial)
    scales = (scale_factor,) * len(spatial) if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scales) != len(spatial) or any(isinstance(s, bool) or not isinstance(s, (int, float)) or s <= 0
                                          for s in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {len(spatial)} of them, "
                         f"got {scale_factor!r}")
    sizes = tuple(math.floor(n * s) for n, s in zip(spatial, scales))
    if min(sizes) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} makes an empty output from {spatial}")
    return sizes, scales


def _nearest_index(n, out, scale):
    step = np.float32(n / out if scale is None else 1 / scale)
    return np.minimum(np.floor(np.arange(out, dtype=np.float32) * step).astype(np.int64), n - 1)


def _bilinear_matrix(n, out, scale, align_corners):
    """R (out, n): row d holds the two weights of output position d's neighbours."""
    d = np.arange(out, dtype=np.float64)
    if align_corners:
        u = d * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:
        u = np.maximum((d + 0.5) * (n / out if scale is None else 1 / scale) - 0.5, 0.0)
    low = np.minimum(u.astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    weight = u - low
    matrix = np.zeros((out, n))
    np.add.at(matrix, (np.arange(out), low), 1 - weight)
    np.add.at(matrix, (np.arange(out), high), weight)
    return matrix


def _constant(matrix, like):
    """A resampling matrix as a Tensor of like's dtype on like's device."""
    return Tensor(backend.to_device(matrix.astype(like.dtype), like.device))


def _separable(x, rows, columns):
    """rows @ x @ columns^T over the last two dims of x: (..., H, W) -> (..., Ho, Wo)."""
    return matmul(matmul(rows, x), columns.T)


# ------------------------------------------------------------------ adaptive pooling
@backend.on_data_device
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to output_size (Ho, Wo) (an int for both; None keeps that side) from any
    (N, C, H, W) or (C, H, W): output row i averages input rows floor(i H / Ho) to
    ceil((i + 1) H / Ho) - 1, PyTorch's windows (they overlap when Ho does not divide H)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected input of shape (N, C, H, W) or (C, H, W), got shape "
                         f"{tuple(input.shape)}")
    sizes = (output_size,) * 2 if output_size is None or isinstance(output_size, int) else tuple(output_size)
    spatial = input.shape[-2:]
    sizes = tuple(n if out is None else out for n, out in zip(spatial, sizes))
    if len(sizes) != 2 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
        raise ValueError(f"adaptive_avg_pool2d: output_size must be a positive int, None or a pair of them, "
                         f"got {output_size!r}")
    rows, columns = (_constant(_averaging_matrix(n, out), input) for n, out in zip(spatial, sizes))
    return _separable(input, rows, columns)


def _averaging_matrix(n, out):
    """A (out, n): row i is 1 / (end - start) on the window start = floor(i n / out) .. end = ceil((i + 1) n / out)."""
    i = np.arange(out)
    start, end = (i * n) // out, -(-(i + 1) * n // out)
    inside = (np.arange(n) >= start[:, None]) & (np.arange(n) < end[:, None])
    return inside / (end - start)[:, None]
