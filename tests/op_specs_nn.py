"""Entries of the op-spec table (tests/op_specs.py) for minigen.nn.functional.

Imported at the end of op_specs.py, so tests/test_ops.py runs forward-vs-NumPy, gradcheck
and gradgradcheck on these too. Names are the public names in minigen.nn.functional.
Every loss draws its reduction from all three, so each path is differentiated twice.
"""
import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
import minigen.nn.functional as F
from op_specs import Case, _spec
from strategies import arrays, away_from_zero, positive, reals, shapes

REDUCTIONS = ("mean", "sum", "none")


def _np_reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


@st.composite
def channel_shapes(draw, min_values_per_channel=1):
    """(N, C) or (N, C, *spatial) with up to two spatial dims, small sides."""
    shape = draw(shapes(min_dims=2, max_dims=4, max_side=3))
    assume(int(np.prod(shape)) // shape[1] >= min_values_per_channel)
    return shape


# ------------------------------------------------------------------ layers as functions
@_spec("linear")
def _linear(draw):
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(arrays(draw(shapes(max_dims=2, max_side=3)) + (n_in,)))
    weight = draw(arrays((n_out, n_in)))
    if draw(st.booleans()):
        return Case([x, weight, draw(arrays((n_out,)))], F.linear, lambda x, w, b: x @ w.T + b, {"bias": True})
    return Case([x, weight], F.linear, lambda x, w: x @ w.T, {"bias": False})


def _np_normalize(x, mu, sigma2, weight, bias, eps):
    per_channel = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mu) / np.sqrt(sigma2 + eps)) * weight.reshape(per_channel) + bias.reshape(per_channel)


@_spec("batch_norm")
def _batch_norm_training(draw):
    shape = draw(channel_shapes(min_values_per_channel=2))
    dims = (0,) + tuple(range(2, len(shape)))
    x = draw(arrays(shape, reals(), unique=True))
    assume(np.var(x, axis=dims).min() > 0.05)  # a channel of (nearly) equal values is ill-conditioned
    weight, bias = draw(arrays((shape[1],))), draw(arrays((shape[1],)))

    def fn(x, weight, bias):  # fresh running statistics each call: updating them must not change y
        running = mg.zeros(shape[1], dtype=mg.float64, device=x.device), mg.ones(shape[1], dtype=mg.float64,
                                                                                   device=x.device)
        return F.batch_norm(x, *running, weight, bias, training=True, momentum=0.1, eps=1e-5)

    def ref(x, weight, bias):
        return _np_normalize(x, x.mean(dims, keepdims=True), x.var(dims, keepdims=True), weight, bias, 1e-5)
    return Case([x, weight, bias], fn, ref, {"training": True})


@_spec("batch_norm")
def _batch_norm_eval(draw):
    shape = draw(channel_shapes())
    c = shape[1]
    x, running_mean, running_var = draw(arrays(shape)), draw(arrays((c,))), draw(arrays((c,), positive(0.2, 3.0)))
    weight, bias = draw(arrays((c,))), draw(arrays((c,)))

    def fn(x, running_mean, running_var, weight, bias):
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=1e-5)

    def ref(x, running_mean, running_var, weight, bias):
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        return _np_normalize(x, running_mean.reshape(per_channel), running_var.reshape(per_channel), weight, bias,
                             1e-5)
    return Case([x, running_mean, running_var, weight, bias], fn, ref, {"training": False})


@_spec("dropout")
def _dropout(draw):
    """The mask comes from the seeded stream: reseeding inside fn gives the same mask on every
    call (gradcheck evaluates fn many times), and NumPy's generator with that seed reproduces it."""
    p, training, seed = draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])), draw(st.booleans()), draw(st.integers(0, 9))

    def fn(x):
        mg.manual_seed(seed)
        return F.dropout(x, p, training)

    def ref(x):
        if not training:
            return x
        keep = np.random.default_rng(seed).random(x.shape) >= p
        return x * keep / (1 - p) if p < 1 else x * 0
    return Case([draw(arrays(draw(shapes())))], fn, ref, {"p": p, "training": training, "seed": seed})


@_spec("upsample")
def _upsample(draw):
    shape = draw(shapes(min_dims=3, max_dims=4, max_side=3))
    scale = draw(st.one_of(st.integers(1, 3), st.tuples(*[st.integers(1, 3)] * (len(shape) - 2))))
    scales = (scale,) * (len(shape) - 2) if isinstance(scale, int) else scale

    def ref(x):
        for axis, s in enumerate(scales, start=2):
            x = np.repeat(x, s, axis=axis)
        return x
    return Case([draw(arrays(shape))], lambda x: F.upsample(x, scale_factor=scale), ref, {"scale_factor": scale})


