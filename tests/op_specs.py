"""The op-spec table: every public op, how to draw its inputs, and its NumPy reference.

Each OpSpec holds a hypothesis strategy that draws a whole Case: input arrays inside the
op's domain (positive for log, away from kinks and ties...), the op's parameters, the
minigen call and the NumPy reference. tests/test_ops.py runs forward-vs-NumPy, gradcheck
and gradgradcheck from this one table on every device; tests/test_meta.py fails when a
public op has no entry.
"""
import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
from minigen import backend
from strategies import (
    arrays, away_from_zero, broadcast_pair, dims, on_grid, positive, reals, reduced_size, shapes, with_zeros)


@dataclass
class Case:
    """One drawn example: inputs, the op applied to Tensors, and NumPy's answer."""

    arrays: list
    fn: object = field(repr=False)
    ref: object = field(repr=False)
    params: dict = field(default_factory=dict)

    def tensors(self, device):
        """The inputs on ``device``; float inputs require grad, others (masks, indices) do not."""
        return [mg.Tensor(backend.to_device(a, device), requires_grad=a.dtype == np.float64) for a in self.arrays]


@dataclass
class OpSpec:
    name: str
    cases: object  # a strategy of Case
    differentiable: bool = True

    def __repr__(self):
        return self.name


def _spec(name, differentiable=True):
    """Decorator: turn a composite drawing function into an OpSpec of the table."""
    def register(draw_case):
        SPECS.append(OpSpec(name, st.composite(draw_case)(), differentiable))
        return draw_case
    return register


SPECS = []


# ------------------------------------------------------------------ elementwise, one input
def _unary(name, op, ref, elements=reals()):
    @_spec(name)
    def case(draw):
        return Case([draw(arrays(draw(shapes()), elements))], op, ref)


_unary("neg", mg.neg, np.negative)
_unary("exp", mg.exp, np.exp)
_unary("log", mg.log, np.log, positive())
_unary("log1p", mg.log1p, np.log1p, st.floats(-0.5, 3.0))
_unary("sqrt", mg.sqrt, np.sqrt, positive())
_unary("abs", mg.abs, np.abs, away_from_zero())
_unary("sin", mg.sin, np.sin)
_unary("cos", mg.cos, np.cos)
_unary("tanh", mg.tanh, np.tanh)
_unary("sigmoid", mg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), reals(-6, 6))
_unary("erf", mg.erf, np.vectorize(math.erf), reals(-4, 4))  # both sides of |x| = 2, where _erf switches
_unary("relu", mg.relu, lambda x: np.maximum(x, 0), away_from_zero())


@_spec("leaky_relu")
def _leaky_relu(draw):
    slope = draw(st.sampled_from([0.01, 0.2]))
    return Case([draw(arrays(draw(shapes()), away_from_zero()))], lambda x: mg.leaky_relu(x, slope),
                lambda x: np.where(x > 0, x, slope * x), {"negative_slope": slope})


@_spec("softplus")
def _softplus(draw):
    beta = draw(st.sampled_from([1.0, 0.5, 2.0]))
    return Case([draw(arrays(draw(shapes()), reals(-5, 5)))], lambda x: mg.softplus(x, beta),
                lambda x: np.log1p(np.exp(beta * x)) / beta, {"beta": beta})


@_spec("clamp")
def _clamp(draw):
    low, high = draw(st.sampled_from([(-0.5, 0.5), (None, 0.5), (-0.5, None), (0.3, 0.3)]))
    x = draw(arrays(draw(shapes()), on_grid(offset=0.05)))  # never within 0.05 of a bound
    return Case([x], lambda x: mg.clamp(x, low, high), lambda x: np.clip(x, low, high), {"min": low, "max": high})


@_spec("pow")
def _pow_scalar(draw):
    exponent = draw(st.sampled_from([2, 3, -1, 0.5, 1.5, -2.5]))
    elements = away_from_zero(0.5, 2.0) if float(exponent).is_integer() else positive(0.5, 2.0)
    return Case([draw(arrays(draw(shapes()), elements))], lambda x: x ** exponent, lambda x: x ** exponent,
                {"exponent": exponent})


