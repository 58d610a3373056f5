"""Every op of the table (tests/op_specs.py): forward against NumPy, gradcheck, gradgradcheck."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from op_specs import SPECS

DIFFERENTIABLE = [spec for spec in SPECS if spec.differentiable]


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(data=st.data())
def test_forward_matches_numpy(spec, device, data):
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


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=repr)
@given(data=st.data())
def test_gradcheck(spec, device, data):
    case = data.draw(spec.cases)
    assert mg.gradcheck(case.fn, case.tensors(device))


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=repr)
@given(data=st.data())
def test_gradgradcheck(spec, device, data):
    case = data.draw(spec.cases)
    assert mg.gradgradcheck(case.fn, case.tensors(device))
