"""Hypothesis strategies for op inputs: shapes, values inside an op's domain, memory layouts.

Values are float64 (gradient checks need it). Layouts include non-contiguous views
(every other element of a larger array, or a transposed array), since ops must not
assume contiguous memory.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 4


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


# ------------------------------------------------------------------ element domains
def reals(lo=-3.0, hi=3.0):
    """Any float in [lo, hi]."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo=0.05, hi=2.0):
    """Either sign, |x| in [lo, hi]: keeps inputs off kinks (abs, relu) and poles (1/x)."""
    return st.tuples(st.floats(lo, hi), st.sampled_from([-1.0, 1.0])).map(lambda p: p[0] * p[1])


def positive(lo=0.1, hi=3.0):
    return st.floats(lo, hi)


def on_grid(offset=0.0, spacing=0.1, lo=-30, hi=30):
    """k * spacing + offset: values at least ``spacing`` apart when distinct, so
    finite differences never cross a tie (max, min, clamp bounds)."""
    return st.integers(lo, hi).map(lambda k: round(k * spacing + offset, 10))


def with_zeros(elements):
    """Mostly ``elements``, sometimes an exact 0 (the hard case of prod's gradient)."""
    return st.one_of(st.just(0.0), elements, elements)


# ------------------------------------------------------------------ arrays and layouts
def _layout(array, layout):
    """The same values in another memory layout."""
    if layout == "strided" and array.ndim:
        big = np.zeros(array.shape[:-1] + (2 * array.shape[-1],))
        big[..., ::2] = array
        return big[..., ::2]
    if layout == "transposed" and array.ndim >= 2:
        return np.ascontiguousarray(array.T).T
    return array


@st.composite
def arrays(draw, shape, elements=None, unique=False):
    """A float64 array of ``shape``, possibly a non-contiguous view."""
    values = draw(hnp.arrays(np.float64, shape, elements=reals() if elements is None else elements, unique=unique))
    return _layout(values, draw(st.sampled_from(["contiguous", "strided", "transposed"])))


def broadcast_pair(num_shapes=2, max_dims=3):
    """Shapes that broadcast together (leading dims missing or of size 1 included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=0, max_dims=max_dims,
                                             max_side=MAX_SIDE)


@st.composite
def dims(draw, ndim, allow_none=True, allow_tuple=True):
    """A reduction dim: None, an int (maybe negative), or a tuple of distinct dims."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return draw(st.one_of(*options)) if options else None


def reduced_size(shape, dim):
    """How many elements each reduction group holds."""
    if dim is None:
        return int(np.prod(shape))
    dims_ = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims_]))
