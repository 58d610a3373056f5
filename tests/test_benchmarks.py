"""The benchmarks' own instruments (the timings themselves are never tested)."""
import pathlib
import sys
import types

import numpy as np
import pytest

import minigen
from minigen.ops import linalg

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_dcgan_parts  # noqa: E402
import bench_mixture  # noqa: E402


def test_product_clock_counts_the_flops_of_every_product_and_restores_matmul():
    forward = linalg.MatMul.forward
    a = minigen.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    b = minigen.tensor(np.ones((4, 5), np.float32))
    with bench_dcgan_parts.ProductClock() as clock:
        (a @ b).sum().backward()  # forward 3x4x5, then dL/da = g b^T: 3x5x4
        assert linalg.MatMul.forward is not forward
    assert linalg.MatMul.forward is forward
    assert (clock.calls, clock.flops) == (2, 2 * 2 * 3 * 4 * 5)
    assert clock.seconds > 0
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 5, np.float32))


def test_fastest_step_reports_the_products_of_one_step():
    a = minigen.tensor(np.ones((8, 8), np.float32))
    steps = []

    def step():
        steps.append(a @ a @ a)
    seconds, product_seconds, flops, calls = bench_dcgan_parts.fastest_step(step, repeats=2)
    assert len(steps) == 3 + 2  # warm-up steps, then the timed ones
    assert (calls, flops) == (2, 2 * 2 * 8 ** 3)
    assert 0 < product_seconds <= seconds


def test_mixture_benchmark_refuses_a_fit_that_stops_before_max_iter():
    calls = []

    def fit(max_iter):
        calls.append(max_iter)
        return types.SimpleNamespace(n_iter_=max_iter)

    seconds = bench_mixture.per_iteration({"a": fit, "b": fit}, repeats=2)
    assert set(seconds) == {"a", "b"} and calls.count(1) == calls.count(1 + bench_mixture.ITERATIONS) == 6
    with pytest.raises(RuntimeError, match="stopped before max_iter=1"):
        bench_mixture.per_iteration({"a": lambda max_iter: types.SimpleNamespace(n_iter_=0)}, repeats=1)
