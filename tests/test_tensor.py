"""Making tensors, their attributes, dtype rules (NumPy 2), conversions and methods."""
import numpy as np
import pytest

import minigen as mg


# ------------------------------------------------------------------ creation
def test_python_floats_become_float32_ints_int64_bools_bool():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True]).dtype == np.bool_


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    a = np.arange(3.0)
    t = mg.tensor(a)
    assert t.dtype == mg.float64
    a[0] = 9
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_dtype_argument_wins():
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == mg.float64
    assert mg.tensor([1.5], dtype="float16").dtype == mg.float16


@pytest.mark.parametrize("make", [mg.zeros, mg.ones, mg.randn, mg.rand])
def test_filled_and_random_tensors(make, device):
    t = make(2, 3, device=device)
    assert t.shape == (2, 3) and t.dtype == mg.float32 and t.device == mg.backend.canonical_device(device)
    assert make((2, 3)).shape == (2, 3)


def test_full_takes_its_dtype_from_the_value():
    assert mg.full((2,), 1.5).dtype == mg.float32
    assert mg.full((2,), 3).dtype == mg.int64
    assert mg.full(2, 1.5).tolist() == [1.5, 1.5]


def test_full_takes_numpy_scalars_as_size_and_value():
    assert mg.full(np.int64(3), 1.5).tolist() == [1.5, 1.5, 1.5]
    assert mg.full((2,), np.int64(1)).dtype == mg.int64  # an integer value: int64, as PyTorch


def test_float32_arange_does_not_drift():
    x = mg.arange(1000, 2000, 0.1)
    assert x.dtype == mg.float32 and x.shape == (10000,)
    assert x[-1].item() == np.float32(1999.9)  # start + k step in float64, then cast (was 1999.656)


def test_arange_of_a_numpy_integer_is_int64():
    assert mg.arange(np.int64(5)).dtype == mg.int64


def test_iterating_yields_the_rows_and_refuses_a_0d_tensor():
    assert [row.tolist() for row in mg.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(mg.tensor(1.0))


def test_flipping_a_0d_tensor_gives_it_back():
    x = mg.tensor(2.0, requires_grad=True)
    assert mg.flip(x, 0).item() == 2.0 and mg.flip(x, (-1,)).item() == 2.0


def test_arange_and_eye():
    assert mg.arange(4).tolist() == [0, 1, 2, 3] and mg.arange(4).dtype == mg.int64
    assert mg.arange(0.0, 1.0, 0.5).tolist() == [0.0, 0.5]
    np.testing.assert_array_equal(mg.eye(2, 3).numpy(), np.eye(2, 3))


def test_like_functions_copy_shape_dtype_device():
    x = mg.randn(2, 3, dtype=mg.float64)
    for like in (mg.zeros_like, mg.ones_like, mg.randn_like, mg.rand_like):
        y = like(x)
        assert (y.shape, y.dtype, y.device) == ((2, 3), mg.float64, "cpu")
    assert mg.full_like(x, 7.0).tolist() == [[7.0] * 3] * 2


def test_manual_seed_repeats_the_stream():
    mg.manual_seed(3)
    a = mg.randn(5).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(a, mg.randn(5).numpy())


def test_rng_state_round_trip():
    state = mg.get_rng_state()
    a = mg.rand(4).numpy()
    mg.set_rng_state(state)
    np.testing.assert_array_equal(a, mg.rand(4).numpy())


# ------------------------------------------------------------------ attributes and conversions
def test_attributes():
    t = mg.zeros(2, 3, 4)
    assert (t.shape, t.ndim, t.size(), t.size(1), t.numel(), len(t)) == ((2, 3, 4), 3, (2, 3, 4), 3, 24, 2)
    assert t.is_leaf and t.grad is None and not t.requires_grad


def test_numpy_item_tolist():
    t = mg.tensor([[1.0, 2.0]])
    assert isinstance(t.numpy(), np.ndarray) and t.tolist() == [[1.0, 2.0]]
    assert mg.tensor(3.5).item() == 3.5 and float(mg.tensor([2.0])) == 2.0


def test_float_double_and_gradient_cast_back():
    x = mg.randn(3, requires_grad=True)
    y = (x.double() * 3).sum()
    assert x.double().dtype == mg.float64 and x.double().float().dtype == mg.float32
    y.backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0] * 3)


def test_to_returns_self_when_nothing_changes():
    x = mg.randn(2)
    assert x.to("cpu") is x and x.to(mg.float32) is x and x.cpu() is x


def test_to_accepts_device_and_dtype_together():
    y = mg.randn(2).to("cpu", mg.float64)
    assert y.dtype == mg.float64 and y.device == "cpu"


def test_requires_grad_():
    x = mg.randn(2).requires_grad_()
    assert x.requires_grad and x.is_leaf


def test_repr_shows_dtype_device_and_grad():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype=mg.float64))
    assert "requires_grad=True" in repr(mg.tensor([1.0], requires_grad=True))
    assert "grad_fn=<Mul>" in repr(mg.tensor([1.0], requires_grad=True) * 2)


# ------------------------------------------------------------------ dtype rules (NumPy 2)
def test_python_scalars_are_weak():
    x = mg.randn(3)
    assert (x * 2.0).dtype == mg.float32 and (2.0 * x).dtype == mg.float32 and (x ** 2).dtype == mg.float32
    assert (mg.tensor([1, 2]) * 2.5).dtype == mg.float32  # PyTorch: the default dtype, not float64
    assert (mg.tensor([1, 2]) + 1).dtype == mg.int64


