"""gradcheck and gradgradcheck must catch wrong gradients and say what looks wrong."""
import numpy as np
import pytest

import minigen as mg
from minigen.gradcheck import diagnose


def leaf(*shape):
    return mg.randn(*shape, dtype=mg.float64, requires_grad=True)


def custom(forward, backward):
    """A one-off Function from two lambdas."""
    fn = type("Custom", (mg.Function,), {"forward": lambda self, *xs: forward(*xs),
                                         "backward": lambda self, gy: backward(self, gy)})
    return fn.apply


def test_correct_gradients_pass():
    assert mg.gradcheck(lambda a, b: (a @ b).tanh(), [leaf(3, 4), leaf(4, 2)])
    assert mg.gradgradcheck(lambda a, b: (a @ b).tanh(), [leaf(3, 4), leaf(4, 2)])


def test_flipped_sign_is_named():
    square = custom(lambda x: x * x, lambda fn, gy: -2 * gy * fn.inputs[0])
    with pytest.raises(mg.GradcheckError, match="the sign is flipped"):
        mg.gradcheck(square, [leaf(3)])


def test_missing_factor_is_named():
    square = custom(lambda x: x * x, lambda fn, gy: gy * fn.inputs[0])
    with pytest.raises(mg.GradcheckError, match=r"off by a constant factor: analytic = 0.5 x numeric"):
        mg.gradcheck(square, [leaf(3)])


def test_transposed_gradient_is_named():
    matmul = custom(lambda a, b: a @ b, lambda fn, gy: ((gy @ fn.inputs[1].T).T, fn.inputs[0].T @ gy))
    with pytest.raises(mg.GradcheckError, match="transposed"):
        mg.gradcheck(matmul, [leaf(3, 3), leaf(3, 3)])


def test_transposed_gradient_of_a_non_square_input_is_named():
    matmul = custom(lambda a, b: a @ b, lambda fn, gy: ((gy @ fn.inputs[1].T).T, fn.inputs[0].T @ gy))
    with pytest.raises(mg.GradcheckError, match=r"shape \(4, 3\) for input 0 of shape \(3, 4\) \(transposed\?\)"):
        mg.gradcheck(matmul, [leaf(3, 4), leaf(4, 2)])


def test_broadcast_axis_not_summed_is_named():
    add = custom(lambda x, y: x + y, lambda fn, gy: (gy, gy))
    with pytest.raises(mg.GradcheckError, match="forgot to sum over a broadcast axis"):
        mg.gradcheck(add, [leaf(4, 3), leaf(3)])


def test_gradient_summed_where_it_should_not_be_is_named():
    scale = custom(lambda x: x * np.arange(1.0, 4.0),
                   lambda fn, gy: mg.broadcast_to((gy * mg.tensor(np.arange(1.0, 4.0))).sum(0, keepdim=True),
                                                  gy.shape))
    with pytest.raises(mg.GradcheckError, match="summed over axis 0"):
        mg.gradcheck(scale, [leaf(4, 3)])


def test_error_names_input_worst_element_and_values():
    wrong_for_y = custom(lambda x, y: x * y, lambda fn, gy: (gy * fn.inputs[1], gy * 0))
    with pytest.raises(mg.GradcheckError) as error:
        mg.gradcheck(wrong_for_y, [leaf(2), leaf(2)])
    message = str(error.value)
    assert "input 1 (shape (2,))" in message and "worst element (" in message
    assert "analytic -0," in message or "analytic 0," in message


def test_wrong_second_derivative_is_caught_by_gradgradcheck_only():
    # The backward is right, but uses a constant copy of x: its own derivative is lost.
    cube = custom(lambda x: x ** 3, lambda fn, gy: gy * 3 * mg.Tensor(fn.inputs[0].data ** 2))
    x = leaf(3)
    assert mg.gradcheck(cube, [x])
    with pytest.raises(mg.GradcheckError, match="gradgradcheck"):
        mg.gradgradcheck(cube, [x])


def test_multiple_outputs_are_checked():
    assert mg.gradcheck(lambda x: mg.split(x, 2), [leaf(5)])


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(mg.exp, [mg.randn(3, dtype=mg.float64)])


@pytest.mark.parametrize("analytic, expected", [
    (np.array([np.nan, 1.0]), "inf or nan"),
    (np.zeros(2), "analytic gradient is zero"),
    (np.array([5.0, -3.0]), "no simple pattern"),
])
def test_diagnose_other_patterns(analytic, expected):
    assert expected in diagnose(analytic, np.array([1.0, 2.0]))


def test_swapped_gradients_are_named():
    mul = custom(lambda x, y: x * y, lambda fn, gy: (gy * fn.inputs[0], gy * fn.inputs[1]))
    with pytest.raises(mg.GradcheckError, match="input 0 .*\n.*\n  hint: this is the gradient of input 1: are two "
                                                "gradients swapped"):
        mg.gradcheck(mul, [leaf(3, 4), leaf(3, 4)])


def test_the_checks_run_no_op_of_minigen_but_those_of_fn(monkeypatch):
    """The projection L = sum(v * y) is no Mul, Sum or Add of minigen: a broken Mul.backward leaves
    a function without a Mul unharmed (and the exercises check a student's Mul.backward this way)."""
    from minigen.ops.elementwise import Mul

    def broken(self, gy):
        raise AssertionError("the check ran Mul.backward")
    monkeypatch.setattr(Mul, "backward", broken)
    shift = custom(lambda x: x + 1.0, lambda fn, gy: gy)
    assert mg.gradcheck(shift, [leaf(3)])
    assert mg.gradgradcheck(shift, [leaf(3)])
