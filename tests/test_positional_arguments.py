"""Positional arguments land in PyTorch's slots (issue 14, item 7), without torch installed.

tests/test_signatures.py compares every signature with torch's; these pin the cases that
once put a value into another parameter, and the options minigen refuses by name.
"""
import numpy as np
import pytest

import minigen as mg
import minigen.nn.functional as F
from minigen import nn


def test_conv2d_layer_seventh_argument_is_groups():
    layer = nn.Conv2d(4, 4, 3, 1, 1, 1, 2)
    assert layer.groups == 2 and layer.weight.shape == (4, 2, 3, 3) and layer.bias is not None


def test_conv_transpose2d_seventh_argument_is_groups():
    x, w = mg.randn(1, 4, 3, 3), mg.randn(4, 1, 2, 2)
    assert F.conv_transpose2d(x, w, None, 1, 0, 0, 2).shape == (1, 2, 4, 4)  # C_out = groups * 1


def test_conv_transpose2d_layer_seventh_argument_is_groups():
    assert nn.ConvTranspose2d(4, 6, 3, 1, 0, 0, 2).weight.shape == (4, 3, 3, 3)


def test_upsample_layer_first_argument_is_size():
    assert nn.Upsample(4)(mg.randn(1, 1, 2, 2)).shape == (1, 1, 4, 4)


def test_upsample_function_second_argument_is_size():
    assert F.upsample(mg.randn(1, 1, 2, 2), 6).shape == (1, 1, 6, 6)


def test_var_second_argument_is_unbiased():
    x = mg.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=mg.float64)
    biased = x.var(0, False)
    assert biased.shape == (2,)  # not keepdim
    np.testing.assert_allclose(biased.numpy(), [1.0, 4.0])
    np.testing.assert_allclose(x.var(0, True, True).numpy(), [[2.0, 8.0]])


def test_loss_reduction_is_the_fifth_argument():
    x, y = mg.tensor([1.0, 3.0]), mg.tensor([0.0, 0.0])
    assert F.mse_loss(x, y, None, None, "sum").item() == 10.0


def test_creation_options_are_keyword_only():
    with pytest.raises(TypeError):
        mg.tensor([1.0], mg.float64)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.ReLU(True), "ReLU: inplace=True is not implemented"),
    (lambda: F.dropout(mg.randn(2), 0.5, True, True), "dropout: inplace=True is not implemented"),
    (lambda: F.leaky_relu(mg.randn(2), 0.1, True), "leaky_relu: inplace=True is not implemented"),
    (lambda: F.softplus(mg.randn(2), 1.0, 10.0), "softplus: threshold=10.0 is not implemented"),
    (lambda: F.mse_loss(mg.randn(2), mg.randn(2), True), "mse_loss: size_average=True is not implemented"),
    (lambda: nn.init.normal_(mg.zeros(2), 0.0, 1.0, object()), "normal_: generator=.* is not implemented"),
    (lambda: mg.save({}, "unused.npz", object()), "save: pickle_module=.* is not implemented"),
])
def test_an_option_minigen_lacks_is_refused_by_name(call, message):
    with pytest.raises(NotImplementedError, match=message):
        call()


def test_binary_cross_entropy_weight_multiplies_each_term():
    p, y, w = mg.tensor([0.5, 0.25]), mg.tensor([1.0, 0.0]), mg.tensor([2.0, 0.0])
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, w, reduction="sum").item(), 2 * np.log(2), rtol=1e-6)


def test_linear_takes_device_and_dtype():
    assert nn.Linear(2, 3, True, "cpu", mg.float64).weight.dtype == mg.float64
