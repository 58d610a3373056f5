"""register_hook, detect_anomaly, allow_unused, requires_grad_, and the nearest name for a
missing Tensor attribute (issue 15), by hand and against PyTorch where it is installed."""
import numpy as np
import pytest

import minigen as mg


def test_a_hook_on_an_intermediate_sees_and_may_replace_its_gradient():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (h * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [60.0, 60.0]


def test_a_hook_on_a_leaf_runs_before_accumulation_and_can_be_removed():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g + 1)
    (x * 3).sum().backward()
    handle.remove()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]  # (3 + 1) + 3


def test_a_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        mg.ones(2).register_hook(print)


def test_detect_anomaly_names_the_op_whose_backward_made_the_first_nan():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with mg.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward' returned nan values in its 0th output"):
            (mg.sqrt(x - 1.0) * 0).sum().backward()
    (mg.sqrt(x - 1.0) * 0).sum().backward()  # outside: no check, NaN comes through as in PyTorch
    assert np.isnan(x.grad.numpy()[0])


def test_a_missing_tensor_attribute_names_the_nearest_one():
    with pytest.raises(AttributeError, match="Tensor has no 'detatch'; did you mean 'detach'"):
        mg.ones(2).detatch()


def test_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([0.5, -1.5, 2.0])
    grads = []
    for lib in (mg, torch):
        x = lib.tensor(values, requires_grad=True)
        h = x.exp()
        h.register_hook(lambda g: g * g)
        x.register_hook(lambda g: g - 1)
        (h * x).sum().backward()
        grads.append(x.grad.detach().numpy() if lib is torch else x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-7)
