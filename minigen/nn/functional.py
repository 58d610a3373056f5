"""Functions behind the layers, and the losses (``import minigen.nn.functional as F``).

Everything here is composed from minigen's differentiable ops, so gradients of every
order come for free (a gradient penalty through batch_norm or cross_entropy just works).

Losses take ``reduction="mean" | "sum" | "none"`` (in PyTorch's slot, after the deprecated
size_average and reduce, which must stay None) and check that input and target fit together,
naming both shapes when they do not.
"""
import math

import numpy as np

from minigen import backend
from minigen.autograd import Tensor, mark_written
from minigen.creation import rand
from minigen import ops
from minigen.ops import (
    abs, broadcast_to, log, log_softmax, mean, pad, permute, reshape, sigmoid, softmax, softplus, sqrt, sum, tanh,
    where)
from minigen.ops.batchnorm import BatchNorm
from minigen.ops.conv import avg_pool2d, conv2d, conv_transpose2d, max_pool2d
from minigen.ops.options import unsupported

__all__ = [
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "batch_norm", "dropout", "upsample", "pad",
    "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "softmax", "log_softmax",
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy"]


# ------------------------------------------------------------------ layers as functions
def linear(x, weight, bias=None):
    """x W^T + b. x: (..., in); weight: (out, in); bias: (out,) or None. Returns (..., out)."""
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(x.shape)} does not fit a weight of shape "
                         f"{tuple(weight.shape)}: expected input of shape (..., {weight.shape[-1]})")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)} does not match {weight.shape[0]} outputs")
    y = x @ weight.T
    return y if bias is None else y + bias


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) of x: (N, C, ...) over all other dims.

    training=True: with the batch's mean and biased variance; the running statistics
    (when not None) move towards the batch's, the variance unbiased (n / (n - 1)):
        running <- (1 - momentum) running + momentum batch          (in place, not recorded)
    training=False: with running_mean and running_var.
    Then y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias (C,) or None.
    Training mode runs as one Function whose backward is the closed form, in Tensor ops
    (minigen/ops/batchnorm.py); eval mode as (x - mean) * scale + bias with
    scale = weight / sqrt(var + eps) per channel.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got shape {tuple(x.shape)}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)}, expected ({channels},) for input "
                             f"of shape {tuple(x.shape)}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: training=False needs running_mean and running_var")
    count = x.data.size // max(channels, 1)  # values per channel
    if training and count < 2:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                         f"{tuple(x.shape)}")
    if training:
        return _batch_norm_training(x, running_mean, running_var, weight, bias, momentum, eps)
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    scale = 1 / sqrt(reshape(running_var, per_channel) + eps)  # per channel: the full-size work is -, *, +
    if weight is not None:
        scale = scale * reshape(weight, per_channel)
    y = (x - reshape(running_mean, per_channel)) * scale
    return y if bias is None else y + reshape(bias, per_channel)


@backend.on_data_device  # raw arrays below: made on the input's device
def _batch_norm_training(x, running_mean, running_var, weight, bias, momentum, eps):
    """With the batch's statistics, by the fused BatchNorm Function (its backward is the closed form)."""
    xp, channels = backend.array_module(x.data), x.shape[1]
    dims = (0,) + tuple(range(2, x.ndim))
    batch_mean = x.data.mean(axis=dims, keepdims=True)
    centered = x.data - batch_mean
    batch_var = (centered * centered).mean(axis=dims, keepdims=True)  # biased, as in the normalization
    count = x.data.size // channels
    if running_mean is not None:
        running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * batch_mean.reshape(-1)
        mark_written(running_mean)
    if running_var is not None:
        unbiased = batch_var.reshape(-1) * (count / (count - 1))
        running_var.data[...] = (1 - momentum) * running_var.data + momentum * unbiased
        mark_written(running_var)
    weight = weight if weight is not None else Tensor(xp.ones(channels, dtype=x.dtype))
    bias = bias if bias is not None else Tensor(xp.zeros(channels, dtype=x.dtype))
    return BatchNorm.apply(x, weight, bias, centered=centered, batch_var=batch_var, eps=eps)


def _check_probability(p, op):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p!r}")


