"""Normalization layers: BatchNorm1d for (N, C) or (N, C, L), BatchNorm2d for (N, C, H, W);
InstanceNorm2d (per image and channel) and LayerNorm (per example, over its last dims).

In training mode a layer normalizes with the batch's statistics and moves its running
statistics (buffers, saved in state_dict) towards them; in eval mode it uses the running
statistics, so one example gives the same answer whatever batch it comes in.
"""
import numpy as np

from minigen.checks import check_int
from minigen.creation import ones, tensor, zeros
from minigen.nn import functional as F
from minigen.nn.module import Module, Parameter
from minigen.ops import unsqueeze


class _BatchNorm(Module):
    """PyTorch's BatchNorm: y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1).

    momentum: weight of the newest batch in the running averages; None for a plain
    average over all batches so far (1 / num_batches_tracked).
    affine: learn weight (starts at 1) and bias (starts at 0).
    track_running_stats: keep running_mean, running_var and num_batches_tracked; without
    them the batch statistics are used in eval mode too.
    """

    input_dims = ()  # the numbers of dims a subclass accepts
    input_shapes = ""  # the same, said for the error message

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None):
        super().__init__()
        check_int(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(ones(num_features)) if affine else None)
        self.register_parameter("bias", Parameter(zeros(num_features)) if affine else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", zeros(num_features) if tracked else None)
        self.register_buffer("running_var", ones(num_features) if tracked else None)
        self.register_buffer("num_batches_tracked", tensor(0, dtype=np.int64) if tracked else None)
        self.to(device=device, dtype=dtype)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")

    def forward(self, x):
        if x.ndim not in self.input_dims or x.shape[1] != self.num_features:
            shapes = self.input_shapes.format(C=self.num_features)
            raise ValueError(f"{self!r}: expected input of shape {shapes}, got shape {tuple(x.shape)}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:  # a cumulative average: the k-th batch gets weight 1/k
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats,
                            momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    input_dims = (2, 3)
    input_shapes = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    input_dims = (4,)
    input_shapes = "(N, {C}, H, W)"


class InstanceNorm2d(_BatchNorm):
    """Each channel of each image normalized over its H x W values (pix2pix, style transfer):
    x (N, C, H, W) or (C, H, W). PyTorch's defaults: affine=False, track_running_stats=False;
    with running statistics, eval mode uses them (their updates do not count num_batches_tracked).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False):
        super().__init__(num_features, eps, momentum, affine, track_running_stats)

    def forward(self, x):
        if x.ndim not in (3, 4) or x.shape[-3] != self.num_features:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_features}, H, W) or "
                             f"({self.num_features}, H, W), got shape {tuple(x.shape)}")
        batched = x if x.ndim == 4 else unsqueeze(x, 0)
        y = F.instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y if x.ndim == 4 else y[0]


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last dims of x, those of
    ``normalized_shape``, for each example: x (..., *normalized_shape).

    elementwise_affine: learn weight (starts at 1) and, when bias=True, bias (starts at 0).
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        for k, n in enumerate(shape):
            check_int("LayerNorm", f"normalized_shape[{k}]", n)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.register_parameter("weight", Parameter(ones(*shape)) if elementwise_affine else None)
        self.register_parameter("bias", Parameter(zeros(*shape)) if elementwise_affine and bias else None)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
