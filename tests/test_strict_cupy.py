"""The CuPy stand-in of tests/strict_cupy.py refuses what CuPy refuses, and places arrays as CuPy does."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigen
import strict_cupy
from minigen import backend

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEVICE_ERROR = "The device where the array resides"


@pytest.fixture
def cp():
    """A fresh stand-in with two GPUs; cholesky back to its default failure mode afterwards."""
    yield strict_cupy.make(n_devices=2)
    strict_cupy.set_cholesky_failure("nan")


# ---------------------------------------------------------------- names and keywords
@pytest.mark.parametrize("name", ["errstate", "insert", "not_a_function"])
def test_names_cupy_lacks_are_refused(cp, name):
    with pytest.raises(AttributeError, match=f"module 'cupy' has no attribute '{name}'"):
        getattr(cp, name)


def test_array_methods_cupy_lacks_are_refused(cp):
    with pytest.raises(AttributeError, match="'ndarray' object has no attribute 'resize'"):
        cp.zeros(3).resize


def test_cupy_names_the_stand_in_does_not_model_raise_not_implemented(cp):
    with pytest.raises(NotImplementedError, match="cupy.fuse"):
        cp.fuse


def test_unknown_keyword_of_a_function_is_refused(cp):
    with pytest.raises(TypeError, match="zeros\\(\\) got an unexpected keyword argument 'dtpe'"):
        cp.zeros(3, dtpe=np.float32)


def test_unknown_keyword_of_a_method_is_refused(cp):
    with pytest.raises(TypeError, match="unexpected keyword argument 'keepdim'"):
        cp.ones((2, 3)).sum(axis=1, keepdim=True)


def test_keyword_numpy_has_but_cupy_lacks_is_refused(cp):
    with pytest.raises(TypeError, match="unexpected keyword argument 'where'"):
        cp.exp(cp.ones(3), where=True)


def test_recorded_keywords_are_accepted(cp):
    assert cp.ones((2, 3)).sum(axis=1, keepdims=True).shape == (2, 1)


# ---------------------------------------------------------------- host and device arrays
def test_implicit_conversion_is_refused_with_cupys_message(cp):
    with pytest.raises(TypeError, match="^Implicit conversion to a NumPy array is not allowed. Please use `.get\\(\\)` "
                                        "to construct a NumPy array explicitly.$"):
        np.asarray(cp.ones(3))


def test_asnumpy_and_get_round_trip(cp):
    host = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(cp.asnumpy(cp.asarray(host)), host)
    assert type(cp.asarray(host).get()) is np.ndarray


def test_stand_in_arrays_are_not_numpy_arrays(cp):
    assert isinstance(cp.ones(3), cp.ndarray) and not isinstance(cp.ones(3), np.ndarray)


def test_float_of_a_size_one_array_is_allowed(cp):
    assert float(cp.asarray([2.5])[0]) == 2.5


def test_host_arrays_are_refused_as_operands(cp):
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        cp.add(cp.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        cp.ones(3) * np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        np.ones(3) - cp.ones(3)


def test_numpy_functions_on_stand_in_arrays_run_the_stand_in(cp):
    assert isinstance(np.exp(cp.ones(3)), cp.ndarray)
    assert isinstance(np.linalg.norm(cp.ones(3)), cp.ndarray)


@pytest.mark.parametrize("reduce", [lambda a: a.sum(), lambda a: a.max(), lambda a: a[1, 2]])
def test_reductions_and_elements_are_0d_arrays(cp, reduce):
    result = reduce(cp.arange(6.0).reshape(2, 3))
    assert isinstance(result, cp.ndarray) and result.shape == ()


def test_views_keep_their_base(cp):
    a = cp.arange(6.0)
    assert a.reshape(2, 3).T.base is a and a[1:].base is a
    assert (a + 1).base is None


# ---------------------------------------------------------------- devices
def test_new_arrays_go_on_the_current_device(cp):
    a = cp.zeros(3)
    with cp.cuda.Device(1):
        made = [cp.ones(2), cp.asarray(np.ones(2)), cp.zeros_like(a), cp.arange(3) * 2]
    assert a.device.id == 0
    assert [m.device.id for m in made] == [1, 1, 1, 1]


def test_device_context_restores_the_previous_device(cp):
    with cp.cuda.Device(1) as device:
        assert device.id == 1 and cp.cuda.runtime.getDevice() == 1
    assert cp.cuda.runtime.getDevice() == 0


def test_operations_on_another_devices_array_are_refused(cp):
    a = cp.ones(3)
    with cp.cuda.Device(1), pytest.raises(ValueError, match=f"{DEVICE_ERROR} \\(0\\) is different from the current "
                                                             "device \\(1\\). Peer access is unavailable"):
        a * 2


def test_mixing_devices_in_one_call_is_refused(cp):
    a = cp.ones(3)
    with cp.cuda.Device(1):
        b = cp.ones(3)
    with pytest.raises(ValueError, match=DEVICE_ERROR):
        cp.stack([a, b])


def test_views_and_host_reads_of_another_devices_array_are_allowed(cp):
    a = cp.arange(6.0).reshape(2, 3)
    with cp.cuda.Device(1):
        assert a.T.device.id == 0 and a[0].device.id == 0
        assert float(a[1, 2]) == 5.0 and a.get().sum() == 15.0


def test_asarray_copies_an_array_of_another_device(cp):
    a = cp.arange(3.0)
    with cp.cuda.Device(1):
        b = cp.asarray(a)
    assert b.device.id == 1 and b is not a
    np.testing.assert_array_equal(b.get(), a.get())


def test_device_count_and_missing_device(cp):
    assert cp.cuda.runtime.getDeviceCount() == 2
    with pytest.raises(strict_cupy.CUDARuntimeError, match="invalid device ordinal"):
        cp.cuda.Device(2).use()


# ---------------------------------------------------------------- ufunc methods
def test_add_at_sums_repeated_indices(cp):
    x = cp.zeros(3)
    cp.add.at(x, cp.asarray([0, 0, 2]), 1.0)
    np.testing.assert_array_equal(x.get(), [2.0, 0.0, 1.0])


def test_add_at_takes_a_tuple_index_with_slices(cp):
    x = cp.zeros((2, 2))
    cp.add.at(x, (slice(None), cp.asarray([1, 1])), 1.0)
    np.testing.assert_array_equal(x.get(), [[0.0, 2.0], [0.0, 2.0]])


def test_add_at_index_on_another_device_is_refused(cp):
    x = cp.zeros(3)
    with cp.cuda.Device(1):
        index = cp.asarray([0])
    with pytest.raises(ValueError, match=DEVICE_ERROR):
        cp.add.at(x, index, 1.0)


def test_add_at_host_index_is_refused(cp):
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.add.at(cp.zeros(3), np.array([0]), 1.0)


@pytest.mark.parametrize("name, method", [("exp", "at"), ("maximum", "reduce"), ("subtract", "accumulate")])
def test_ufunc_methods_cupy_lacks_raise_as_in_cupy(cp, name, method):
    with pytest.raises(NotImplementedError, match=f"`cupy_{name}.{method}` is not supported yet"):
        getattr(getattr(cp, name), method)(cp.ones(2), cp.asarray([0]))


# ---------------------------------------------------------------- linalg never raises
NOT_POSITIVE_DEFINITE = [[1.0, 2.0], [2.0, 1.0]]  # eigenvalues 3 and -1


def test_cholesky_of_a_non_positive_definite_matrix_gives_nan_by_default(cp):
    assert np.isnan(cp.linalg.cholesky(cp.asarray(NOT_POSITIVE_DEFINITE)).get()).all()


def test_cholesky_partial_failure_is_finite_with_a_non_positive_diagonal(cp):
    strict_cupy.set_cholesky_failure("partial")
    L = cp.linalg.cholesky(cp.asarray(NOT_POSITIVE_DEFINITE)).get()
    np.testing.assert_array_equal(L, [[1.0, 0.0], [2.0, -3.0]])  # pivot 1 - 2^2 = -3


def test_cholesky_fails_per_matrix_of_a_stack(cp):
    L = cp.linalg.cholesky(cp.asarray([np.eye(2) * 4, NOT_POSITIVE_DEFINITE])).get()
    np.testing.assert_array_equal(L[0], np.eye(2) * 2)
    assert np.isnan(L[1]).all()


def test_inv_and_solve_of_a_singular_matrix_give_nan(cp):
    singular = cp.zeros((2, 2))
    assert np.isnan(cp.linalg.inv(singular).get()).all()
    assert np.isnan(cp.linalg.solve(singular, cp.ones(2)).get()).all()


# ---------------------------------------------------------------- the record
def test_the_record_regenerates_the_same(tmp_path):
    pytest.importorskip("cupy")
    output = tmp_path / "cupy_api.json"
    subprocess.run([sys.executable, str(ROOT / "tools" / "record_cupy_api.py"), str(output)], check=True,
                   capture_output=True)
    assert output.read_text() == (ROOT / "tests" / "cupy_api.json").read_text()


# ---------------------------------------------------------------- minigen on the stand-in
@pytest.fixture
def standin_cuda():
    """minigen's backend on a two-GPU stand-in, restored afterwards."""
    yield strict_cupy.install(backend, n_devices=2)
    strict_cupy.uninstall(backend)


def test_minigen_sees_the_stand_in_gpus(standin_cuda):
    assert minigen.cuda_is_available() and backend.cuda_device_count() == 2


def test_minigen_tensor_lives_on_the_requested_gpu(standin_cuda):
    x = minigen.randn(3, device="cuda:1")
    assert x.device == "cuda:1" and x.data.device.id == 1
    np.testing.assert_allclose((x * 2).numpy(), 2 * backend.to_host(x.data))
