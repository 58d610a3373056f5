"""Tests that need a GPU: the same numbers on CPU and CUDA, transfers, device errors.

The op table (tests/test_ops.py) also runs on "cuda" when CuPy sees a GPU; these add what
only makes sense with two devices. Select them with `pytest -m gpu`.
"""
import numpy as np
import pytest

import minigen as mg

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not mg.cuda_is_available(),
                                                  reason="CUDA is not available (CuPy not installed, or no GPU)")]


def test_randn_gives_the_same_numbers_on_cpu_and_cuda():
    mg.manual_seed(7)
    on_cpu = mg.randn(3, 4).numpy()
    mg.manual_seed(7)
    on_cuda = mg.randn(3, 4, device="cuda")
    assert on_cuda.device == "cuda:0"
    np.testing.assert_array_equal(on_cpu, on_cuda.numpy())


def test_round_trip_keeps_values_and_gradients_flow_back():
    x = mg.randn(5, dtype=mg.float64, requires_grad=True)
    y = (x.cuda() ** 2).sum()
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


def test_an_op_on_two_devices_is_refused():
    with pytest.raises(RuntimeError, match=r"Add: expected all tensors on one device, got tensors on cpu, cuda:0"):
        mg.randn(2) + mg.randn(2, device="cuda")


def test_training_step_gives_the_same_result_on_both_devices():
    results = []
    for device in ("cpu", "cuda"):
        mg.manual_seed(0)
        w = mg.randn(8, 4, dtype=mg.float64, device=device, requires_grad=True)
        x = mg.randn(16, 8, dtype=mg.float64, device=device)
        mg.log_softmax(x @ w, dim=1).sum().backward()
        results.append(w.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)
