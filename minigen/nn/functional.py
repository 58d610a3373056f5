"""Functions behind the layers, and the losses (``import minigen.nn.functional as F``).

Everything here is composed from minigen's differentiable ops, so gradients of every
order come for free (a gradient penalty through batch_norm or cross_entropy just works).
pad, interpolate and adaptive_avg_pool2d live in minigen/nn/resampling.py; the convolutions
and poolings in minigen/ops/conv.py.

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
    abs, clamp, erf, exp, log, log_softmax, mean, permute, reshape, sigmoid, softmax,
    softplus, sqrt, sum, tanh, unsqueeze, var, where)
from minigen.ops.batchnorm import BatchNorm
from minigen.ops.shape import broadcast_shape
from minigen.ops.conv import avg_pool2d, conv2d, conv_transpose2d, max_pool2d, max_unpool2d
from minigen.nn.resampling import adaptive_avg_pool2d, interpolate, pad
from minigen.suggest import suggesting_getattr
from minigen.ops.options import unsupported

__all__ = [
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "batch_norm", "dropout", "upsample",
    "max_unpool2d", "adaptive_avg_pool2d", "pad", "interpolate", "layer_norm", "instance_norm", "dropout2d",
    "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "softmax", "log_softmax", "gelu", "silu", "elu",
    "one_hot", "embedding",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy"]


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


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last dims, those of ``normalized_shape``, of each example:

        y = (x - mean) / sqrt(var + eps) * weight + bias,    var biased (Ba, Kiros and Hinton, 2016)
    input: (..., *normalized_shape); weight, bias: normalized_shape, or None.
    """
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not normalized_shape or input.shape[input.ndim - len(normalized_shape):] != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with normalized_shape "
                         f"{normalized_shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != normalized_shape:
            raise ValueError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected {normalized_shape}")
    y = _normalize(input, tuple(range(input.ndim - len(normalized_shape), input.ndim)), eps)
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalize each channel of each example over its spatial dims (Ulyanov et al., 2016):
    batch_norm of the (1, N*C, *spatial) view, so each (n, c) is a channel of its own.

    input: (N, C, *spatial); running_mean, running_var, weight, bias: (C,) or None.
    use_input_stats=True normalizes with each instance's statistics and moves the running
    statistics (when given) towards their mean over the batch; False uses the running statistics.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *spatial), got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"instance_norm: {name} has shape {tuple(t.shape)}, expected ({c},)")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    dims = tuple(range(2, input.ndim))
    if input.data.size // (n * c) < 2:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, got input of shape "
                         f"{tuple(input.shape)}")
    y = _normalize(input, dims, eps)
    if running_mean is not None:  # the batch's average of the per-instance statistics, as PyTorch
        running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * input.data.mean(axis=dims).mean(0)
        mark_written(running_mean)
    if running_var is not None:
        unbiased = input.data.var(axis=dims, ddof=1).mean(0)
        running_var.data[...] = (1 - momentum) * running_var.data + momentum * unbiased
        mark_written(running_var)
    per_channel = (1, c) + (1,) * len(dims)
    y = y if weight is None else y * reshape(weight, per_channel)
    return y if bias is None else y + reshape(bias, per_channel)


