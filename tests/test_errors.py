"""Bad input gets a clear error that names the op and the shapes, devices or dtypes involved."""
import re

import numpy as np
import pytest

import minigen as mg


def test_misaligned_matmul_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align: 4 != 5"):
        mg.randn(3, 4) @ mg.randn(5, 2)


def test_matmul_batch_dims_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3, 4\).*\(5, 4, 2\)"):
        mg.randn(2, 3, 4) @ mg.randn(5, 4, 2)


def test_matmul_of_a_0d_tensor():
    with pytest.raises(ValueError, match="at least one dim"):
        mg.matmul(mg.tensor(2.0), mg.randn(3))


@pytest.mark.parametrize("op", [mg.add, mg.sub, mg.mul, mg.div, mg.maximum])
def test_shapes_that_do_not_broadcast(op):
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)|\(5,\).*\(3, 4\)"):
        op(mg.randn(3, 4), mg.randn(5))


def test_broadcast_to_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"broadcast_to: .*\(3,\).* \(2, 4\)"):
        mg.broadcast_to(mg.randn(3), (2, 4))


def test_reshape_to_a_different_size():
    with pytest.raises(ValueError, match=r"reshape: cannot view a tensor of shape \(2, 3\) \(6 elements\) as \(4,\)"):
        mg.randn(2, 3).reshape(4)


def test_dim_out_of_range():
    with pytest.raises(IndexError, match=r"sum: dim 2 out of range for a tensor of 2 dims"):
        mg.randn(2, 3).sum(dim=2)


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"GetItem: .*\(3,\)"):
        mg.randn(3)[5]


def test_cat_of_mismatched_shapes():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        mg.cat([mg.randn(2, 3), mg.randn(2, 4)], dim=0)


def test_backward_on_non_scalar_without_grad():
    y = mg.randn(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"grad can be implied only for a tensor with one element, got shape \(3,\)"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = mg.randn(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but the output has shape \(3,\)"):
        y.backward(mg.ones(2))


def test_backward_on_a_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.randn(3).sum().backward()


def test_requires_grad_on_an_integer_tensor():
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got dtype int64"):
        mg.tensor([1, 2, 3], requires_grad=True)


def test_grad_of_an_input_not_in_the_graph():
    x, other = mg.randn(2, requires_grad=True), mg.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(2,\)\) is not part of the graph"):
        mg.grad((x * 2).sum(), [x, other])


def test_grad_of_an_input_that_does_not_require_grad():
    x = mg.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad: input 0 does not require grad"):
        mg.grad((x * 2).sum(), [mg.randn(2)])


def test_a_backward_returning_the_wrong_shape_is_named():
    class Forgetful(mg.Function):  # forgets to sum over the broadcast axis
        def forward(self, x, y):
            return x + y

        def backward(self, gy):
            return gy, gy

    x, y = mg.randn(4, 3, requires_grad=True), mg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Forgetful.backward returned a gradient of shape \(4, 3\) for input 1 "
                                           r"of shape \(3,\) \(forgot to sum over a broadcast axis\?\)"):
        Forgetful.apply(x, y).sum().backward()


class _Square(mg.Function):
    def forward(self, x):
        return x * x


def test_a_backward_returning_a_raw_array_is_named():
    class RawSquare(_Square):
        def backward(self, gy):
            return 2 * self.inputs[0].data * gy.data  # arrays, not Tensors

    with pytest.raises(TypeError, match="RawSquare.backward must return a tuple of Tensors or None.*got ndarray"):
        RawSquare.apply(mg.randn(3, requires_grad=True)).sum().backward()


def test_a_backward_returning_a_list_is_named():
    class ListSquare(_Square):
        def backward(self, gy):
            return [2 * self.inputs[0] * gy]

    with pytest.raises(TypeError, match="ListSquare.backward must return a tuple .* got list"):
        ListSquare.apply(mg.randn(3, requires_grad=True)).sum().backward()


def test_a_backward_returning_an_array_in_its_tuple_is_named():
    class TupleOfArray(_Square):
        def backward(self, gy):
            return (gy.data,)

    with pytest.raises(TypeError, match="TupleOfArray.backward returned a ndarray for input 0; expected a Tensor"):
        TupleOfArray.apply(mg.randn(3, requires_grad=True)).sum().backward()


def test_a_backward_returning_too_few_gradients_is_named():
    class Product(mg.Function):
        def forward(self, x, y):
            return x * y

        def backward(self, gy):
            return gy * self.inputs[1]  # forgot the gradient for y

    x, y = mg.randn(3, requires_grad=True), mg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Product.backward returned an incorrect number of gradients "
                                           r"\(expected 2, one per input, got 1\)"):
        Product.apply(x, y).sum().backward()


def test_backward_with_a_gradient_of_another_kind_of_dtype():
    y = mg.randn(3, requires_grad=True) * 2
    with pytest.raises(TypeError, match="backward: gradient has dtype int64 but the output has dtype float32"):
        y.backward(mg.ones(3, dtype=mg.int64))


def test_leaky_relu_of_an_integer_tensor():
    with pytest.raises(TypeError, match="leaky_relu: expected a floating point tensor, got dtype int64"):
        mg.leaky_relu(mg.tensor([-1, 2]))


def test_expand_with_minus_one_in_a_new_leading_dim():
    with pytest.raises(ValueError, match=r"expand: -1 keeps an existing dimension, but \(-1, 3\) puts it in a new "
                                         r"leading dimension of a tensor of shape \(3,\)"):
        mg.zeros(3).expand(-1, 3)


