"""Every op of the table (tests/op_specs.py): forward against NumPy, gradcheck, gradgradcheck.

On the CPU each check draws the profile's number of examples; on cuda:0 and cuda:1 (a GPU, or
the CuPy stand-in) a few: what they catch there is placement and API use, which any example
shows, while the numerics are the CPU's (the stand-in computes with NumPy).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen as mg
from op_specs import SPECS

DIFFERENTIABLE = [spec for spec in SPECS if spec.differentiable]
ON_GPU = settings(max_examples=4)


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def check_forward(spec, device, data):
    case = data.draw(spec.cases)
    outputs = _as_tuple(case.fn(*case.tensors(device)))
    expected = _as_tuple(case.ref(*case.arrays))
    assert len(outputs) == len(expected)
    for out, ref in zip(outputs, expected):
        ref = np.asarray(ref)
        assert out.shape == ref.shape, f"{spec.name}: shape {out.shape} != NumPy's {ref.shape}"
        assert out.dtype == ref.dtype, f"{spec.name}: dtype {out.dtype} != NumPy's {ref.dtype}"
        assert out.device == mg.backend.canonical_device(device)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)


def check_gradients(spec, device, data):
    case = data.draw(spec.cases)
    assert mg.gradcheck(case.fn, case.tensors(device))


def check_second_gradients(spec, device, data):
    case = data.draw(spec.cases)
    assert mg.gradgradcheck(case.fn, case.tensors(device))


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(data=st.data())
def test_forward_matches_numpy(spec, data):
    check_forward(spec, "cpu", data)


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=repr)
@given(data=st.data())
def test_gradcheck(spec, data):
    check_gradients(spec, "cpu", data)


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=repr)
@given(data=st.data())
def test_gradgradcheck(spec, data):
    check_second_gradients(spec, "cpu", data)


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@ON_GPU
@given(data=st.data())
def test_forward_matches_numpy_on_cuda(spec, cuda, data):
    check_forward(spec, cuda, data)


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=repr)
@ON_GPU
@given(data=st.data())
def test_gradcheck_on_cuda(spec, cuda, data):
    check_gradients(spec, cuda, data)


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=repr)
@ON_GPU
@given(data=st.data())
def test_gradgradcheck_on_cuda(spec, cuda, data):
    check_second_gradients(spec, cuda, data)