# ------------------------------------------------------------------ elementwise, broadcasting pairs
def _binary(name, op, ref, x_elements=reals(), y_elements=reals()):
    @_spec(name)
    def case(draw):
        sx, sy = draw(broadcast_pair()).input_shapes
        return Case([draw(arrays(sx, x_elements)), draw(arrays(sy, y_elements))], op, ref)


_binary("add", mg.add, np.add)
_binary("sub", mg.sub, np.subtract)
_binary("mul", mg.mul, np.multiply)
_binary("div", mg.div, np.divide, y_elements=away_from_zero(0.5, 2.0))
_binary("pow", mg.pow, np.power, x_elements=positive(0.5, 2.0), y_elements=reals(-2, 2))
# x on odd and y on even multiples of 0.05: never tied, always at least 0.05 apart
_binary("maximum", mg.maximum, np.maximum, on_grid(offset=0.05), on_grid())
_binary("minimum", mg.minimum, np.minimum, on_grid(offset=0.05), on_grid())


@_spec("pow")
def _pow_constant_integer_exponents(draw):
    """Bases through 0 with exponents 0..3 that need no gradient: x^0 is flat at 0 too."""
    sx, sy = draw(broadcast_pair()).input_shapes
    y = draw(hnp.arrays(np.float64, sy, elements=st.sampled_from([0.0, 1.0, 2.0, 3.0])))
    # exact zeros, or |x| >= 1e-3: at x = 1e-299, 0 * x^-2 overflows to nan in float64 (in PyTorch too)
    return Case([draw(arrays(sx, with_zeros(away_from_zero(1e-3, 2.0))))],
                lambda x: x ** mg.Tensor(backend.to_device(y, x.device)), lambda x: x ** y)


@_spec("where")
def _where(draw):
    sc, sx, sy = draw(broadcast_pair(num_shapes=3)).input_shapes
    condition = draw(hnp.arrays(bool, sc))
    return Case([condition, draw(arrays(sx)), draw(arrays(sy))], mg.where, np.where)


# ------------------------------------------------------------------ reductions
def _reduction(name, op, ref, elements=reals(), max_side=4, unique=False):
    @_spec(name)
    def case(draw):
        shape = draw(shapes(max_side=max_side))
        dim, keepdim = draw(dims(len(shape))), draw(st.booleans())
        x = draw(arrays(shape, elements, unique=unique))
        return Case([x], lambda x: op(x, dim, keepdim), lambda x: ref(x, axis=dim, keepdims=keepdim),
                    {"dim": dim, "keepdim": keepdim})


def _np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


_reduction("sum", mg.sum, np.sum)
_reduction("mean", mg.mean, np.mean)
_reduction("logsumexp", mg.logsumexp, _np_logsumexp, reals(-5, 5))
_reduction("prod", mg.prod, np.prod, with_zeros(reals(-2, 2)), max_side=3)
# distinct values on a 0.1 grid: no ties, and finite differences cannot create one
_reduction("amax", mg.amax, np.amax, on_grid(), max_side=3, unique=True)
_reduction("amin", mg.amin, np.amin, on_grid(), max_side=3, unique=True)


@_spec("var")
def _var(draw):
    shape = draw(shapes())
    dim, keepdim, correction = draw(dims(len(shape))), draw(st.booleans()), draw(st.sampled_from([0, 1]))
    assume(reduced_size(shape, dim) > correction)
    return Case([draw(arrays(shape))], lambda x: mg.var(x, dim, keepdim=keepdim, correction=correction),
                lambda x: np.var(x, axis=dim, ddof=correction, keepdims=keepdim),
                {"dim": dim, "keepdim": keepdim, "correction": correction})


def _max_min(name, op, ref):
    @_spec(name)
    def case(draw):
        shape = draw(shapes(max_side=3))
        dim = draw(dims(len(shape), allow_tuple=False))
        keepdim = draw(st.booleans())
        x = draw(arrays(shape, on_grid(), unique=True))
        if dim is None:
            return Case([x], op, ref)
        return Case([x], lambda x: op(x, dim, keepdim).values, lambda x: ref(x, axis=dim, keepdims=keepdim),
                    {"dim": dim, "keepdim": keepdim})


