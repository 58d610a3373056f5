"""Entries of the op-spec table (tests/op_specs.py) for the PyTorch surface of issue 15: more
elementwise functions, rounding and integer arithmetic, std, norm, cumsum, all/any, repeat, chunk,
unbind, tril/triu, gather/scatter_add, sort/topk, mm/bmm and einsum.

Imported at the end of op_specs.py, so tests/test_ops.py runs forward-vs-NumPy, gradcheck and
gradgradcheck on these too. Inputs stay away from jumps (rounding, remainder), kinks (norms at 0)
and ties (sort, topk, the max norm), where finite differences cannot see the one-sided answer.
"""
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
from op_specs import Case, _forward_only, _spec, _unary
from strategies import arrays, away_from_zero, broadcast_pair, dims, on_grid, positive, reals, reduced_size, shapes

# ------------------------------------------------------------------ elementwise
_unary("log2", mg.log2, np.log2, positive())
_unary("log10", mg.log10, np.log10, positive())
_unary("expm1", mg.expm1, np.expm1)
_unary("square", mg.square, np.square)
_unary("rsqrt", mg.rsqrt, lambda x: 1 / np.sqrt(x), positive(0.5, 3.0))
_unary("reciprocal", mg.reciprocal, np.reciprocal, away_from_zero(0.5, 2.0))
# values k/10 + 0.05: never within 0.05 of an integer or of a half, where these jump
_unary("floor", mg.floor, np.floor, on_grid(offset=0.05))
_unary("ceil", mg.ceil, np.ceil, on_grid(offset=0.05))
_unary("round", mg.round, np.round, on_grid(offset=0.05))
_unary("round", lambda x: mg.round(x, decimals=1), lambda x: np.round(x, 1), on_grid(offset=0.025))
_unary("sign", mg.sign, np.sign, away_from_zero())


@_spec("remainder")
def _remainder(draw):
    """x on odd multiples of 0.05, y in {+-0.5, +-2}: x/y is never within 0.025 of an integer (a jump)."""
    sx, sy = draw(broadcast_pair()).input_shapes
    y = draw(hnp.arrays(np.float64, sy, elements=st.sampled_from([0.5, -0.5, 2.0, -2.0])))
    return Case([draw(arrays(sx, on_grid(offset=0.05))), y], mg.remainder, np.remainder)


_forward_only("floor_divide", mg.floor_divide, np.floor_divide, 2, st.sampled_from([-2.5, -1.0, 0.5, 3.0]))


def _integers(shape):
    return hnp.arrays(np.int64, shape, elements=st.integers(-8, 8))


def _bitwise(name, op, ref):
    @_spec(name, differentiable=False)
    def case(draw):
        sx, sy = draw(broadcast_pair()).input_shapes
        return Case([draw(_integers(sx)), draw(_integers(sy))], op, ref)


_bitwise("bitwise_and", mg.bitwise_and, np.bitwise_and)
_bitwise("bitwise_or", lambda x, y: x | y, np.bitwise_or)
_bitwise("bitwise_xor", lambda x, y: x ^ y, np.bitwise_xor)


@_spec("bitwise_not", differentiable=False)
def _bitwise_not(draw):
    x = draw(st.one_of(_integers(draw(shapes())), hnp.arrays(bool, draw(shapes()))))
    return Case([x], lambda x: ~x, np.invert)


def _special_values():
    return st.one_of(reals(), st.sampled_from([np.nan, np.inf, -np.inf]))


def _predicate(name, op, ref):
    @_spec(name, differentiable=False)
    def case(draw):
        return Case([draw(hnp.arrays(np.float64, draw(shapes()), elements=_special_values()))], op, ref)


_predicate("isnan", mg.isnan, np.isnan)
_predicate("isfinite", mg.isfinite, np.isfinite)


def _all_any(name, op, ref):
    @_spec(name, differentiable=False)
    def case(draw):
        shape = draw(shapes())
        dim, keepdim = draw(dims(len(shape))), draw(st.booleans())
        x = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.5])))
        return Case([x], lambda x: op(x, dim, keepdim), lambda x: ref(x, axis=dim, keepdims=keepdim))


_all_any("all", mg.all, np.all)
_all_any("any", mg.any, np.any)