def relu(input, inplace=False):
    """max(x, 0) (torch.nn.functional.relu; inplace=True is not implemented)."""
    unsupported("relu", inplace=(inplace, False))
    return ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope x otherwise (inplace=True is not implemented)."""
    unsupported("leaky_relu", inplace=(inplace, False))
    return ops.leaky_relu(input, negative_slope)


def dropout(x, p=0.5, training=True, inplace=False):
    """Inverted dropout: each element is zeroed with probability p and the others are scaled by
    1 / (1 - p), so the expected output is x. The identity when not training. The mask comes
    from minigen's seeded stream (the same on every device). inplace=True is not implemented."""
    _check_probability(p, "dropout")
    unsupported("dropout", inplace=(inplace, False))
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = rand(*x.shape, dtype=x.dtype, device=x.device) >= p
    return x * (keep.to(x.dtype) / (1 - p))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Nearest-neighbour upsampling by integer factors: each value of input (N, C, *spatial)
    becomes a block of copies, scale_factor along each spatial dim.

    Give one of ``size`` (the output's spatial size, a whole multiple of the input's) and
    ``scale_factor`` (a whole number such as 2 or 2.0, or one per spatial dim). Built from
    reshape and broadcast_to, so its gradient sums each block (the adjoint). Other modes
    and align_corners raise NotImplementedError.
    """
    unsupported("upsample", mode=(mode, "nearest"), align_corners=(align_corners, None))
    if input.ndim < 3:
        raise ValueError(f"upsample: expected input of shape (N, C, *spatial), got shape {tuple(input.shape)}")
    spatial = input.shape[2:]
    scales = _upsample_scales(spatial, size, scale_factor, tuple(input.shape))
    lead = input.shape[:2]
    gaps = lead + tuple(d for n in spatial for d in (n, 1))                      # (N, C, H, 1, W, 1)
    blocks = lead + tuple(d for n, s in zip(spatial, scales) for d in (n, s))   # (N, C, H, s, W, s)
    return reshape(broadcast_to(reshape(input, gaps), blocks), lead + tuple(n * s for n, s in zip(spatial, scales)))


def _upsample_scales(spatial, size, scale_factor, shape):
    """The whole scale of each spatial dim, from ``size`` or ``scale_factor`` (exactly one given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"upsample: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial)
        if len(sizes) != len(spatial) or any(not isinstance(s, int) or s < n or s % n for s, n in zip(sizes, spatial)):
            raise ValueError(f"upsample: size must be {len(spatial)} whole multiples of the input's spatial size "
                             f"{spatial} (only integer scales are implemented), got {size!r}")
        return tuple(s // n for s, n in zip(sizes, spatial))
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * len(spatial)
    whole = [isinstance(s, (int, float)) and not isinstance(s, bool) and s >= 1 and float(s).is_integer()
             for s in scales]
    if len(scales) != len(spatial) or not all(whole):
        raise ValueError(f"upsample: scale_factor must be a positive whole number or {len(spatial)} of them for "
                         f"input of shape {shape} (only integer scales are implemented), got {scale_factor!r}")
    return tuple(int(s) for s in scales)


# ------------------------------------------------------------------ losses: shared checks
REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op, size_average=None, reduce=None):
    """``reduction`` one of REDUCTIONS; PyTorch's deprecated size_average and reduce left at None."""
    unsupported(op, size_average=(size_average, None), reduce=(reduce, None))
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _check_same_shape(input, target, op):
    if input.shape != target.shape:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} "
                         "must have the same shape")


# ------------------------------------------------------------------ regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, elementwise, then reduced (weight: NotImplementedError)."""
    _check_reduction(reduction, "mse_loss", size_average, reduce)
    unsupported("mse_loss", weight=(weight, None))
    _check_same_shape(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, elementwise, then reduced (weight: NotImplementedError)."""
    _check_reduction(reduction, "l1_loss", size_average, reduce)
    unsupported("l1_loss", weight=(weight, None))
    _check_same_shape(input, target, "l1_loss")
    return _reduce(abs(input - target), reduction)


# ------------------------------------------------------------------ binary classification
_LOG_FLOOR = -100.0  # PyTorch clamps the logs of BCE here, so p = 0 costs 100, not inf


@backend.on_data_device
def _clamped_log(p):
    """max(ln p, -100), with a finite (zero) gradient where the floor applies, p = 0 included.
    The inner where keeps log away from 0, so no inf * 0 appears in the backward."""
    above = Tensor(p.data > math.exp(_LOG_FLOOR))
    return where(above, log(where(above, p, 1.0)), _LOG_FLOOR)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y ln p + (1 - y) ln(1 - p)) for probabilities p = input in [0, 1], each log
    clamped at -100 as PyTorch does; w = weight (broadcast to input) or 1.
    For logits, binary_cross_entropy_with_logits is stabler."""
    _check_reduction(reduction, "binary_cross_entropy", size_average, reduce)
    _check_same_shape(input, target, "binary_cross_entropy")
    if not ((input.data >= 0) & (input.data <= 1)).all():  # NaN fails both, as in PyTorch's check
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1], not NaN "
                         "(apply sigmoid first, or use binary_cross_entropy_with_logits)")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """BCE of sigmoid(x) for logits x = input, without forming sigmoid:

        -(y ln sigma(x) + (1 - y) ln(1 - sigma(x))) = softplus(x) - x y
                                                    = max(x, 0) - x y + ln(1 + e^-|x|)
    softplus computes the last form, so |x| = 1000 is fine; its derivative is sigma(x) - y.
    weight (broadcast to input) multiplies each term; pos_weight is not implemented.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits", size_average, reduce)
    unsupported("binary_cross_entropy_with_logits", pos_weight=(pos_weight, None))
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    loss = softplus(input) - input * target
    return _reduce(loss if weight is None else loss * weight, reduction)


# ------------------------------------------------------------------ multi-class classification
@backend.on_data_device  # raw arrays below: made on the input's device
def _check_class_targets(input, target, op, ignore_index=None):
    """input (N, C, d1, ...) with class scores on dim 1; target (N, d1, ...) of ints in [0, C),
    or ``ignore_index``. Returns the mask of the positions that count (raw array)."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (an integer tensor), got dtype {target.dtype}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, ...), got shape {tuple(input.shape)}")
    if target.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} (N, C, ...) and target of shape "
                         f"{tuple(target.shape)} do not fit: expected target of shape "
                         f"{tuple(input.shape[:1] + input.shape[2:])}")
    classes, keep = input.shape[1], target.data != ignore_index
    used = target.data[keep]
    if used.size and (used.min() < 0 or used.max() >= classes):
        raise IndexError(f"{op}: target holds class indices from {int(used.min())} to {int(used.max())}, "
                         f"outside [0, {classes})" + (f" (ignore_index is {ignore_index})" if ignore_index is not None
                                                      else ""))
    return keep