_max_min("max", mg.max, np.max)
_max_min("min", mg.min, np.min)


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _softmax_like(name, op, ref):
    @_spec(name)
    def case(draw):
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        return Case([draw(arrays(shape, reals(-5, 5)))], lambda x: op(x, dim), lambda x: ref(x, dim), {"dim": dim})


_softmax_like("softmax", mg.softmax, _softmax_ref)
_softmax_like("log_softmax", mg.log_softmax, lambda x, dim: np.log(_softmax_ref(x, dim)))


# ------------------------------------------------------------------ shape ops
@_spec("reshape")
def _reshape(draw):
    shape = draw(shapes())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), shape[::-1], (1,) + shape, (-1,), shape + (1,), (size, -1)[:2 if size else 1]]))
    return Case([draw(arrays(shape))], lambda x: mg.reshape(x, target), lambda x: x.reshape(target),
                {"shape": target})


@_spec("reshape")
def _reshape_of_a_transposed_view(draw):
    """A non-contiguous input: the gradient comes back in the input's memory layout (SameLayout)."""
    shape = draw(shapes(min_dims=2))
    return Case([draw(arrays(shape))], lambda x: mg.reshape(mg.permute(x, tuple(range(x.ndim))[::-1]), (-1,)),
                lambda x: x.transpose().reshape(-1))


@_spec("transpose")
def _transpose(draw):
    shape = draw(shapes(min_dims=1))
    d0, d1 = (draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    return Case([draw(arrays(shape))], lambda x: mg.transpose(x, d0, d1), lambda x: np.swapaxes(x, d0, d1),
                {"dim0": d0, "dim1": d1})


@_spec("permute")
def _permute(draw):
    shape = draw(shapes())
    order = tuple(draw(st.permutations(range(len(shape)))))
    return Case([draw(arrays(shape))], lambda x: mg.permute(x, order), lambda x: np.transpose(x, order),
                {"dims": order})


@_spec("squeeze")
def _squeeze(draw):
    shape = draw(shapes(max_side=2))
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))) if shape else None

    def ref(x):
        if dim is None:
            return np.squeeze(x)
        return np.squeeze(x, axis=dim) if x.shape[dim] == 1 else x
    return Case([draw(arrays(shape))], lambda x: mg.squeeze(x, dim), ref, {"dim": dim})


@_spec("unsqueeze")
def _unsqueeze(draw):
    shape = draw(shapes())
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    return Case([draw(arrays(shape))], lambda x: mg.unsqueeze(x, dim), lambda x: np.expand_dims(x, dim),
                {"dim": dim})


@_spec("flatten")
def _flatten(draw):
    shape = draw(shapes(min_dims=1))
    start = draw(st.integers(0, len(shape) - 1))
    end = draw(st.integers(start, len(shape) - 1))
    target = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return Case([draw(arrays(shape))], lambda x: mg.flatten(x, start, end), lambda x: x.reshape(target),
                {"start_dim": start, "end_dim": end})


@_spec("broadcast_to")
def _broadcast_to(draw):
    pair = draw(broadcast_pair())
    shape, target = pair.input_shapes[0], pair.result_shape
    return Case([draw(arrays(shape))], lambda x: mg.broadcast_to(x, target), lambda x: np.broadcast_to(x, target),
                {"shape": target})


@_spec("expand")
def _expand(draw):
    pair = draw(broadcast_pair())
    shape, target = pair.input_shapes[0], pair.result_shape
    lead = len(target) - len(shape)
    sizes = tuple(-1 if i >= lead and shape[i - lead] == n and draw(st.booleans()) else n
                  for i, n in enumerate(target))
    return Case([draw(arrays(shape))], lambda x: mg.expand(x, sizes), lambda x: np.broadcast_to(x, target),
                {"sizes": sizes})


def _np_sum_to(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=axes, keepdims=True).reshape(shape)


@_spec("sum_to")
def _sum_to(draw):
    pair = draw(broadcast_pair())
    target, shape = pair.input_shapes[0], pair.result_shape
    return Case([draw(arrays(shape))], lambda x: mg.sum_to(x, target), lambda x: _np_sum_to(x, target),
                {"shape": target})