# ------------------------------------------------------------------ losses
def _pointwise_loss(name, op, ref_elementwise, draw_pair):
    @_spec(name)
    def case(draw):
        reduction = draw(st.sampled_from(REDUCTIONS))
        input, target = draw_pair(draw, draw(shapes()))
        return Case([input, target], lambda x, y: op(x, y, reduction=reduction),
                    lambda x, y: _np_reduce(ref_elementwise(x, y), reduction), {"reduction": reduction})


def _any_pair(draw, shape):
    return draw(arrays(shape)), draw(arrays(shape))


def _apart_pair(draw, shape):
    """input and target never equal (|x - y| >= 0.05), off the kink of |x - y|."""
    x = draw(arrays(shape))
    return x, x - draw(arrays(shape, away_from_zero()))


def _probability_pair(draw, shape):
    return draw(arrays(shape, reals(0.05, 0.95))), draw(arrays(shape, reals(0.0, 1.0)))


def _logit_pair(draw, shape):
    return draw(arrays(shape, reals(-5, 5))), draw(arrays(shape, reals(0.0, 1.0)))


_pointwise_loss("mse_loss", F.mse_loss, lambda x, y: (x - y) ** 2, _any_pair)
_pointwise_loss("l1_loss", F.l1_loss, lambda x, y: np.abs(x - y), _apart_pair)
_pointwise_loss("binary_cross_entropy", F.binary_cross_entropy,
                lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)), _probability_pair)
_pointwise_loss("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
                lambda x, y: -(y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-x)))),
                _logit_pair)


def _np_log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _np_pick(values, target):
    """values[n, target[n, d...], d...] by brute force."""
    out = np.empty(target.shape)
    for index in np.ndindex(*target.shape):
        out[index] = values[(index[0], target[index]) + index[1:]]
    return out


@st.composite
def class_problems(draw):
    """Scores (N, C, *d) and integer targets (N, *d) in [0, C)."""
    shape = draw(shapes(min_dims=2, max_dims=3, max_side=3))
    target = draw(hnp.arrays(np.int64, shape[:1] + shape[2:], elements=st.integers(0, shape[1] - 1)))
    return draw(arrays(shape, reals(-4, 4))), target


def _class_loss(name, op, to_log_probabilities):
    @_spec(name)
    def case(draw):
        reduction = draw(st.sampled_from(REDUCTIONS))
        scores, target = draw(class_problems())
        return Case([scores, target], lambda x, t: op(x, t, reduction=reduction),
                    lambda x, t: _np_reduce(-_np_pick(to_log_probabilities(x), t), reduction),
                    {"reduction": reduction})


_class_loss("nll_loss", F.nll_loss, lambda x: x)
_class_loss("cross_entropy", F.cross_entropy, _np_log_softmax)


def _weighted_class_loss(name, op, to_log_probabilities):
    """Class weights, and targets of -1 ignored (at least one position counts)."""
    @_spec(name)
    def case(draw):
        reduction = draw(st.sampled_from(REDUCTIONS))
        scores, target = draw(class_problems())
        ignored = draw(hnp.arrays(bool, target.shape))
        ignored.flat[0] = False
        target = np.where(ignored, -1, target)
        weight = draw(arrays((scores.shape[1],), positive(0.1, 2.0)))

        def reference(x, t):  # -w[t_n] log p[n, t_n], 0 where ignored; mean over the kept weights
            w = np.where(ignored, 0.0, weight[np.where(ignored, 0, t)])
            loss = -_np_pick(to_log_probabilities(x), np.where(ignored, 0, t)) * w
            return loss.sum() / w.sum() if reduction == "mean" else _np_reduce(loss, reduction)
        return Case([scores, target], lambda x, t: op(x, t, mg.tensor(weight, device=x.device), ignore_index=-1, reduction=reduction),
                    reference, {"reduction": reduction, "weight": "per class", "ignore_index": -1})


_weighted_class_loss("nll_loss", F.nll_loss, lambda x: x)
_weighted_class_loss("cross_entropy", F.cross_entropy, _np_log_softmax)