def _normalize(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over ``dims``, the variance biased."""
    return (x - mean(x, dims, keepdim=True)) / sqrt(var(x, dims, keepdim=True, correction=0) + eps)


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


def dropout2d(input, p=0.5, training=True):
    """Dropout of whole channels: each (n, c) feature map of input (N, C, H, W) (or (C, H, W), one
    image) is zeroed with probability p, the others scaled by 1 / (1 - p) (Tompson et al., 2015)."""
    _check_probability(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input of shape (N, C, H, W) or (C, H, W), got shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = rand(*input.shape[:-2], 1, 1, dtype=input.dtype, device=input.device) >= p  # one draw per channel
    return input * (keep.to(input.dtype) / (1 - p))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's older name for interpolate (minigen/nn/resampling.py), with the same arguments."""
    return interpolate(input, size, scale_factor, mode, align_corners)


# ------------------------------------------------------------------ activations
_GELU_TANH = math.sqrt(2 / math.pi)


def gelu(input, approximate="none"):
    """x Phi(x), Phi the standard normal CDF (Hendrycks and Gimpel, 2016):
        approximate="none":  0.5 x (1 + erf(x / sqrt 2))
        approximate="tanh":  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    """
    if approximate == "none":
        return 0.5 * input * (1 + erf(input / math.sqrt(2)))
    if approximate == "tanh":
        return 0.5 * input * (1 + tanh(_GELU_TANH * (input + 0.044715 * input ** 3)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """x sigmoid(x) (also called swish)."""
    _check_not_inplace(inplace, "silu")
    return input * sigmoid(input)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2015). exp sees min(x, 0), so a
    large x never makes an inf that the unused branch's gradient would multiply by 0."""
    _check_not_inplace(inplace, "elu")
    return where(input > 0, input, alpha * (exp(clamp(input, max=0.0)) - 1))


def _check_not_inplace(inplace, op):
    if inplace:
        raise NotImplementedError(f"{op}: inplace=True is not implemented (the result is a new tensor)")


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


def _clamped_log(p):
    """max(ln p, -100), with a finite (zero) gradient where the floor applies, p = 0 included.
    The inner where keeps log away from 0, so no inf * 0 appears in the backward."""
    above = Tensor(p.data > math.exp(_LOG_FLOOR))
    return where(above, log(where(above, p, 1.0)), _LOG_FLOOR)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y ln p + (1 - y) ln(1 - p)) for probabilities p = input in [0, 1], each log
    clamped at -100 as PyTorch does; weight w broadcasts to input (1 when None).
    For logits, binary_cross_entropy_with_logits is stabler."""
    _check_reduction(reduction, "binary_cross_entropy", size_average, reduce)
    _check_same_shape(input, target, "binary_cross_entropy")
    if not ((input.data >= 0) & (input.data <= 1)).all():  # NaN fails both, as in PyTorch's check
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1], not NaN "
                         "(apply sigmoid first, or use binary_cross_entropy_with_logits)")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(_weighted(loss, weight, "binary_cross_entropy"), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """BCE of sigmoid(x) for logits x = input, without forming sigmoid; with q = pos_weight
    (the weight of the positive term, per class on the last dim; 1 when None):

        -(q y ln sigma(x) + (1 - y) ln(1 - sigma(x))) = (1 + (q - 1) y) softplus(x) - q x y
    as ln sigma(x) = -softplus(-x) = x - softplus(x). softplus(x) = max(x, 0) + ln(1 + e^-|x|),
    so |x| = 1000 is fine. weight w multiplies the whole loss, broadcast to input.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits", size_average, reduce)
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = softplus(input) - input * target
    else:
        loss = (1 + (pos_weight - 1) * target) * softplus(input) - pos_weight * input * target
    return _reduce(_weighted(loss, weight, "binary_cross_entropy_with_logits"), reduction)


def _weighted(loss, weight, op):
    """loss * weight, weight broadcast to loss's shape (and not the other way)."""
    if weight is None:
        return loss
    if broadcast_shape(weight.shape, loss.shape, op) != loss.shape:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} does not broadcast to the input's "
                         f"{tuple(loss.shape)}")
    return loss * weight