@st.composite
def indices(draw, shape):
    """NumPy indices: basic (ints, slices with steps, None, ...), integer arrays with
    repeats and negatives, boolean masks."""
    kind = draw(st.sampled_from(["basic", "integer arrays", "mask", "mixed"]))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integer arrays":
        return draw(hnp.integer_array_indices(shape, result_shape=shapes(max_dims=2)))
    if kind == "mask":
        k = draw(st.integers(1, len(shape)))
        return draw(hnp.arrays(bool, shape[:k]))
    rows = draw(hnp.arrays(np.int64, draw(shapes(min_dims=1, max_dims=1)),
                           elements=st.integers(-shape[0], shape[0] - 1)))
    if len(shape) == 1:
        return rows
    return (rows, slice(None, None, draw(st.sampled_from([1, -1, 2]))))


@_spec("getitem")
def _getitem(draw):
    shape = draw(shapes(min_dims=1))
    index = draw(indices(shape))
    x = draw(arrays(shape))
    assume(x[index].size > 0)
    return Case([x], lambda x: x[index], lambda x: x[index], {"index": index})


@_spec("index_scatter")
def _index_scatter(draw):
    shape = draw(shapes(min_dims=1))
    index = draw(indices(shape))
    values_shape = np.zeros(shape)[index].shape
    assume(int(np.prod(values_shape)) > 0)

    def ref(v):
        out = np.zeros(shape)
        np.add.at(out, index, v)
        return out
    return Case([draw(arrays(values_shape))], lambda v: mg.index_scatter(v, index, shape), ref, {"index": index})


@_spec("cat")
def _cat(draw):
    base = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = [draw(arrays(base[:dim % len(base)] + (n,) + base[dim % len(base) + 1:])) for n in sizes]
    return Case(parts, lambda *xs: mg.cat(xs, dim), lambda *xs: np.concatenate(xs, axis=dim), {"dim": dim})


