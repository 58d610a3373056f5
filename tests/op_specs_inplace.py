"""Op-table entries for the in-place ops (minigen/ops/inplace.py).

Each case writes into ``x * 1`` (a non-leaf copy of the input, as a leaf that requires grad
may not be written to), so the gradient flows through the in-place node back to ``x``.
"""
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import minigen as mg
from op_specs import Case, _spec, indices
from strategies import arrays, away_from_zero, on_grid, reals, shapes


@st.composite
def fitting_shape(draw, shape):
    """A shape that broadcasts to ``shape`` without growing it (what ``x += y`` accepts)."""
    kept = [draw(st.sampled_from([n, 1])) for n in shape]
    return tuple(kept[draw(st.integers(0, len(shape))):])


def _inplace_binary(name, method, ref, y_elements=reals(), alpha=None):
    @_spec(name)
    def case(draw):
        shape = draw(shapes())
        x, y = draw(arrays(shape)), draw(arrays(draw(fitting_shape(shape)), y_elements))
        kwargs = {} if alpha is None else {"alpha": alpha}
        return Case([x, y], lambda x, y: getattr(x * 1, method)(y, **kwargs),
                    lambda x, y: ref(x, y * (1 if alpha is None else alpha)))


_inplace_binary("add_", "add_", np.add)
_inplace_binary("add_", "add_", np.add, alpha=-0.5)
_inplace_binary("sub_", "sub_", np.subtract, alpha=2.0)
_inplace_binary("mul_", "mul_", np.multiply)
_inplace_binary("div_", "div_", np.divide, y_elements=away_from_zero(0.5, 2.0))


@_spec("add_")
def _iadd_operator(draw):
    """``t += y`` is add_ (the name t then still holds the same tensor)."""
    shape = draw(shapes())
    x, y = draw(arrays(shape)), draw(arrays(draw(fitting_shape(shape))))

    def fn(x, y):
        t = x * 1
        before = t
        t += y
        assert t is before
        return t
    return Case([x, y], fn, np.add)


@_spec("clamp_")
def _clamp_(draw):
    low, high = draw(st.sampled_from([(-0.5, 0.5), (None, 0.5), (-0.5, None)]))
    x = draw(arrays(draw(shapes()), on_grid(offset=0.05)))  # never within 0.05 of a bound
    return Case([x], lambda x: (x * 1).clamp_(low, high), lambda x: np.clip(x, low, high))


@_spec("fill_")
def _fill_(draw):
    """Filled with a 0-d tensor, which gets the sum of the gradient; x gets none."""
    x, value = draw(arrays(draw(shapes()))), draw(arrays(()))
    return Case([x, value], lambda x, v: (x * 1).fill_(v), lambda x, v: np.full_like(x, v))


@_spec("zero_")
def _zero_(draw):
    return Case([draw(arrays(draw(shapes())))], lambda x: (x * 1).zero_(), np.zeros_like)


@_spec("copy_")
def _copy_(draw):
    shape = draw(shapes())
    x, src = draw(arrays(shape)), draw(arrays(draw(fitting_shape(shape))))
    return Case([x, src], lambda x, s: (x * 1).copy_(s), lambda x, s: np.broadcast_to(s, x.shape) + 0 * x)


def _random_fill(name, method, draw_ref, low, high):
    @_spec(name)
    def case(draw):
        seed = draw(st.integers(0, 2 ** 16))

        def fn(x):
            mg.manual_seed(seed)  # the same draws at every call of gradcheck
            return getattr(x * 1, method)(low, high)
        return Case([draw(arrays(draw(shapes())))], fn,
                    lambda x: draw_ref(np.random.default_rng(seed), x.shape, low, high))


_random_fill("uniform_", "uniform_", lambda rng, shape, a, b: rng.random(shape) * (b - a) + a, -1.0, 2.0)
_random_fill("normal_", "normal_", lambda rng, shape, mean, std: rng.standard_normal(shape) * std + mean, 1.0, 0.5)


@_spec("setitem")
def _setitem(draw):
    """``t[index] = v`` for every kind of index; v gets the gradient of the written places."""
    shape = draw(shapes(min_dims=1))
    index = draw(indices(shape))
    written = np.arange(int(np.prod(shape))).reshape(shape)[index]
    assume(written.size > 0 and np.unique(written).size == written.size)  # a repeated place: last write wins
    x, v = draw(arrays(shape)), draw(arrays(draw(fitting_shape(written.shape))))

    def fn(x, v):
        t = x * 1
        t[index] = v
        return t

    def ref(x, v):
        out = x.copy()
        out[index] = v
        return out
    return Case([x, v], fn, ref, {"index": index})