# ------------------------------------------------------------------ reductions
@_spec("std")
def _std(draw):
    shape = draw(shapes())
    dim, keepdim, unbiased = draw(dims(len(shape))), draw(st.booleans()), draw(st.booleans())
    assume(reduced_size(shape, dim) > unbiased)
    x = draw(arrays(shape, on_grid(), unique=True))  # distinct values: the deviation is not 0
    assume(np.all(np.std(x, axis=dim) > 0))
    return Case([x], lambda x: mg.std(x, dim, unbiased, keepdim),
                lambda x: np.std(x, axis=dim, ddof=int(unbiased), keepdims=keepdim),
                {"dim": dim, "unbiased": unbiased, "keepdim": keepdim})


def _np_norm(x, p, axis, keepdims):
    a = np.abs(x)
    if p == np.inf:
        return np.max(a, axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return np.min(a, axis=axis, keepdims=keepdims)
    if p == 0:
        return np.sum(a != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    return np.sum(a ** p, axis=axis, keepdims=keepdims) ** (1 / p)


@_spec("norm")
def _norm(draw):
    """Magnitudes distinct and at least 0.05 from 0, with random signs: no kink, no tie for inf."""
    shape = draw(shapes(max_side=3))
    p = draw(st.sampled_from(["fro", 2, 1, 3, 0.5, 0, np.inf, -np.inf]))
    dim, keepdim = draw(dims(len(shape))), draw(st.booleans())
    magnitudes = draw(arrays(shape, on_grid(offset=0.05, lo=0), unique=True))
    signs = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    return Case([magnitudes * signs], lambda x: mg.norm(x, p, dim, keepdim),
                lambda x: _np_norm(x, 2 if p == "fro" else p, dim, keepdim), {"p": p, "dim": dim, "keepdim": keepdim})


@_spec("cumsum")
def _cumsum(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return Case([draw(arrays(shape))], lambda x: mg.cumsum(x, dim), lambda x: np.cumsum(x, axis=dim), {"dim": dim})


# ------------------------------------------------------------------ shapes
_unary("clone", mg.clone, np.copy)
_unary("contiguous", mg.contiguous, lambda x: np.array(x, order="C"))


@_spec("t")
def _t(draw):
    return Case([draw(arrays(draw(shapes(max_dims=2))))], mg.t, np.transpose)


@_spec("repeat")
def _repeat(draw):
    shape = draw(shapes())
    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 2)))
    return Case([draw(arrays(shape))], lambda x: x.repeat(*sizes), lambda x: np.tile(x, sizes), {"sizes": sizes})


@_spec("chunk")
def _chunk(draw):
    shape = draw(shapes(min_dims=1))
    dim, chunks = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.integers(1, 5))
    size = -(-shape[dim] // chunks)  # ceil(n / chunks)
    bounds = list(range(size, shape[dim], size))
    return Case([draw(arrays(shape))], lambda x: mg.chunk(x, chunks, dim),
                lambda x: tuple(np.split(x, bounds, axis=dim)), {"chunks": chunks, "dim": dim})


@_spec("unbind")
def _unbind(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return Case([draw(arrays(shape))], lambda x: mg.unbind(x, dim),
                lambda x: tuple(np.moveaxis(x, dim, 0)), {"dim": dim})


@_spec("squeeze")
def _squeeze_tuple(draw):
    shape = draw(shapes(min_dims=1, max_side=2))
    chosen = tuple(draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                                 unique_by=lambda d: d % len(shape))))
    ones = tuple(d % len(shape) for d in chosen if shape[d] == 1)
    return Case([draw(arrays(shape))], lambda x: x.squeeze(chosen), lambda x: np.squeeze(x, axis=ones),
                {"dim": chosen})


def _triangle(name, op, ref):
    @_spec(name)
    def case(draw):
        diagonal = draw(st.integers(-2, 2))
        return Case([draw(arrays(draw(shapes(min_dims=2))))], lambda x: op(x, diagonal),
                    lambda x: ref(x, diagonal), {"diagonal": diagonal})


_triangle("tril", mg.tril, np.tril)
_triangle("triu", mg.triu, np.triu)


# ------------------------------------------------------------------ indexing and sorting
@st.composite
def _dim_and_index(draw, shape, index_shape_like=None):
    """A dim of ``shape`` and an int64 index no larger than shape outside dim, entries in [0, shape[dim])."""
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 3)) if d == dim % len(shape) else draw(st.integers(1, n))
                        for d, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return dim, index