@_spec("stack")
def _stack(draw):
    shape = draw(shapes(max_dims=2))
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [draw(arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
    return Case(parts, lambda *xs: mg.stack(xs, dim), lambda *xs: np.stack(xs, axis=dim), {"dim": dim})


@_spec("split")
def _split(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    sections = draw(st.one_of(st.integers(1, 4), st.lists(st.integers(0, n), min_size=1, max_size=3)
                              .map(lambda cuts: [b - a for a, b in zip([0] + sorted(cuts), sorted(cuts) + [n])])))
    bounds = (list(range(sections, n, sections)) if isinstance(sections, int)
              else list(np.cumsum(sections)[:-1]))
    return Case([draw(arrays(shape))], lambda x: mg.split(x, sections, dim),
                lambda x: tuple(np.split(x, bounds, axis=dim)), {"sections": sections, "dim": dim})


@_spec("pad")
def _pad(draw):
    shape = draw(shapes(min_dims=1))
    widths = draw(st.lists(st.integers(0, 2), min_size=2, max_size=2 * len(shape)).filter(lambda w: len(w) % 2 == 0))
    value = draw(st.sampled_from([0.0, 1.5]))
    pairs = [(widths[2 * k], widths[2 * k + 1]) for k in range(len(widths) // 2)]
    np_widths = [(0, 0)] * (len(shape) - len(pairs)) + pairs[::-1]
    return Case([draw(arrays(shape))], lambda x: mg.pad(x, tuple(widths), value=value),
                lambda x: np.pad(x, np_widths, constant_values=value), {"pad": widths, "value": value})


@_spec("flip")
def _flip(draw):
    shape = draw(shapes(min_dims=1))
    flipped = tuple(draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    return Case([draw(arrays(shape))], lambda x: mg.flip(x, flipped), lambda x: np.flip(x, flipped),
                {"dims": flipped})


# ------------------------------------------------------------------ linear algebra
@_spec("matmul")
def _matmul(draw):
    """All of NumPy's cases: 1-D on either side, matrices, broadcast batches."""
    sa, sb = draw(hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2,
                                                    max_side=4)).input_shapes
    return Case([draw(arrays(sa)), draw(arrays(sb))], lambda a, b: a @ b, np.matmul)


@_spec("matmul")
def _matmul_outer(draw):
    """Inner dim 1, which MatMul computes as a broadcast product: (..., m, 1) @ (..., 1, p)."""
    sa, sb = draw(hnp.mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)", max_dims=2, max_side=4,
                                                    base_shape=(), min_side=1)).input_shapes
    sa, sb = sa[:-1] + (1,), sb[:-2] + (1, sb[-1])
    return Case([draw(arrays(sa)), draw(arrays(sb))], lambda a, b: a @ b, np.matmul)


@_spec("dot")
def _dot(draw):
    n = draw(st.integers(1, 5))
    return Case([draw(arrays((n,))), draw(arrays((n,)))], mg.dot, np.dot)


@_spec("to")
def _to(draw):
    """A round trip through the host: on "cpu" nothing moves; on "cuda" both transfers are checked."""
    return Case([draw(arrays(draw(shapes())))], lambda x: mg.to(mg.to(x, "cpu"), x.device), lambda x: x)


# ------------------------------------------------------------------ ops without a gradient
def _forward_only(name, op, ref, n_inputs, elements):
    @_spec(name, differentiable=False)
    def case(draw):
        if n_inputs == 1:
            shape = draw(shapes(min_dims=1, max_side=3))
            dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
            keepdim = draw(st.booleans())
            x = draw(arrays(shape, elements, unique=True))
            return Case([x], lambda x: op(x, dim, keepdim),
                        lambda x: ref(x, axis=dim, keepdims=keepdim), {"dim": dim})  # ndim ones without dim
        sx, sy = draw(broadcast_pair()).input_shapes
        return Case([draw(arrays(sx, elements)), draw(arrays(sy, elements))], op, ref)


_forward_only("argmax", mg.argmax, np.argmax, 1, on_grid())
_forward_only("argmin", mg.argmin, np.argmin, 1, on_grid())
for _name, _ref in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                    ("gt", np.greater), ("ge", np.greater_equal)]:
    _forward_only(_name, getattr(mg, _name), _ref, 2, on_grid(spacing=0.5, lo=-2, hi=2))  # ties are frequent


# ------------------------------------------------------------------ convolution and pooling
@st.composite
def conv_geometry(draw, transposed=False):
    """Small images, kernels, strides, paddings, dilations and groups that give a non-empty output;
    c_in and c_out are multiples of groups."""
    n, groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    if not transposed:  # the dilated kernel must fit in the padded image
        assume(all(s + 2 * p >= d * (k - 1) + 1 for s, p, d, k in zip(size, padding, dilation, kernel)))
    return n, c_in, c_out, kernel, stride, padding, dilation, size, groups


def _per_group(ref, x, w, groups, *settings):
    """A grouped convolution as ``groups`` ungrouped ones: input channels and dim 0 of the weight
    cut into consecutive groups, the outputs joined along the channels."""
    pieces = zip(np.split(x, groups, axis=1), np.split(w, groups, axis=0))
    return np.concatenate([ref(x_g, w_g, *settings) for x_g, w_g in pieces], axis=1)


def _torch_free_conv_ref(x, w, stride, sides, dilation):
    """Direct sum over the kernel, NumPy only; sides = ((top, bottom), (left, right)) of zero padding."""
    x = np.pad(x, [(0, 0), (0, 0), *sides])
    (n, c, h, wd), (o, _, kh, kw) = x.shape, w.shape
    ho, wo = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1, (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dilation[0]: i * dilation[0] + stride[0] * (ho - 1) + 1: stride[0],
                      j * dilation[1]: j * dilation[1] + stride[1] * (wo - 1) + 1: stride[1]]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def _same_sides(kernel, dilation):
    """PyTorch's padding="same": d(k - 1) zeros along each dim, the odd one after."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))


@_spec("conv2d")
def _conv2d(draw):
    n, c_in, c_out, kernel, stride, padding, dilation, size, groups = draw(conv_geometry())
    sides = tuple((p, p) for p in padding)
    if stride == (1, 1) and draw(st.booleans()):  # PyTorch allows "same" with stride 1 only
        padding, sides = "same", _same_sides(kernel, dilation)
    x, w, b = draw(arrays((n, c_in) + size)), draw(arrays((c_out, c_in // groups) + kernel)), draw(arrays((c_out,)))
    return Case([x, w, b], lambda x, w, b: mg.conv2d(x, w, b, stride, padding, dilation, groups),
                lambda x, w, b: _per_group(_torch_free_conv_ref, x, w, groups, stride, sides, dilation)
                + b[:, None, None], {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})


def _conv_transpose_ref(x, w, stride, padding, output_padding, dilation):
    """Scatter each input pixel times the kernel into the output (the definition)."""
    (n, c_in, h, wd), (_, c_out, kh, kw) = x.shape, w.shape
    size = [(length - 1) * s - 2 * p + d * (k - 1) + op + 1 for length, s, p, d, k, op in
            zip((h, wd), stride, padding, dilation, (kh, kw), output_padding)]
    full = np.zeros((n, c_out, size[0] + 2 * padding[0], size[1] + 2 * padding[1]))
    for y in range(h):
        for xx in range(wd):
            for i in range(kh):
                for j in range(kw):
                    full[:, :, y * stride[0] + i * dilation[0], xx * stride[1] + j * dilation[1]] += \
                        x[:, :, y, xx] @ w[:, :, i, j]
    return full[:, :, padding[0]: padding[0] + size[0], padding[1]: padding[1] + size[1]]


@_spec("conv_transpose2d")
def _conv_transpose2d(draw):
    n, c_in, c_out, kernel, stride, padding, dilation, size, groups = draw(conv_geometry(transposed=True))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    out_size = [(length - 1) * s - 2 * p + d * (k - 1) + op + 1 for length, s, p, d, k, op in
                zip(size, stride, padding, dilation, kernel, output_padding)]
    assume(min(out_size) >= 1)
    x, w, b = draw(arrays((n, c_in) + size)), draw(arrays((c_in, c_out // groups) + kernel)), draw(arrays((c_out,)))
    return Case([x, w, b],
                lambda x, w, b: mg.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
                lambda x, w, b: _per_group(_conv_transpose_ref, x, w, groups, stride, padding, output_padding,
                                           dilation) + b[:, None, None],
                {"stride": stride, "padding": padding, "output_padding": output_padding, "groups": groups})


def _pooled_length(n, k, s, p, d, ceil_mode):
    """PyTorch's documented output length, with its rule that the last ceil_mode window starts inside."""
    rounding = math.ceil if ceil_mode else math.floor
    length = rounding((n + 2 * p - d * (k - 1) - 1) / s) + 1
    return length - 1 if ceil_mode and (length - 1) * s >= n + p else length


def _pool_ref(x, kernel, stride, padding, dilation, ceil_mode, reduce, count_include_pad=True, divisor=None):
    """Window by window: the input positions each window covers (padding is -inf for max, 0 for
    the sum), and for the mean the positions that count (inside the padded image, or the image)."""
    n_rows, n_cols = x.shape[2:]
    grid = [_pooled_length(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
            zip(x.shape[2:], kernel, stride, padding, dilation)]
    out = np.zeros(x.shape[:2] + tuple(grid))
    for a, b in np.ndindex(*grid):
        rows = [a * stride[0] - padding[0] + i * dilation[0] for i in range(kernel[0])]
        cols = [b * stride[1] - padding[1] + j * dilation[1] for j in range(kernel[1])]
        inside = [(r, c) for r in rows for c in cols if 0 <= r < n_rows and 0 <= c < n_cols]
        values = np.stack([x[:, :, r, c] for r, c in inside] + [np.zeros(x.shape[:2])], axis=-1)[..., :-1]
        if reduce == "max":  # -inf for a dilated window that sees only padding
            out[:, :, a, b] = values.max(axis=-1, initial=-np.inf)
            continue
        counted = len(inside) if not count_include_pad else sum(
            -padding[0] <= r < n_rows + padding[0] and -padding[1] <= c < n_cols + padding[1] for r in rows for c in cols)
        out[:, :, a, b] = values.sum(axis=-1) / (divisor or counted)
    return out


@st.composite
def pool_geometry(draw, dilated=False):
    """Kernel, stride, padding (at most half the kernel), dilation and ceil_mode for an input that the
    (dilated) window fits, and that input's shape."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 5)) for k, p, d in zip(kernel, padding, dilation))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    return kernel, stride, padding, dilation, draw(st.booleans()), shape


@_spec("max_pool2d")
def _max_pool2d(draw):
    kernel, stride, padding, dilation, ceil_mode, shape = draw(pool_geometry(dilated=True))
    x = draw(arrays(shape, on_grid(lo=-60, hi=60), unique=True))  # distinct: no ties
    assume(np.isfinite(_pool_ref(x, kernel, stride, padding, dilation, ceil_mode, "max")).all())  # no window all padding
    return Case([x], lambda x: mg.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
                lambda x: _pool_ref(x, kernel, stride, padding, dilation, ceil_mode, "max"),
                {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation,
                 "ceil_mode": ceil_mode})


@_spec("avg_pool2d")
def _avg_pool2d(draw):
    kernel, stride, padding, _, ceil_mode, shape = draw(pool_geometry())
    count_include_pad, divisor = draw(st.booleans()), draw(st.sampled_from([None, None, 3]))
    return Case([draw(arrays(shape))],
                lambda x: mg.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor),
                lambda x: _pool_ref(x, kernel, stride, padding, (1, 1), ceil_mode, "mean", count_include_pad, divisor),
                {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode,
                 "count_include_pad": count_include_pad, "divisor_override": divisor})


@_spec("max_unpool2d")
def _max_unpool2d(draw):
    """Values put back at the indices of a max pooling of distinct values (each index once)."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    size = (h * kernel[0], w * kernel[1])
    flat = np.stack([draw(st.permutations(range(size[0] * size[1])))[:h * w] for _ in range(n * c)])
    indices = np.asarray(flat, dtype=np.int64).reshape(n, c, h, w)

    def ref(x, indices):
        out = np.zeros((n, c, size[0] * size[1]))
        np.put_along_axis(out, indices.reshape(n, c, -1), x.reshape(n, c, -1), axis=2)
        return out.reshape((n, c) + size)
    return Case([draw(arrays((n, c, h, w))), indices], lambda x, i: mg.max_unpool2d(x, i, kernel), ref,
                {"kernel_size": kernel})


@_spec("im2col")
def _im2col(draw):
    n, c, _, kernel, stride, _, dilation, size, _ = draw(conv_geometry())
    assume(all(s >= d * (k - 1) + 1 for s, d, k in zip(size, dilation, kernel)))
    x = draw(arrays((n, c) + size))
    w_eye = np.eye(c * kernel[0] * kernel[1]).reshape(-1, c, *kernel)  # conv with one-hot kernels = im2col
    return Case([x], lambda x: mg.im2col(x, kernel, stride, dilation),
                lambda x: _torch_free_conv_ref(x, w_eye, stride, ((0, 0), (0, 0)), dilation).transpose(1, 2, 3, 0)
                .reshape(w_eye.shape[0], -1), {"kernel": kernel, "stride": stride, "dilation": dilation})


@_spec("col2im")
def _col2im(draw):
    n, c, _, kernel, stride, _, dilation, size, _ = draw(conv_geometry())
    assume(all(s >= d * (k - 1) + 1 for s, d, k in zip(size, dilation, kernel)))
    shape = (n, c) + size
    ho, wo = ((s - d * (k - 1) - 1) // st_ + 1 for s, d, k, st_ in zip(size, dilation, kernel, stride))
    cols = draw(arrays((c * kernel[0] * kernel[1], n * ho * wo)))
    w_eye = np.eye(c * kernel[0] * kernel[1]).reshape(-1, c, *kernel)
    ref = lambda cols: _conv_transpose_ref(  # noqa: E731  col2im = transposed conv with one-hot kernels
        cols.reshape(-1, ho, wo, n).transpose(3, 0, 1, 2), w_eye, stride, (0, 0),
        tuple(s - ((o - 1) * st_ + d * (k - 1) + 1) for s, o, st_, d, k in zip(size, (ho, wo), stride, dilation, kernel)),
        dilation)
    return Case([cols], lambda cols: mg.col2im(cols, shape, kernel, stride, dilation), ref,
                {"shape": shape, "kernel": kernel, "stride": stride, "dilation": dilation})


import op_specs_nn  # noqa: F401,E402  (the functional ops of minigen.nn register themselves here)
import op_specs_vae  # noqa: F401,E402
import op_specs_inplace  # noqa: F401,E402
import op_specs_tensor  # noqa: F401,E402
