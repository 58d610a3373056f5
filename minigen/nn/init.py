"""Weight initialization, in place (PyTorch's ``torch.nn.init``).

Each function overwrites ``tensor.data`` with numbers from minigen's one seeded stream
(``minigen.manual_seed``), drawn on the host, so a model starts the same on every device.
Nothing is recorded for autograd. Each returns the tensor it filled.

The scaled ones keep the variance of activations steady from layer to layer:

    xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming (He):     std = gain / sqrt(fan)           fan = fan_in or fan_out
    uniform versions draw from U(-bound, bound) with bound = sqrt(3) * std (the same variance)
"""
import math

from minigen.autograd import no_grad
from minigen.ops.options import unsupported


# ------------------------------------------------------------------ gains and fans
_UNIT_GAIN = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The factor by which ``nonlinearity`` shrinks the standard deviation, to undo in the init:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for
    leaky_relu with negative slope a (``param``, default 0.01)."""
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_UNIT_GAIN + ('tanh', 'relu', 'leaky_relu'))}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight, as PyTorch counts them: for a weight of shape
    (d0, d1, k1, k2, ...) the receptive field is k1 k2 ..., fan_in = d1 * field and
    fan_out = d0 * field. (So a Linear weight (out, in) has fan_in = in.)"""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dims, got shape {tuple(tensor.shape)}")
    field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * field, tensor.shape[0] * field


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ------------------------------------------------------------------ plain fills
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b), from minigen's seeded stream (a generator: NotImplementedError)."""
    unsupported("uniform_", generator=(generator, None))
    with no_grad():
        return tensor.uniform_(a, b)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2), from minigen's seeded stream (a generator: NotImplementedError)."""
    unsupported("normal_", generator=(generator, None))
    with no_grad():
        return tensor.normal_(mean, std)


def constant_(tensor, val):
    """Fill with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


# ------------------------------------------------------------------ scaled to the layer's size
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is the negative
    slope of the leaky_relu that follows. PyTorch's layers use a = sqrt(5), which gives
    bound = 1 / sqrt(fan_in)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)), generator)
