"""The NumPy/CuPy swap: devices, array modules, transfers, the one random stream."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend


@pytest.mark.parametrize("given, canonical", [("cpu", "cpu"), (None, "cpu")])
def test_canonical_cpu(given, canonical):
    assert backend.canonical_device(given) == canonical


@pytest.mark.parametrize("bad", ["gpu", "cuda:", "cuda:-1", "CPU", 0, "cuda:x"])
def test_malformed_devices(bad):
    with pytest.raises(ValueError, match="device must be"):
        backend.canonical_device(bad)


def test_cuda_is_available_is_a_bool():
    assert isinstance(mg.cuda_is_available(), bool)


def test_array_module_of_arrays_and_devices():
    assert backend.array_module(np.zeros(2)) is np
    assert backend.array_module("cpu") is np


def test_to_device_on_the_same_device_does_not_copy():
    a = np.zeros(3)
    assert backend.to_device(a, "cpu") is a


def test_index_add_sums_repeats():
    out = backend.index_add(np.zeros(3), (np.array([0, 0, 2]),), np.ones(3))
    np.testing.assert_array_equal(out, [2.0, 0.0, 1.0])


def test_random_numbers_are_drawn_in_float64_then_cast():
    mg.manual_seed(5)
    single = mg.randn(4).numpy()
    mg.manual_seed(5)
    double = mg.randn(4, dtype=mg.float64).numpy()
    np.testing.assert_array_equal(single, double.astype(np.float32))


def test_all_random_tensors_share_one_stream():
    mg.manual_seed(1)
    a, b = mg.randn(3).numpy(), mg.rand(3).numpy()
    mg.manual_seed(1)
    assert not np.array_equal(mg.rand(3).numpy(), b)  # the order of draws matters: one stream
    mg.manual_seed(1)
    np.testing.assert_array_equal(mg.randn(3).numpy(), a)


@pytest.mark.skipif(not backend.keep_freed_host_memory(), reason="needs Linux with glibc")
def test_large_temporaries_are_reused_without_page_faults():
    import resource

    def step():
        a = np.ones(4_000_000, dtype=np.float32)  # 16 MB, the size of a conv layer's columns
        b = a * 2
        return float(b[0])

    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 2_000, f"{faults} page faults for 10 steps: freed memory went back to the OS"
