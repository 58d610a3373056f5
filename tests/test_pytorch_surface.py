"""The PyTorch surface of issue 15, as PyTorch 2.13 has it: values, dtypes and gradients against torch
in float64 (skipped without torch), and each rule also once without torch (hand-computed values)."""
import numpy as np
import pytest

import minigen as mg

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 5))
X3 = rng.standard_normal((2, 3, 4))
TIES = np.array([[1.0, 3.0, 1.0, 2.0, 3.0], [0.0, 0.0, -1.0, 0.0, 2.0]])
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
INTS = np.array([-7, -3, 0, 4, 7])
WITH_ZEROS = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
INDEX = np.array([[0, 4, 4], [1, 0, 2], [3, 3, 3], [2, 1, 0]])

# name: (f(lib, *inputs), inputs); float64 inputs require grad
CASES = {
    "clone": (lambda lib, x: x.clone(), [X]),
    "contiguous": (lambda lib, x: x.t().contiguous(), [X]),
    "repeat": (lambda lib, x: x.repeat(2, 1, 3), [X]),
    "chunk": (lambda lib, x: x.chunk(3, 1), [X]),
    "unbind": (lambda lib, x: x.unbind(1), [X]),
    "t": (lambda lib, x: x.t(), [X]),
    "squeeze_tuple": (lambda lib, x: x.reshape(1, 4, 1, 5).squeeze((0, 2, 3)), [X]),
    "std": (lambda lib, x: x.std(), [X]),
    "std_dim": (lambda lib, x: x.std(1), [X]),
    "std_positional": (lambda lib, x: x.std(0, False, True), [X]),
    "std_correction": (lambda lib, x: x.std(dim=(0, 2), correction=2, keepdim=True), [X3]),
    "std_unbiased_only": (lambda lib, x: lib.std(x, False), [X]),
    "std_of_constant": (lambda lib, x: (x * 0 + 1).std(1) + x.sum(), [X]),
    "long_int_float_double_bool": (lambda lib, x: (x.long(), x.int(), x.float(), x.double(), x.bool()), [X * 3]),
    "all_any": (lambda lib, x: ((x > 0).all(), (x > -1).all(1), (x > 1).any(0, True), lib.any(x > 2)), [X]),
    "isnan_isfinite": (lambda lib, x: (x.isnan(), lib.isfinite(x)), [SPECIAL]),
    "rounding": (lambda lib, x: (x.floor(), x.ceil(), x.round(), lib.round(x, decimals=1), x.sign()), [X * 3]),
    "round_half_to_even": (lambda lib, x: x.round(), [np.array([0.5, 1.5, 2.5, -0.5, -1.5])]),
    "powers_and_logs": (lambda lib, x: (x.square(), x.rsqrt(), x.reciprocal(), x.log2(), x.log10(), x.log1p(),
                                        x.expm1()), [np.abs(X) + 0.1]),
    "masked_fill": (lambda lib, x: x.masked_fill(x > 0, -1.5), [X]),
    "masked_fill_broadcast_mask": (lambda lib, x, m: x.masked_fill(m, 2.0), [X, np.array([True, False] * 2 + [True])]),
    "gather": (lambda lib, x, i: x.gather(1, i), [X, INDEX]),
    "gather_dim0": (lambda lib, x, i: lib.gather(x, 0, i[:2] % 4), [X, INDEX]),
    "scatter_add": (lambda lib, x, i, src: x.scatter_add(1, i, src), [X, INDEX, rng.standard_normal((4, 3))]),
    "index_select": (lambda lib, x, i: x.index_select(0, i), [X, np.array([3, 0, 3])]),
    "cumsum": (lambda lib, x: (x.cumsum(1), lib.cumsum(x, dim=0)), [X]),
    "cumsum_of_ints": (lambda lib, x: (x.long().cumsum(0), x.bool().cumsum(0)), [X * 3]),
    "norm": (lambda lib, x: (x.norm(), x.norm(1), x.norm(float("inf")), x.norm("fro"), x.norm(2, 1, True),
                             lib.norm(x, 3, dim=0), x.norm(-float("inf"), 1), x.norm(0.5, (0, 1))), [X]),
    "norm_at_zero": (lambda lib, x: (x.norm(), x.norm(2, 1), x.norm(1, 1), x.norm(float("inf"), 1),
                                     x.norm(3, 1), x.norm(0.5, 1)), [WITH_ZEROS]),
    "norm_max_ties": (lambda lib, x: x.norm(float("inf"), 1), [TIES]),
    "tril_triu": (lambda lib, x: (x.tril(), x.tril(1), lib.triu(x, -1), x.triu(2)), [X3]),
    "sort": (lambda lib, x: tuple(x.sort(1)), [X]),
    "sort_stable_ties": (lambda lib, x: tuple(x.sort(dim=1, descending=False, stable=True)), [TIES]),
    "sort_stable_ties_descending": (lambda lib, x: tuple(lib.sort(x, dim=-1, descending=True, stable=True)), [TIES]),
    "topk": (lambda lib, x: tuple(x.topk(2)) + tuple(x.topk(3, 0, False)), [X]),
    "where_scalars": (lambda lib, x: (lib.where(x > 0, 1.0, 0), lib.where(x > 0, 2, -1), x.where(x > 0, 0.5)), [X]),
    "floor_divide_remainder": (lambda lib, a, b: (a // b, a % b, a // 2, a % -3, 7 // b, -7 % b), [INTS, INTS % 5 + 1]),
    # PyTorch marks a // b as requiring grad, then refuses to differentiate it; minigen gives no gradient
    "float_floor_divide_remainder": (lambda lib, a, b: ((a // b).detach(), a % b, lib.remainder(a, -1.5)),
                                     [X * 3, np.abs(X[::-1]) + 0.5]),
    "bitwise": (lambda lib, a, b: (a & b, a | b, a ^ b, ~a, 6 & a, 6 | a, 6 ^ a, ~(a > 0)), [INTS, INTS[::-1].copy()]),
    "mm": (lambda lib, a, b: lib.mm(a, b), [X, X.T.copy()]),
    "bmm": (lambda lib, a, b: a.bmm(b), [X3, rng.standard_normal((2, 4, 3))]),
    "einsum_matmul": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [X, X.T.copy()]),
    "einsum_batched": (lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b), [X3, rng.standard_normal((2, 4, 3))]),
    "einsum_trace_and_diagonal": (lambda lib, a: (lib.einsum("ii->", a), lib.einsum("ii->i", a)), [X[:4, :4]]),
    "einsum_implicit_and_list": (lambda lib, a, b: (lib.einsum("ij,kj", a, b), lib.einsum("ij,kj->", [a, b])),
                                 [X, rng.standard_normal((3, 5))]),
    "einsum_sum_and_outer": (lambda lib, a, b: (lib.einsum("ij->j", a), lib.einsum("i,j->ij", b, b)),
                             [X, rng.standard_normal(3)]),
    "einsum_three_operands": (lambda lib, a, b, c: lib.einsum("ij,jk,kl->il", a, b, c),
                              [X, X.T.copy(), rng.standard_normal((4, 2))]),
}


def _inputs(lib, arrays):
    return [lib.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]


def _numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") and not isinstance(t, mg.Tensor) else t.numpy()


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", CASES)
def test_values_dtypes_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    f, arrays = CASES[name]
    ours_in, theirs_in = _inputs(mg, arrays), _inputs(torch, arrays)
    ours, theirs = _outputs(f(mg, *ours_in)), _outputs(f(torch, *theirs_in))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert str(a.dtype) == str(b.dtype).removeprefix("torch."), f"{name}: dtype {a.dtype} != torch's {b.dtype}"
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=1e-7, atol=1e-12)
        assert a.requires_grad == b.requires_grad
    differentiable = [(a, b) for a, b in zip(ours, theirs) if b.requires_grad]
    if not differentiable:
        return
    weights = [rng.standard_normal(b.shape) for _, b in differentiable]
    wanted = [k for k, x in enumerate(theirs_in) if x.requires_grad]
    g_ours = mg.grad(sum((a * mg.tensor(w)).sum() for (a, _), w in zip(differentiable, weights)),
                     [ours_in[k] for k in wanted], allow_unused=True)
    g_theirs = torch.autograd.grad(sum((b * torch.tensor(w)).sum() for (_, b), w in zip(differentiable, weights)),
                                   [theirs_in[k] for k in wanted], allow_unused=True)
    for a, b in zip(g_ours, g_theirs):
        a = np.zeros(1) if a is None else a.numpy()
        b = np.zeros(1) if b is None else b.numpy()
        np.testing.assert_allclose(a, np.broadcast_to(b, a.shape), rtol=1e-7, atol=1e-12)


def test_dim_is_the_number_of_dims():
    assert mg.zeros(2, 3, 4).dim() == 3 and mg.tensor(1.0).dim() == 0


# ------------------------------------------------------------------ without torch: the rules by hand
def test_floor_divide_rounds_toward_minus_infinity_and_remainder_takes_the_divisor_sign():
    a = mg.tensor([-7, 7, -7, 7])
    b = mg.tensor([2, 2, -2, -2])
    assert (a // b).tolist() == [-4, 3, 3, -4]
    assert (a % b).tolist() == [1, 1, -1, -1]
    assert (-7.5 % mg.tensor([2.0])).tolist() == [0.5]


def test_integer_division_by_zero_is_refused():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mg.tensor([1, 2]) // mg.tensor([1, 0])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mg.tensor([1, 2]) % 0


def test_remainder_gradient_is_one_for_x_and_minus_the_quotient_for_y():
    x, y = mg.tensor([7.0, -7.0], requires_grad=True), mg.tensor([2.0, 2.0], requires_grad=True)
    (x % y).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and y.grad.tolist() == [-3.0, 4.0]  # floor(3.5) = 3, floor(-3.5) = -4


def test_bitwise_ops_refuse_floats():
    with pytest.raises(TypeError, match="integer or boolean"):
        mg.tensor([1.0]) & mg.tensor([1.0])
    with pytest.raises(TypeError, match="integer or boolean"):
        ~mg.tensor([1.0])


def test_rounding_has_zero_gradient_and_keeps_integer_dtypes():
    x = mg.tensor([0.3, -1.7], requires_grad=True)
    (x.floor() + x.ceil() + x.round() + x.sign()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert mg.tensor([1, -2]).floor().dtype == mg.int64


def test_std_gradient_where_all_values_agree_is_zero_not_nan():
    x = mg.tensor([2.0, 2.0, 2.0], dtype=mg.float64, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_std_takes_unbiased_or_correction_not_both():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64)
    assert x.std().item() == pytest.approx(np.sqrt(5 / 3))
    assert x.std(0, False).item() == pytest.approx(np.sqrt(5 / 4))
    assert x.std(correction=0).item() == pytest.approx(np.sqrt(5 / 4))
    with pytest.raises(TypeError, match="not both"):
        x.std(unbiased=True, correction=1)


def test_norm_gradient_at_zero_is_zero_and_elsewhere_x_over_the_norm():
    x = mg.tensor([[0.0, 0.0], [3.0, -4.0]], dtype=mg.float64, requires_grad=True)
    x.norm(dim=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.6, -0.8]]


def test_norm_refuses_the_nuclear_norm_and_unknown_p():
    with pytest.raises(NotImplementedError, match="nuc"):
        mg.ones(2, 2).norm("nuc")
    with pytest.raises(ValueError, match="p must be"):
        mg.ones(2).norm("max")


def test_cumsum_gradient_is_the_reversed_running_sum():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x.cumsum(0) * mg.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [111.0, 110.0, 100.0]


def test_sort_is_stable_also_descending():
    values, indices = mg.tensor([1.0, 3.0, 1.0, 3.0]).sort(descending=True)
    assert values.tolist() == [3.0, 3.0, 1.0, 1.0] and indices.tolist() == [1, 3, 0, 2]
    assert indices.dtype == mg.int64


def test_sort_values_send_their_gradient_back_to_where_they_came_from():
    x = mg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    (x.sort().values * mg.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_topk_picks_the_k_largest_or_smallest_and_checks_k():
    x = mg.tensor([4.0, 9.0, 1.0, 7.0])
    assert x.topk(2).values.tolist() == [9.0, 7.0] and x.topk(2).indices.tolist() == [1, 3]
    assert x.topk(1, largest=False).values.tolist() == [1.0]
    with pytest.raises(RuntimeError, match="k must be"):
        x.topk(5)


def test_gather_and_scatter_add_by_hand():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    index = mg.tensor([[0, 0], [1, 0]])
    assert x.gather(1, index).tolist() == [[1.0, 1.0], [4.0, 3.0]]
    assert mg.zeros(2, 2).scatter_add(1, index, x).tolist() == [[3.0, 0.0], [4.0, 3.0]]  # repeats add up
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(1, mg.tensor([[2, 0], [0, 0]]))


def test_index_select_refuses_negative_and_too_large_indices():
    with pytest.raises(IndexError, match="out of range"):
        mg.zeros(3).index_select(0, mg.tensor([-1]))
    with pytest.raises(IndexError, match="out of range"):
        mg.zeros(3).index_select(0, mg.tensor([3]))


def test_masked_fill_keeps_the_dtype_and_needs_a_mask_that_broadcasts_to_x():
    x = mg.tensor([[1, 2], [3, 4]])
    assert x.masked_fill(mg.tensor([True, False]), 9).tolist() == [[9, 2], [9, 4]]
    assert x.masked_fill(x > 2, 0.5).dtype == mg.int64
    with pytest.raises(RuntimeError, match="does not broadcast"):
        mg.zeros(2).masked_fill(mg.tensor([[True], [False]]), 1.0)


def test_where_of_two_numbers_takes_pytorchs_default_dtypes():
    condition = mg.tensor([True, False])
    assert mg.where(condition, 1.0, 0).dtype == mg.float32
    assert mg.where(condition, 1, 0).dtype == mg.int64
    assert mg.where(condition, 1, 0).tolist() == [1, 0]


def test_repeat_tiles_and_adds_new_leading_dims():
    x = mg.tensor([1, 2])
    assert x.repeat(2, 2).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    with pytest.raises(ValueError, match="at least 2"):
        mg.zeros(2, 2).repeat(2)


def test_chunk_gives_pieces_of_ceil_n_over_chunks():
    assert [c.shape[0] for c in mg.arange(5).chunk(3)] == [2, 2, 1]
    assert [c.shape[0] for c in mg.arange(6).chunk(4)] == [2, 2, 2]  # fewer pieces than asked, as PyTorch


def test_squeeze_with_a_tuple_drops_only_those_dims_of_size_one():
    assert mg.zeros(1, 2, 1, 1).squeeze((0, 1, 3)).shape == (2, 1)


def test_t_refuses_more_than_two_dims():
    assert mg.zeros(3).t().shape == (3,)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        mg.zeros(1, 2, 3).t()


def test_integer_casts_carry_no_gradient():
    x = mg.tensor([1.5, -2.5], requires_grad=True)
    assert not x.long().requires_grad and x.long().tolist() == [1, -2]
    assert x.int().dtype == mg.int32 and x.bool().dtype == mg.bool_


def test_mm_and_bmm_check_shapes_as_pytorch():
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        mg.mm(mg.zeros(2, 3), mg.zeros(4, 5))
    with pytest.raises(RuntimeError, match="2-D"):
        mg.mm(mg.zeros(2, 3, 1), mg.zeros(1, 5))
    with pytest.raises(RuntimeError, match="3-D"):
        mg.bmm(mg.zeros(2, 3), mg.zeros(3, 2))
    with pytest.raises(RuntimeError, match="do not fit"):
        mg.bmm(mg.zeros(2, 3, 4), mg.zeros(3, 4, 2))


def test_einsum_trace_gradient_is_the_identity():
    x = mg.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    mg.einsum("ii->", x).backward()
    assert x.grad.tolist() == np.eye(3).tolist()


def test_einsum_checks_its_equation():
    with pytest.raises(ValueError, match="names 2 operands"):
        mg.einsum("ij,jk->ik", mg.zeros(2, 2))
    with pytest.raises(ValueError, match="size 2 and 3"):
        mg.einsum("ij,jk->ik", mg.zeros(2, 2), mg.zeros(3, 3))
    with pytest.raises(NotImplementedError, match="ellipsis"):
        mg.einsum("...ij->...ji", mg.zeros(2, 2))


# ------------------------------------------------------------------ creation
def test_from_numpy_shares_memory_both_ways():
    a = np.zeros(3)
    t = mg.from_numpy(a)
    a[0] = 5.0
    t.data[1] = 7.0
    assert t.tolist() == [5.0, 7.0, 0.0] and a.tolist() == [5.0, 7.0, 0.0]
    with pytest.raises(TypeError, match="numpy.ndarray"):
        mg.from_numpy([1, 2])


def test_randint_draws_in_range_from_the_seeded_stream():
    mg.manual_seed(3)
    a = mg.randint(2, 5, (1000,))
    mg.manual_seed(3)
    b = mg.randint(2, 5, size=(1000,))
    assert a.dtype == mg.int64 and a.tolist() == b.tolist()
    assert set(a.tolist()) == {2, 3, 4}
    assert mg.randint(10, (2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="low < high"):
        mg.randint(5, 5, (2,))


def test_randperm_is_a_permutation():
    p = mg.randperm(10)
    assert p.dtype == mg.int64 and sorted(p.tolist()) == list(range(10))


def test_linspace_includes_both_ends():
    x = mg.linspace(-1, 1, 5)
    assert x.dtype == mg.float32 and x.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert mg.linspace(0, 1, 0).shape == (0,)


def test_empty_has_the_asked_shape_and_dtype():
    x = mg.empty(2, 3, dtype=mg.float64)
    assert x.shape == (2, 3) and x.dtype == mg.float64


def test_creation_matches_pytorch():
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(mg.linspace(-2.5, 7, 11).numpy(), torch.linspace(-2.5, 7, 11).numpy(), rtol=1e-7)
    assert mg.linspace(0, 1, 3, dtype=mg.float64).dtype == mg.float64
    assert str(torch.randint(3, (2,)).dtype) == "torch." + str(mg.randint(3, (2,)).dtype)
    assert str(torch.randperm(3).dtype) == "torch." + str(mg.randperm(3).dtype)