@backend.on_data_device
def _pick(values, target):
    """values[n, target[n, d...], d...]: the entry of each position's target class."""
    classes_last = permute(values, (0,) + tuple(range(2, values.ndim)) + (1,))
    rows = reshape(classes_last, (-1, values.shape[1]))
    xp = backend.array_module(target.data)
    picked = rows[xp.arange(rows.shape[0]), target.data.reshape(-1)]
    return reshape(picked, target.shape)


def _class_weights(weight, input, op):
    """``weight`` (C,) as a raw array of input's dtype and device, or None."""
    if weight is None:
        return None
    if isinstance(weight, Tensor) and weight.device != input.device:
        raise RuntimeError(f"{op}: weight is on {weight.device} but the input is on {input.device}; "
                           "move it with .to(device)")
    w = weight.data if isinstance(weight, Tensor) else backend.to_device(np.asarray(weight), input.device)
    if w.shape != (input.shape[1],):
        raise ValueError(f"{op}: weight must hold one number per class, shape ({input.shape[1]},), got shape {w.shape}")
    return w.astype(input.dtype, copy=False)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-w[t] input[n, t] with t = target[n], for log-probabilities input (N, C) or (N, C, d1, ...)
    and class indices target (N,) or (N, d1, ...); w = weight (C,), or 1 for every class.

    As PyTorch: a position whose target is ``ignore_index`` counts 0, and "mean" divides the
    sum by the weights of the positions that count, sum_n w[t_n] (their number, unweighted).
    """
    _check_reduction(reduction, "nll_loss", size_average, reduce)
    return _weighted_nll(input, target, weight, ignore_index, reduction, "nll_loss")


@backend.on_data_device  # raw arrays below: made on the input's device
def _weighted_nll(log_probs, target, weight, ignore_index, reduction, op):
    keep = _check_class_targets(log_probs, target, op, ignore_index)
    xp, w = backend.array_module(keep), _class_weights(weight, log_probs, op)
    target = Tensor(xp.where(keep, target.data, 0))  # any class where ignored: its weight is 0
    weights = keep.astype(log_probs.dtype) if w is None else w[target.data] * keep  # w[t_n], 0 where ignored
    loss = -_pick(log_probs, target) * Tensor(weights)
    if reduction != "mean":
        return _reduce(loss, reduction)
    total = weights.sum()
    # nothing counts (every target ignored): PyTorch's 0/0 = nan, yet a zero gradient, so a step changes nothing
    return sum(loss) / Tensor(total) if total else sum(loss) + float("nan")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """-w[t] log softmax(input)[t]: input holds logits (N, C) or (N, C, d1, ...), classes on dim 1.

    target: class indices (N,) or (N, d1, ...) (then weight and ignore_index as nll_loss), or
    class probabilities of input's shape (then the loss is -sum_c w_c target_c log
    softmax(input)_c, and "mean" divides by the number of positions, as PyTorch).
    label_smoothing is not implemented (NotImplementedError unless 0).
    """
    _check_reduction(reduction, "cross_entropy", size_average, reduce)
    unsupported("cross_entropy", label_smoothing=(label_smoothing, 0.0))
    if input.ndim < 2:
        raise ValueError(f"cross_entropy: expected input of shape (N, C, ...), got shape {tuple(input.shape)}")
    if target.dtype.kind != "f":
        return _weighted_nll(log_softmax(input, dim=1), target, weight, ignore_index, reduction, "cross_entropy")
    _check_same_shape(input, target, "cross_entropy")
    w = _class_weights(weight, input, "cross_entropy")
    per_class = target if w is None else target * Tensor(w.reshape((1, -1) + (1,) * (input.ndim - 2)))
    return _reduce(-sum(per_class * log_softmax(input, dim=1), dim=1), reduction)