def test_float32_with_float64_gives_float64():
    assert (mg.randn(3) + mg.randn(3, dtype=mg.float64)).dtype == mg.float64
    assert (mg.randn(3) * np.ones(3)).dtype == mg.float64


def test_gradient_of_a_mixed_precision_op_has_the_leaf_dtype():
    x = mg.randn(3, requires_grad=True)
    w = mg.randn(3, dtype=mg.float64, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == mg.float32 and w.grad.dtype == mg.float64


# ------------------------------------------------------------------ operators and methods
def test_reflected_operators_with_scalars_and_arrays():
    x = mg.tensor([1.0, 2.0])
    assert (1 - x).tolist() == [0.0, -1.0]
    assert (2 / x).tolist() == [2.0, 1.0]
    assert (2 ** x).tolist() == [2.0, 4.0]
    assert (np.array([1.0, 1.0]) - x).tolist() == [0.0, -1.0]
    assert (np.eye(2) @ x).tolist() == [1.0, 2.0]
    assert isinstance(np.ones(2) * x, mg.Tensor)


def test_reflected_operators_are_differentiable():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda x: 2 / x + 3 - x + 2 ** x + np.array([1.0, 2.0]) * x, [x])


def test_comparisons_give_boolean_tensors_without_grad():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad and mask.tolist() == [False, True, True]
    assert (x == 2.0).tolist() == [False, True, False] and (x <= 2).tolist() == [True, True, False]


def test_tensors_stay_hashable():
    x = mg.randn(2)
    assert {x: 1}[x] == 1


def test_max_and_min_with_dim_return_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.min(dim=0).values.tolist() == [1.0, 0.0, 2.0]
    assert x.max().item() == 7.0 and x.argmin().item() == 4


def test_max_gradient_is_split_evenly_among_ties():
    x = mg.tensor([3.0, 1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 0.0, 1 / 3, 1 / 3])


def test_maximum_gradient_is_halved_at_ties():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([1.0, 0.0], requires_grad=True)
    mg.maximum(x, y).sum().backward()
    assert x.grad.tolist() == [0.5, 1.0] and y.grad.tolist() == [0.5, 0.0]


def test_reductions_accept_numpy_axis_and_keepdims():
    x = mg.randn(2, 3, 4)
    assert x.sum(axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert mg.mean(x, dim=1, keepdim=True).shape == (2, 1, 4)
    with pytest.raises(TypeError, match="give dim or axis, not both"):
        x.sum(dim=0, axis=1)


def test_var_defaults_to_bessel_correction():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64)
    assert x.var().item() == pytest.approx(np.var(x.numpy(), ddof=1))
    assert x.var(correction=0).item() == pytest.approx(np.var(x.numpy()))


def test_shape_methods():
    x = mg.randn(2, 3)
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2) and x.view(3, 2).shape == (3, 2)
    assert x.unsqueeze(0).squeeze().shape == (2, 3) and x.flatten().shape == (6,)
    assert x.expand(4, 2, 3).shape == (4, 2, 3) and x.transpose(0, 1).shape == (3, 2)
    assert [p.shape for p in x.split(2, dim=1)] == [(2, 2), (2, 1)]


def test_iteration_goes_over_the_first_dim():
    rows = list(mg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


def test_boolean_mask_and_tensor_indices():
    x = mg.arange(6).reshape(2, 3)
    assert x[x > 2].tolist() == [3, 4, 5]
    assert x[mg.tensor([1, 1, 0])].shape == (3, 3)
    assert x[:, [0, 2]].tolist() == [[0, 2], [3, 5]]


def test_integer_index_gradients_add_up_at_repeats():
    x = mg.zeros(3, requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0]


def test_stable_log_softmax_and_logsumexp_with_large_values():
    x = mg.tensor([1000.0, 0.0, -1000.0], dtype=mg.float64)
    assert mg.logsumexp(x).item() == pytest.approx(1000.0)
    np.testing.assert_allclose(mg.log_softmax(x).numpy(), [0.0, -1000.0, -2000.0])
    assert np.isfinite(mg.softmax(x).numpy()).all()


def test_sigmoid_and_softplus_do_not_overflow():
    x = mg.tensor([-1000.0, 0.0, 1000.0], dtype=mg.float64)
    np.testing.assert_allclose(mg.sigmoid(x).numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(mg.softplus(x).numpy(), [0.0, np.log(2), 1000.0])


def test_relu_gives_positive_zero_and_no_nan_at_minus_infinity():
    y = mg.relu(mg.tensor([-1.0, -np.inf, 2.0])).numpy()
    np.testing.assert_array_equal(y, [0.0, 0.0, 2.0])
    assert not np.signbit(y[0])


def test_power_zero_has_zero_gradient_at_zero():
    x = mg.tensor([0.0, 2.0], dtype=mg.float64, requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_tensor_power_second_derivatives_are_finite_at_zero_base():
    x = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([2.0], dtype=mg.float64, requires_grad=True)
    _, gy = mg.grad((x ** y).sum(), [x, y], create_graph=True)
    (gxy,) = mg.grad(gy.sum(), x)
    assert np.isfinite(gxy.numpy()).all()


def test_variance_of_one_element_gives_nan_not_an_exception():
    x = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(all="ignore"):
        v = x.var()
    v.backward()
    assert np.isnan(v.item()) and np.isnan(x.grad.item())