@_spec("cross_entropy")
def _cross_entropy_probabilities(draw):
    reduction = draw(st.sampled_from(REDUCTIONS))
    shape = draw(shapes(min_dims=2, max_dims=3, max_side=3))
    scores, weights = draw(arrays(shape, reals(-4, 4))), draw(arrays(shape, positive(0.1, 1.0)))
    target = weights / weights.sum(axis=1, keepdims=True)  # each position's class probabilities
    return Case([scores, target], lambda x, t: F.cross_entropy(x, t, reduction=reduction),
                lambda x, t: _np_reduce(-(t * _np_log_softmax(x)).sum(axis=1), reduction),
                {"reduction": reduction, "target": "probabilities"})


# ------------------------------------------------------------------ activations
def _np_erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


_ACTIVATIONS = {
    "gelu": [("none", lambda x: F.gelu(x), lambda x: 0.5 * x * (1 + _np_erf(x / np.sqrt(2)))),
             ("tanh", lambda x: F.gelu(x, approximate="tanh"),
              lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))))],
    "silu": [("", F.silu, lambda x: x / (1 + np.exp(-x)))],
    "elu": [("alpha=0.5", lambda x: F.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0))))],
}


def _activation(name):
    @_spec(name)
    def case(draw):
        variant, fn, ref = draw(st.sampled_from(_ACTIVATIONS[name]))
        return Case([draw(arrays(draw(shapes()), away_from_zero(0.05, 3.0)))], fn, ref, {"variant": variant})


for _name in _ACTIVATIONS:
    _activation(_name)


# ------------------------------------------------------------------ layer and instance norm
def _np_standardize(x, axes, eps=1e-5):
    return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)


