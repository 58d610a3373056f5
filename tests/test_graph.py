"""How the graph behaves: sharing, reuse, no_grad, detach, accumulation, depth, memory."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigen as mg


def leaf(values, device="cpu"):
    return mg.tensor(values, dtype=mg.float64, device=device, requires_grad=True)


def test_shared_subexpression_gets_both_contributions(device):
    x = leaf([1.0, -2.0, 3.0], device)
    s = x * x                        # used by two consumers
    y = (s * 3 + s.exp()).sum()
    y.backward()
    xs = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), (3 + np.exp(xs ** 2)) * 2 * xs)


def test_tensor_used_twice_in_one_op(device):
    x = leaf([2.0, 5.0], device)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 10.0])


def test_diamond_graph_visits_each_node_once():
    calls = []

    class Spy(mg.Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            calls.append(1)
            return gy

    x = leaf([1.0, 2.0])
    s = Spy.apply(x)
    (s * 2 + s * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_no_grad_records_nothing():
    x = leaf([1.0])
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = leaf([1.0])

    @mg.no_grad()
    def frozen():
        with mg.enable_grad():
            inner = x * 2
        return x * 2, inner

    outer, inner = frozen()
    assert outer.grad_fn is None and inner.grad_fn is not None

    @mg.no_grad
    def frozen_without_parentheses():
        return x * 2
    assert frozen_without_parentheses().grad_fn is None


def test_no_grad_on_a_generator_function_holds_while_each_step_runs():
    x = leaf([1.0])

    @mg.no_grad()
    def doubled(n):
        for _ in range(n):
            yield x * 2, mg.is_grad_enabled()

    for y, enabled in doubled(2):
        assert y.grad_fn is None and not enabled
        assert mg.is_grad_enabled()  # the caller's mode between steps


def test_enable_grad_on_a_generator_function_inside_no_grad():
    x = leaf([1.0])

    @mg.enable_grad()
    def doubled():
        yield x * 2

    with mg.no_grad():
        (y,) = doubled()
        assert not mg.is_grad_enabled()
    assert y.grad_fn is not None


def test_a_grad_mode_generator_passes_on_send_and_throw():
    @mg.no_grad()
    def echo():
        try:
            while True:
                received = yield mg.is_grad_enabled()
                assert received == "ping"
        except KeyError:
            yield "caught with grad " + ("on" if mg.is_grad_enabled() else "off")

    steps = echo()
    assert next(steps) is False and steps.send("ping") is False
    assert steps.throw(KeyError()) == "caught with grad off"


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), d.numpy())  # d is a constant


def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2.0, 3 + 4.0])


def test_leaves_get_independent_gradient_arrays():
    x, y = leaf([1.0]), leaf([2.0])
    (x + y).sum().backward()  # Add returns the very same gradient for both
    x.grad.data += 10
    assert y.grad.item() == 1.0


def test_gradient_given_by_caller_is_not_aliased():
    x = leaf([1.0, 2.0])
    g = mg.tensor([1.0, 1.0], dtype=mg.float64)
    (x + 0).backward(g)
    g.data[:] = 7
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_create_graph_gives_each_leaf_its_own_writeable_gradient():
    x, y = leaf([1.0, 1.0]), leaf([1.0, 1.0])
    (x + y).sum().backward(create_graph=True)  # Add gives both the same read-only broadcast view
    assert x.grad is not y.grad
    x.grad.data *= 10
    assert y.grad.tolist() == [1.0, 1.0]


def test_grad_returns_a_writeable_gradient_per_input():
    x, y = leaf([1.0, 1.0]), leaf([1.0, 1.0])
    gx, gy = mg.grad((x + y).sum(), [x, y])
    assert not np.shares_memory(gx.data, gy.data)
    gx.data += 10
    assert gy.tolist() == [1.0, 1.0]


def test_grad_does_not_return_the_callers_gradient():
    x = leaf([1.0, 2.0])
    g = mg.tensor([1.0, 1.0], dtype=mg.float64)
    (gx,) = mg.grad(x + 0, x, g, create_graph=True)
    assert not np.shares_memory(gx.data, g.data)


def test_a_float64_gradient_for_a_float32_output_gives_float32_grads():
    x = mg.ones(3, requires_grad=True)
    x.backward(mg.ones(3, dtype=mg.float64))
    assert x.grad.dtype == mg.float32
    y = x * 2
    (gy,) = mg.grad(y, y, mg.ones(3, dtype=mg.float64))
    assert gy.dtype == mg.float32


def test_backward_on_intermediate_tensor_leaves_other_leaves_alone():
    x, w = leaf([1.0]), leaf([2.0])
    h = x * w
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * 2.0 * 2.0])  # d(x w)^2/dx = 2 x w^2
    assert h.grad is None  # non-leaves keep no .grad


def test_chain_of_100000_ops_has_no_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_graph_is_freed_when_the_output_is_dropped():
    x = leaf([1.0, 2.0])
    y = (x * 2).exp().sum()
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


def test_no_memory_growth_over_10000_steps():
    w = leaf(np.ones((8, 8)))
    x = mg.tensor(np.ones((4, 8)), dtype=mg.float64)

    def step():
        loss = ((x @ w).tanh() ** 2).mean()
        w.grad = None
        loss.backward()

    for _ in range(200):
        step()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(10_000):
        step()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 100_000, f"memory grew by {after - before} bytes over 10,000 steps"


def test_create_graph_gives_second_derivatives_through_backward():
    x = leaf([0.5, -1.0])
    (x.sin() * x).sum().backward(create_graph=True)
    g = x.grad                          # sin x + x cos x, still on the graph
    x.grad = None
    g.sum().backward()
    xs = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xs) - xs * np.sin(xs))


def test_backward_without_create_graph_records_nothing():
    x = leaf([0.5])
    (x ** 3).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_grad_returns_without_touching_dot_grad():
    x = leaf([1.0, 2.0])
    (g,) = mg.grad((x ** 2).sum(), x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    assert x.grad is None


def test_grad_of_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    gh, gx = mg.grad((h ** 2).sum(), [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gx.numpy(), 2 * h.numpy() * 3)


def test_grad_allow_unused_gives_none():
    x, unused = leaf([1.0]), leaf([2.0])
    gx, gu = mg.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_third_derivative():
    t = leaf(1.5)
    (d1,) = mg.grad(t ** 4, t, create_graph=True)
    (d2,) = mg.grad(d1, t, create_graph=True)
    (d3,) = mg.grad(d2, t)
    assert d3.item() == pytest.approx(24 * 1.5)


def test_pow_gradient_in_the_base_is_zero_where_the_exponent_is_zero():
    x, y = leaf([0.0, 2.0]), leaf([0.0, 0.0])
    (x ** y).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # x^0 = 1 is flat, also at x = 0 (as PyTorch)
    np.testing.assert_allclose(y.grad.numpy(), [0.0, np.log(2.0)])


def test_prod_gradients_stay_exact_near_zero():
    """Found by the explore profile: prod / x_i lost all precision for tiny x_i."""
    x = leaf([7.68e-56])
    assert mg.gradgradcheck(lambda x: mg.prod(x), [x])
    y = leaf([0.0, 2.0, 3.0])
    (g,) = mg.grad(mg.prod(y), y)
    np.testing.assert_allclose(g.numpy(), [6.0, 0.0, 0.0])


def test_prod_backward_memory_grows_linearly():
    x = mg.rand(10_000, requires_grad=True)
    tracemalloc.start()
    try:
        x.prod().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # a few copies of 40 kB, not an n x n matrix (500 MB)


def test_the_gradient_of_a_reshape_takes_the_memory_layout_of_its_input():
    """Batch-innermost activations (as conv2d makes them) get batch-innermost gradients back."""
    data = np.arange(24.0).reshape(4, 3, 2).transpose(2, 0, 1)  # shape (2, 4, 3), not C-contiguous
    x = mg.tensor(data, requires_grad=True)
    y = mg.reshape(x, (2, 12))
    y.backward(mg.tensor(np.arange(24.0).reshape(2, 12)))
    assert x.grad.data.strides == x.data.strides
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(24.0).reshape(2, 4, 3))