# ------------------------------------------------------------------ distributions
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || q) pointwise for log-probabilities input = ln q, as PyTorch:

        target (ln target - input)        (0 where target = 0, its limit)
        e^target (target - input)         with log_target=True (target holds ln p)
    reduction "batchmean" divides the sum by the batch size input.shape[0], the true KL per
    example; "mean" divides by the number of elements (PyTorch's default, and a common slip).
    """
    unsupported("kl_div", size_average=(size_average, None), reduce=(reduce, None))
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    _check_same_shape(input, target, "kl_div")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = Tensor(target.data > 0)
        loss = where(positive, target * log(where(positive, target, 1.0)), 0.0) - target * input  # 0 ln 0 = 0
    if reduction == "batchmean":
        return sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ robust regression
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """d = input - target:  d^2 / 2 where |d| < delta, delta (|d| - delta / 2) beyond (quadratic near 0,
    linear in the tails, the two pieces meeting with equal slope at |d| = delta)."""
    _check_reduction(reduction, "huber_loss")
    unsupported("huber_loss", weight=(weight, None))
    _check_same_shape(input, target, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    d = input - target
    return _reduce(where(Tensor(backend.array_module(d.data).abs(d.data) < delta), 0.5 * d * d,
                         delta * (abs(d) - 0.5 * delta)), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """huber_loss / beta: d^2 / (2 beta) where |d| < beta, |d| - beta / 2 beyond; beta = 0 is l1_loss."""
    _check_reduction(reduction, "smooth_l1_loss", size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be at least 0, got {beta!r}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return huber_loss(input, target, reduction=reduction, delta=beta) / beta


# ------------------------------------------------------------------ multi-class classification
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


def _weighted_nll(log_probs, target, weight, ignore_index, reduction, op, label_smoothing=0.0):
    keep = _check_class_targets(log_probs, target, op, ignore_index)
    xp, w = backend.array_module(keep), _class_weights(weight, log_probs, op)
    target = Tensor(xp.where(keep, target.data, 0))  # any class where ignored: its weight is 0
    weights = keep.astype(log_probs.dtype) if w is None else w[target.data] * keep  # w[t_n], 0 where ignored
    loss = -_pick(log_probs, target) * Tensor(weights)
    if label_smoothing:  # (1 - eps) nll + (eps / C) sum_c -w_c ln p_c at each position that counts
        per_class = log_probs if w is None else log_probs * Tensor(w.reshape((1, -1) + (1,) * (log_probs.ndim - 2)))
        classes = log_probs.shape[1]
        loss = (1 - label_smoothing) * loss - (label_smoothing / classes) * sum(per_class, 1) * Tensor(
            keep.astype(log_probs.dtype))
    if reduction != "mean":
        return _reduce(loss, reduction)
    return _mean_over_weights(loss, weights)


def _mean_over_weights(loss, weights):
    """sum(loss) / sum(weights); when nothing counts (every target ignored), PyTorch's 0/0 = nan,
    yet a zero gradient, so a step changes nothing. Decided on the device, without a host read."""
    xp, total = backend.array_module(weights), weights.sum()
    counted = total > 0
    return sum(loss) / Tensor(xp.where(counted, total, 1)) + Tensor(xp.where(counted, 0.0, xp.nan).astype(loss.dtype))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """-w[t] log softmax(input)[t]: input holds logits (N, C) or (N, C, d1, ...), classes on dim 1,
    or (C,) for one example (then target is one index, or C probabilities).

    target: class indices (N,) or (N, d1, ...) (then weight and ignore_index as nll_loss), or
    class probabilities of input's shape (then the loss is -sum_c w_c target_c log
    softmax(input)_c, and "mean" divides by the number of positions, as PyTorch).
    label_smoothing eps in [0, 1]: the target becomes (1 - eps) target + eps / C, uniform mass
    on every class (Szegedy et al., 2016).
    """
    _check_reduction(reduction, "cross_entropy", size_average, reduce)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) or \
            not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    if input.ndim == 1:  # one example: a batch of one, and back
        loss = cross_entropy(unsqueeze(input, 0), unsqueeze(target, 0), weight, ignore_index=ignore_index,
                             reduction=reduction, label_smoothing=label_smoothing)
        return loss[0] if reduction == "none" else loss
    if input.ndim < 2:
        raise ValueError(f"cross_entropy: expected input of shape (N, C, ...) or (C,), got shape {tuple(input.shape)}")
    if target.dtype.kind != "f":
        return _weighted_nll(log_softmax(input, dim=1), target, weight, ignore_index, reduction, "cross_entropy",
                             label_smoothing)
    if tuple(target.shape) == tuple(input.shape[:1] + input.shape[2:]):
        raise ValueError(f"cross_entropy: target of shape {tuple(target.shape)} looks like class indices but has dtype "
                         f"{target.dtype}: convert it to integers (target.long()); a float target holds class "
                         f"probabilities of input's shape {tuple(input.shape)}")
    _check_same_shape(input, target, "cross_entropy")
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing / input.shape[1]
    w = _class_weights(weight, input, "cross_entropy")
    per_class = target if w is None else target * Tensor(w.reshape((1, -1) + (1,) * (input.ndim - 2)))
    return _reduce(-sum(per_class * log_softmax(input, dim=1), dim=1), reduction)


# ------------------------------------------------------------------ lookups
def one_hot(tensor, num_classes=-1):
    """Class indices (...) -> (..., num_classes) of 0 and 1 (int64, no gradient); num_classes=-1
    takes the largest index + 1."""
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {tensor.dtype}")
    indices = tensor.data
    classes = int(indices.max()) + 1 if num_classes == -1 and indices.size else num_classes
    if indices.size and (indices.min() < 0 or indices.max() >= classes):
        raise ValueError(f"one_hot: class indices must be in [0, {classes}), got values from {int(indices.min())} "
                         f"to {int(indices.max())}")
    xp = backend.array_module(indices)
    return Tensor((indices[..., None] == xp.arange(classes)).astype(xp.int64))


def embedding(input, weight, padding_idx=None):
    """Rows of weight (num_embeddings, dim) picked by the integer tensor input (...) -> (..., dim).
    The row padding_idx gets no gradient (its output is weight[padding_idx], fixed)."""
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected an integer tensor of indices, got dtype {input.dtype}")
    rows = weight.shape[0]
    low, high = (int(input.min().item()), int(input.max().item())) if input.data.size else (0, 0)
    if low < 0 or high >= rows:  # Tensor min/max: they run on the indices' device
        raise IndexError(f"embedding: indices must be in [0, {rows}), got values from {low} to {high}")
    picked = weight[input]
    if padding_idx is None:
        return picked
    padding = Tensor(input.data[..., None] == padding_idx % rows)
    return where(padding, weight.detach()[input], picked)


__getattr__ = suggesting_getattr(__name__, globals())


# Every public function runs on its input's device (backend.on_data_device): the code above makes raw
# arrays (masks, weights, index grids) that CuPy puts on the *current* device, which must be the input's.
for _name in __all__:
    globals()[_name] = backend.on_data_device(globals()[_name])