@_spec("gather")
def _gather(draw):
    shape = draw(shapes(min_dims=1))
    dim, index = draw(_dim_and_index(shape))
    inner = tuple(slice(0, n) for n in index.shape)
    inner = inner[:dim % len(shape)] + (slice(None),) + inner[dim % len(shape) + 1:]
    return Case([draw(arrays(shape)), index], lambda x, i: mg.gather(x, dim, i),
                lambda x, i: np.take_along_axis(x[inner], i, axis=dim), {"dim": dim})


@_spec("scatter_add")
def _scatter_add(draw):
    shape = draw(shapes(min_dims=1))
    dim, index = draw(_dim_and_index(shape))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index.shape)  # src may be larger than index

    def ref(x, i, src):
        out = x.copy()
        positions = list(np.indices(i.shape, sparse=True))
        positions[dim % len(shape)] = i
        np.add.at(out, tuple(positions), src[tuple(slice(0, n) for n in i.shape)])
        return out
    return Case([draw(arrays(shape)), index, draw(arrays(src_shape))],
                lambda x, i, src: mg.scatter_add(x, dim, i, src), ref, {"dim": dim})


@_spec("index_select")
def _index_select(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = draw(hnp.arrays(np.int64, (draw(st.integers(1, 5)),), elements=st.integers(0, shape[dim] - 1)))
    return Case([draw(arrays(shape)), index], lambda x, i: mg.index_select(x, dim, i),
                lambda x, i: np.take(x, i, axis=dim), {"dim": dim})


@_spec("masked_fill")
def _masked_fill(draw):
    shape = draw(shapes())
    mask = draw(hnp.arrays(bool, shape[draw(st.integers(0, len(shape))):]))  # broadcasts to x
    value = draw(st.sampled_from([0.0, -1.5]))
    return Case([draw(arrays(shape)), mask], lambda x, m: mg.masked_fill(x, m, value),
                lambda x, m: np.where(m, value, x), {"value": value})


@_spec("masked_fill")
def _masked_fill_tensor_value(draw):
    """A 0-d tensor value gets the sum of the gradient at the filled positions."""
    shape = draw(shapes())
    mask = draw(hnp.arrays(bool, shape))
    return Case([draw(arrays(shape)), mask, np.asarray(draw(reals()))], mg.masked_fill,
                lambda x, m, v: np.where(m, v, x))


def _sorted_ref(x, dim, descending, k=None):
    order = np.argsort(-x if descending else x, axis=dim)
    order = order if k is None else np.take(order, np.arange(k), axis=dim)
    return np.take_along_axis(x, order, axis=dim), order


@_spec("sort")
def _sort(draw):
    shape = draw(shapes(min_dims=1))
    dim, descending = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())
    return Case([draw(arrays(shape, on_grid(), unique=True))], lambda x: tuple(mg.sort(x, dim, descending)),
                lambda x: _sorted_ref(x, dim, descending), {"dim": dim, "descending": descending})


@_spec("topk")
def _topk(draw):
    shape = draw(shapes(min_dims=1))
    dim, largest = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())
    k = draw(st.integers(0, shape[dim]))
    return Case([draw(arrays(shape, on_grid(), unique=True))], lambda x: tuple(mg.topk(x, k, dim, largest)),
                lambda x: _sorted_ref(x, dim, largest, k), {"k": k, "dim": dim, "largest": largest})


# ------------------------------------------------------------------ linear algebra
@_spec("mm")
def _mm(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    return Case([draw(arrays((n, k))), draw(arrays((k, m)))], mg.mm, np.matmul)


@_spec("bmm")
def _bmm(draw):
    b, n, k, m = (draw(st.integers(1, 3)) for _ in range(4))
    return Case([draw(arrays((b, n, k))), draw(arrays((b, k, m)))], mg.bmm, np.matmul)


EINSUM_EQUATIONS = ["ij,jk->ik", "ij->ji", "ii->", "ii->i", "ij,ij->", "bij,bjk->bik", "i,j->ij", "ij->", "ij,jk",
                    "iij,j->i", "ij,jk,kl->il", "ijk->kj"]


@_spec("einsum")
def _einsum(draw):
    """Products, transposes, traces and diagonals, outer products, sums, implicit outputs, three operands."""
    equation = draw(st.sampled_from(EINSUM_EQUATIONS))
    size = {letter: draw(st.integers(1, 3)) for letter in sorted(set(equation) - set(",->"))}
    operands = [draw(arrays(tuple(size[c] for c in part))) for part in equation.split("->")[0].split(",")]
    return Case(operands, lambda *xs: mg.einsum(equation, *xs), lambda *xs: np.einsum(equation, *xs),
                {"equation": equation})
