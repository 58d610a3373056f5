"""Layers with a spatial window over images (N, C, H, W) or (C, H, W): Conv2d, ConvTranspose2d, MaxPool2d,
AvgPool2d, MaxUnpool2d, AdaptiveAvgPool2d.

The arithmetic lives in ``minigen.ops.conv`` (im2col); these classes hold the weights and
settings, initialize like PyTorch, and check the input at the door.
"""
from minigen.creation import zeros
from minigen.nn import functional as F
from minigen.checks import check_int
from minigen.nn.layers import _default_init_
from minigen.nn.module import Module, Parameter
from minigen.ops.conv import _conv_padding, as_pair, output_size
from minigen.ops.options import unsupported


def _check_image(layer, x, channels=None):
    """x must be (N, channels, H, W) or one image (channels, H, W) (any C when channels is None)."""
    if x.ndim not in (3, 4) or (channels is not None and x.shape[-3] != channels):
        c = "C" if channels is None else channels
        raise ValueError(f"{layer!r}: expected input of shape (N, {c}, H, W) or ({c}, H, W), got shape "
                         f"{tuple(x.shape)}")


def _pairs(layer, **settings):
    """Each setting as a pair (height, width): sizes at least 1, paddings at least 0."""
    return [as_pair(value, name, layer) for name, value in settings.items()]


def _check_window(layer, x, kernel, stride, padding, dilation=(1, 1)):
    """The (dilated) window must fit at least once into the padded image (all arguments pairs)."""
    sizes = [output_size(n + 2 * p, k, s, d) for n, k, s, p, d in zip(x.shape[-2:], kernel, stride, padding, dilation)]
    if min(sizes) < 1:
        raise ValueError(f"{layer!r}: input of shape {tuple(x.shape)} is too small: the window {kernel} "
                         f"(dilation {dilation}) does not fit into the {x.shape[-2]}x{x.shape[-1]} image padded "
                         f"by {padding}")


class _Conv(Module):
    """Weights, settings and repr shared by Conv2d and ConvTranspose2d."""

    transposed = False  # the weight is (in, out / groups, kH, kW) instead of (out, in / groups, kH, kW)

    def __init__(self, in_channels, out_channels, groups, bias, padding_mode, device, dtype, padding, **settings):
        super().__init__()
        name = type(self).__name__
        for size, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            check_int(name, size, value)
        unsupported(name, padding_mode=(padding_mode, "zeros"))
        for channels, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if n % groups:
                raise ValueError(f"{name}: {channels} must be divisible by groups, got {n} and groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        for setting, pair in zip(settings, _pairs(name, **settings)):  # kernel_size, stride, ... as pairs
            setattr(self, setting, pair)
        _conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)  # raises for a wrong one
        self.padding = padding if isinstance(padding, str) else as_pair(padding, "padding", name)
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(zeros(*channels, *self.kernel_size))
        self.register_parameter("bias", Parameter(zeros(out_channels)) if bias else None)
        _default_init_(self.weight, self.bias)
        self.to(device=device, dtype=dtype)

    def extra_repr(self):
        """PyTorch's text: settings at their defaults are left out."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_Conv):
    """2-D convolution: x (N, in_channels, H, W) -> (N, out_channels, Ho, Wo),
    Ho = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1.

    weight: (out_channels, in_channels / groups, kH, kW); bias: (out_channels,) or None. Both start
    uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)], fan_in = in_channels / groups kH kW (PyTorch's default).
    kernel_size, stride, dilation: an int or a pair (height, width); padding: the same, or "valid"
    (none) or "same" (Ho, Wo = H, W; stride 1 only). groups: channels split into that many groups
    that never meet. padding_mode: "zeros" only; device and dtype as ``to``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, groups, bias, padding_mode, device, dtype, padding,
                         kernel_size=kernel_size, stride=stride, dilation=dilation)

    def forward(self, x):
        _check_image(self, x, self.in_channels)
        if self.padding != "same":  # "same" keeps the size
            padding = (0, 0) if self.padding == "valid" else self.padding
            _check_window(self, x, self.kernel_size, self.stride, padding, self.dilation)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_Conv):
    """The transpose (adjoint) of Conv2d, an upsampling layer: x (N, in_channels, H, W) ->
    (N, out_channels, Ho, Wo), Ho = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.

    weight: (in_channels, out_channels / groups, kH, kW), as PyTorch's; bias: (out_channels,) or None.
    Initialized as PyTorch does, which counts fan_in = out_channels / groups kH kW for this shape.
    """

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, groups, bias, padding_mode, device, dtype, padding,
                         kernel_size=kernel_size, stride=stride, output_padding=output_padding, dilation=dilation)

    def forward(self, x):
        _check_image(self, x, self.in_channels)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)


class _Pool2d(Module):
    """Settings shared by the pooling layers; stride defaults to kernel_size (windows that do not overlap)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, **options):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        for name, value in options.items():  # ceil_mode, return_indices, ...: passed on as they are
            setattr(self, name, value)
        self._window = _pairs(type(self).__name__, kernel_size=kernel_size, stride=self.stride, padding=padding,
                              dilation=dilation)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x):
        _check_image(self, x)
        _check_window(self, x, *self._window)
        return self.pool(x)


class MaxPool2d(_Pool2d):
    """The largest value of each kernel_size window: (N, C, H, W) -> (N, C, Ho, Wo), or (C, H, W) -> (C, Ho, Wo).
    return_indices=True also returns the flat positions of the maxima (for MaxUnpool2d)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, return_indices=return_indices, ceil_mode=ceil_mode)

    def extra_repr(self):  # PyTorch's text
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"

    def pool(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size window; count_include_pad: zero padding counts in the mean (PyTorch's
    default); divisor_override: divide every window's sum by this instead."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                         divisor_override=divisor_override)

    def pool(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class MaxUnpool2d(Module):
    """Each value back at the position max_pool2d took it from, zeros elsewhere:
    (N, C, H, W) and its indices -> (N, C, Ho, Wo), Ho = (H - 1) stride - 2 padding + kH, or output_size."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        _pairs("MaxUnpool2d", kernel_size=kernel_size, stride=self.stride, padding=padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x, indices, output_size=None):
        _check_image(self, x)
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output_size (Ho, Wo) (an int for both; None keeps that side), whatever
    the input's: (N, C, H, W) -> (N, C, Ho, Wo), windows as PyTorch's (see F.adaptive_avg_pool2d)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"

    def forward(self, x):
        _check_image(self, x)
        return F.adaptive_avg_pool2d(x, self.output_size)