@_spec("layer_norm")
def _layer_norm(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    k = draw(st.integers(1, len(shape)))
    normalized, axes = shape[len(shape) - k:], tuple(range(len(shape) - k, len(shape)))
    x = draw(arrays(shape, reals(), unique=True))
    assume(int(np.prod(normalized)) >= 2 and np.var(x, axis=axes).min() > 0.05)  # well-conditioned
    if draw(st.booleans()):
        weight, bias = draw(arrays(normalized)), draw(arrays(normalized))
        return Case([x, weight, bias], lambda x, w, b: F.layer_norm(x, normalized, w, b),
                    lambda x, w, b: _np_standardize(x, axes) * w + b, {"normalized_shape": normalized, "affine": True})
    return Case([x], lambda x: F.layer_norm(x, normalized), lambda x: _np_standardize(x, axes),
                {"normalized_shape": normalized, "affine": False})


@_spec("instance_norm")
def _instance_norm(draw):
    shape = draw(shapes(min_dims=3, max_dims=4, max_side=3))
    axes = tuple(range(2, len(shape)))
    x = draw(arrays(shape, reals(), unique=True))
    assume(int(np.prod(shape[2:])) >= 2 and np.var(x, axis=axes).min() > 0.05)
    weight, bias = draw(arrays(shape[1:2])), draw(arrays(shape[1:2]))
    per_channel = (1, -1) + (1,) * len(axes)

    def fn(x, weight, bias):  # fresh running statistics each call: updating them must not change y
        running = mg.zeros(shape[1], dtype=mg.float64, device=x.device), mg.ones(shape[1], dtype=mg.float64,
                                                                                   device=x.device)
        return F.instance_norm(x, *running, weight, bias)
    return Case([x, weight, bias], fn,
                lambda x, w, b: _np_standardize(x, axes) * w.reshape(per_channel) + b.reshape(per_channel))


@_spec("dropout2d")
def _dropout2d(draw):
    """As dropout: one mask per channel from the seeded stream, reproduced by NumPy's generator."""
    p, training, seed = draw(st.sampled_from([0.0, 0.5, 1.0])), draw(st.booleans()), draw(st.integers(0, 9))
    shape = draw(shapes(min_dims=3, max_dims=4, max_side=3))

    def fn(x):
        mg.manual_seed(seed)
        return F.dropout2d(x, p, training)

    def ref(x):
        if not training:
            return x
        keep = np.random.default_rng(seed).random(shape[:-2] + (1, 1)) >= p
        return x * keep / (1 - p) if p < 1 else x * 0
    return Case([draw(arrays(shape))], fn, ref, {"p": p, "training": training, "seed": seed})


# ------------------------------------------------------------------ resampling
def _np_adaptive_avg_pool(x, out):
    """Each output cell the mean of its window, rows floor(i H / Ho) .. ceil((i + 1) H / Ho) - 1."""
    (h, w), (ho, wo) = x.shape[-2:], out
    y = np.zeros(x.shape[:-2] + out)
    for i, j in np.ndindex(*out):
        rows = slice(i * h // ho, -(-(i + 1) * h // ho))
        cols = slice(j * w // wo, -(-(j + 1) * w // wo))
        y[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
    return y


@_spec("adaptive_avg_pool2d")
def _adaptive_avg_pool2d(draw):
    shape = draw(shapes(min_dims=3, max_dims=4, max_side=5))
    out = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    return Case([draw(arrays(shape))], lambda x: F.adaptive_avg_pool2d(x, out),
                lambda x: _np_adaptive_avg_pool(x, out), {"output_size": out})


@_spec("pad")
def _pad(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate"]))
    k = draw(st.integers(1, 3 if mode == "constant" else 2))
    shape = draw(shapes(min_dims=k + 1, max_dims=k + 2, max_side=3))
    widths = [(draw(st.integers(0, n - 1 if mode == "reflect" else 2)), draw(st.integers(0, n - 1 if mode == "reflect"
                                                                                             else 2)))
              for n in shape[len(shape) - k:]]
    pad = tuple(w for pair in reversed(widths) for w in pair)  # PyTorch's order: the last dim first
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[mode]
    return Case([draw(arrays(shape))], lambda x: F.pad(x, pad, mode),
                lambda x: np.pad(x, [(0, 0)] * (len(shape) - k) + widths, mode=np_mode), {"pad": pad, "mode": mode})


def _np_bilinear(x, out, align_corners):
    """Each output pixel from its source point's four neighbours, one pixel at a time."""
    (h, w) = x.shape[-2:]
    y = np.zeros(x.shape[:-2] + out)

    def source(d, n, m):
        if align_corners:
            return d * (n - 1) / (m - 1) if m > 1 else 0.0
        return max((d + 0.5) * n / m - 0.5, 0.0)
    for i, j in np.ndindex(*out):
        u, v = source(i, h, out[0]), source(j, w, out[1])
        r0, c0 = int(u), int(v)
        r1, c1, a, b = min(r0 + 1, h - 1), min(c0 + 1, w - 1), u - int(u), v - int(v)
        y[..., i, j] = ((1 - a) * ((1 - b) * x[..., r0, c0] + b * x[..., r0, c1])
                        + a * ((1 - b) * x[..., r1, c0] + b * x[..., r1, c1]))
    return y


def _np_nearest(x, out):
    for axis, m in enumerate(out, start=2):
        n = x.shape[axis]
        x = np.take(x, [min(d * n // m, n - 1) for d in range(m)], axis=axis)
    return x


@_spec("interpolate")
def _interpolate(draw):
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    shape = draw(shapes(min_dims=4, max_dims=4 if mode == "bilinear" else 5, max_side=4))
    out = tuple(draw(st.integers(1, 7)) for _ in shape[2:])
    if mode == "nearest":
        return Case([draw(arrays(shape))], lambda x: F.interpolate(x, out), lambda x: _np_nearest(x, out),
                    {"size": out, "mode": mode})
    align_corners = draw(st.booleans())
    return Case([draw(arrays(shape))], lambda x: F.interpolate(x, out, mode=mode, align_corners=align_corners),
                lambda x: _np_bilinear(x, out, align_corners), {"size": out, "mode": mode, "align_corners": align_corners})


# ------------------------------------------------------------------ more losses
def _np_huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _off_the_knot_pair(draw, shape, knot):
    """input and target whose difference stays 0.05 away from the knots +-knot (and 0 is fine)."""
    x = draw(arrays(shape))
    gap = draw(arrays(shape, st.one_of(reals(-knot + 0.05, knot - 0.05), away_from_zero(knot + 0.05, 3.0))))
    return x, x - gap


for _name, _delta in (("huber_loss", 0.5), ("smooth_l1_loss", 0.7)):
    _setting = "delta" if _name == "huber_loss" else "beta"
    _pointwise_loss(_name, lambda x, y, reduction, _name=_name, _setting=_setting, _delta=_delta: getattr(F, _name)(
                    x, y, reduction=reduction, **{_setting: _delta}),
                    lambda x, y, _name=_name, _delta=_delta: _np_huber(x - y, _delta) / (
                        _delta if _name == "smooth_l1_loss" else 1),
                    lambda draw, shape, _delta=_delta: _off_the_knot_pair(draw, shape, _delta))


@_spec("kl_div")
def _kl_div(draw):
    reduction = draw(st.sampled_from(REDUCTIONS + ("batchmean",)))
    log_target = draw(st.booleans())
    shape = draw(shapes(min_dims=1, max_dims=3))
    log_q = draw(arrays(shape, reals(-3, 0)))
    target = draw(arrays(shape, reals(-3, 0) if log_target else reals(0.05, 1.0)))  # t ln t is steep at 0

    def ref(x, t):
        loss = np.exp(t) * (t - x) if log_target else np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t * x
        return loss.sum() / shape[0] if reduction == "batchmean" else _np_reduce(loss, reduction)
    return Case([log_q, target], lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target), ref,
                {"reduction": reduction, "log_target": log_target})


@_spec("binary_cross_entropy")
def _binary_cross_entropy_weighted(draw):
    reduction, shape = draw(st.sampled_from(REDUCTIONS)), draw(shapes(min_dims=1))
    p, y = _probability_pair(draw, shape)
    weight = draw(arrays(shape[-1:], positive(0.1, 2.0)))
    return Case([p, y, weight], lambda p, y, w: F.binary_cross_entropy(p, y, w, reduction=reduction),
                lambda p, y, w: _np_reduce(-w * (y * np.log(p) + (1 - y) * np.log(1 - p)), reduction),
                {"reduction": reduction, "weight": "last dim"})


@_spec("binary_cross_entropy_with_logits")
def _binary_cross_entropy_with_logits_weighted(draw):
    reduction, shape = draw(st.sampled_from(REDUCTIONS)), draw(shapes(min_dims=1))
    x, y = _logit_pair(draw, shape)
    weight, pos_weight = draw(arrays(shape, positive(0.1, 2.0))), draw(arrays(shape[-1:], positive(0.1, 3.0)))

    def ref(x, y, w, q):
        p = 1 / (1 + np.exp(-x))
        return _np_reduce(-w * (q * y * np.log(p) + (1 - y) * np.log(1 - p)), reduction)
    return Case([x, y, weight, pos_weight],
                lambda x, y, w, q: F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=q),
                ref, {"reduction": reduction, "weight": True, "pos_weight": True})


@_spec("cross_entropy")
def _cross_entropy_label_smoothing(draw):
    """Smoothing mixes the one-hot target with the uniform distribution over the C classes."""
    reduction, eps = draw(st.sampled_from(REDUCTIONS)), draw(st.sampled_from([0.1, 0.5, 1.0]))
    scores, target = draw(class_problems())
    classes = scores.shape[1]

    def ref(x, t):
        smoothed = (1 - eps) * np.moveaxis(np.eye(classes)[t], -1, 1) + eps / classes
        return _np_reduce(-(smoothed * _np_log_softmax(x)).sum(axis=1), reduction)
    return Case([scores, target], lambda x, t: F.cross_entropy(x, t, reduction=reduction, label_smoothing=eps), ref,
                {"reduction": reduction, "label_smoothing": eps})


@_spec("cross_entropy")
def _cross_entropy_one_example(draw):
    classes = draw(st.integers(1, 4))
    scores, target = draw(arrays((classes,), reals(-4, 4))), np.int64(draw(st.integers(0, classes - 1)))
    return Case([scores, np.asarray(target)], lambda x, t: F.cross_entropy(x, t, reduction="none"),
                lambda x, t: -_np_log_softmax(x[None])[0, t], {"input": "(C,)"})


# ------------------------------------------------------------------ lookups
@_spec("one_hot", differentiable=False)
def _one_hot(draw):
    classes = draw(st.integers(1, 4))
    indices = draw(hnp.arrays(np.int64, draw(shapes(max_side=3)), elements=st.integers(0, classes - 1)))
    return Case([indices], lambda i: F.one_hot(i, classes), lambda i: (i[..., None] == np.arange(classes)).astype(int),
                {"num_classes": classes})


@_spec("embedding")
def _embedding(draw):
    """Rows picked by index (repeats add in the gradient). The padding row, whose gradient is 0 by
    decree (not by calculus), is one that no index picks here: tests/test_torch_surface.py checks it."""
    rows, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    indices = draw(hnp.arrays(np.int64, draw(shapes(max_dims=2, max_side=3)), elements=st.integers(0, rows - 1)))
    unpicked = sorted(set(range(rows)) - set(indices.ravel().tolist()))
    padding_idx = draw(st.sampled_from([None] + unpicked))
    return Case([draw(arrays((rows, dim))), indices], lambda w, i: F.embedding(i, w, padding_idx),
                lambda w, i: w[i], {"padding_idx": padding_idx})