def test_cat_of_zero_dimensional_tensors():
    with pytest.raises(ValueError, match="cat: zero-dimensional tensors cannot be concatenated"):
        mg.cat([mg.tensor(1.0), mg.tensor(2.0)])


@pytest.mark.parametrize("compare", [lambda a, b: a == b, lambda a, b: a < b, mg.ne])
def test_comparing_shapes_that_do_not_broadcast(compare):
    with pytest.raises(ValueError, match=r"(eq|lt|ne): shapes \(3,\) and \(4,\) do not broadcast"):
        compare(mg.zeros(3), mg.zeros(4))


def test_bad_device_strings():
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        mg.zeros(2, device="gpu")
    with pytest.raises(ValueError, match="takes no index"):
        mg.zeros(2, device="cpu:1")


@pytest.mark.skipif(mg.cuda_is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        mg.zeros(2).to("cuda")


def test_tensor_from_unsupported_data():
    with pytest.raises(TypeError, match=r"tensor: cannot make a tensor from str"):
        mg.tensor("abc")


def test_bad_dtype():
    with pytest.raises(TypeError, match="dtype must be a NumPy dtype"):
        mg.zeros(2, dtype="floaty")


def test_negative_size():
    with pytest.raises(ValueError, match=r"zeros: sizes must be non-negative, got \(2, -1\)"):
        mg.zeros(2, -1)


def test_operation_with_an_unsupported_operand():
    with pytest.raises(TypeError, match="expected a Tensor, a number or an array, got dict"):
        mg.randn(2) + {}


def test_bool_of_a_multi_element_tensor():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.randn(3))


def test_item_of_a_multi_element_tensor():
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element, got shape \(3,\)"):
        mg.randn(3).item()


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="input 0 has dtype float32"):
        mg.gradcheck(mg.exp, [mg.randn(3, requires_grad=True)])


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="where: condition must be a boolean tensor, got dtype float32"):
        mg.where(mg.randn(2), mg.randn(2), mg.randn(2))


def test_manual_seed_rejects_bad_seeds():
    with pytest.raises(ValueError, match="non-negative integer"):
        mg.manual_seed(-1)


def test_split_sizes_that_do_not_add_up():
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] do not add up to 3"):
        mg.split(mg.randn(3), [1, 1])


def test_permute_with_a_non_permutation():
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not a permutation"):
        mg.randn(2, 3).permute(0, 0)


def test_pad_with_too_many_widths():
    with pytest.raises(ValueError, match="pad: expected an even number"):
        mg.pad(mg.randn(3), (1, 1, 1, 1))


def test_numpy_arrays_mixed_in_keep_clear_errors():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)|\(4,\).*\(3,\)"):
        np.ones(4) + mg.randn(3)


def test_permute_with_a_dim_out_of_range():
    with pytest.raises(ValueError, match=r"permute: \(3, 0\) is not a permutation"):
        mg.zeros(2, 3).permute(3, 0)


def test_gradgradcheck_with_no_input_requiring_grad():
    with pytest.raises(ValueError, match="gradgradcheck: no input requires grad"):
        mg.gradgradcheck(mg.exp, [mg.randn(3, dtype=mg.float64)])


def test_assigning_a_grad_of_the_wrong_shape():
    w = mg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assigned grad has shape \(4,\), but the tensor has shape \(3,\)"):
        w.grad = mg.zeros(4)
    with pytest.raises(TypeError, match="assigned grad must be a Tensor or None, got ndarray"):
        w.grad = np.zeros(3)
    w.grad = mg.zeros(3)
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("state_dict, message", [
    ({"foo": 1}, r"load_state_dict: expected a dict with keys 'state' and 'param_groups' \(from "
                 r"optimizer.state_dict\(\)\), got keys \['foo'\]"),
    ([1, 2], r"load_state_dict: expected a dict .* got list"),
])
def test_optimizer_load_state_dict_of_something_else(state_dict, message):
    optimizer = mg.optim.SGD([mg.randn(3, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(state_dict)


def test_cross_entropy_with_class_indices_stored_as_floats():
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(4,\) looks like class indices but has "
                                         r"dtype float32: convert it to integers \(target.long\(\)\)"):
        mg.nn.functional.cross_entropy(mg.randn(4, 3), mg.tensor([0.0, 1.0, 2.0, 1.0]))


@pytest.mark.parametrize("data", [float("nan"), [1.0, float("inf")], np.array([np.nan, 1.0]), mg.tensor([np.nan])])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_nan_or_inf_to_an_integer_dtype_is_refused(data, dtype):
    with pytest.raises(ValueError, match=f"tensor: cannot convert nan or inf to {dtype}: 1 of the values"):
        mg.tensor(data, dtype=dtype)


@pytest.mark.parametrize("array", [np.array([{}], dtype=object), np.array(["a"]), np.array([b"a"]),
                                   np.array(["2020-01-01"], dtype="datetime64[D]"),
                                   np.array([1], dtype="timedelta64[s]"), np.array([1 + 2j])], ids=lambda a: str(a.dtype))
def test_arrays_of_non_numbers_are_refused_as_lists_of_them_are(array):
    message = f"tensor: cannot make a tensor from ndarray (NumPy sees dtype {array.dtype})"
    with pytest.raises(TypeError, match=re.escape(message)):
        mg.tensor(array)
    with pytest.raises(TypeError, match="cannot make a tensor from list"):
        mg.tensor(array.tolist())
