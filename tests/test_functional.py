"""minigen.nn.functional (losses against closed forms and PyTorch, stability, validation),
minigen.nn.init and minigen.nn.utils.clip_grad_norm_.

Forward values, gradients and second derivatives of the functions are also checked on
random inputs by the op-spec table (tests/op_specs_nn.py)."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.nn.functional as F
from minigen import nn

rng = np.random.default_rng(0)
LOSSES = {  # name: (input, target) for a valid call
    "mse_loss": lambda: (mg.randn(2, 3), mg.randn(2, 3)),
    "l1_loss": lambda: (mg.randn(2, 3), mg.randn(2, 3)),
    "binary_cross_entropy": lambda: (mg.rand(2, 3), mg.rand(2, 3)),
    "binary_cross_entropy_with_logits": lambda: (mg.randn(2, 3), mg.rand(2, 3)),
    "nll_loss": lambda: (mg.randn(2, 3), mg.tensor([0, 2])),
    "cross_entropy": lambda: (mg.randn(2, 3), mg.tensor([0, 2])),
}


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ losses: closed forms
X = mg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=mg.float64)
Y = mg.tensor([[0.0, 1.0], [0.5, 1.0]], dtype=mg.float64)


@pytest.mark.parametrize("reduction, expected", [("none", [[1, 9], [0, 4]]), ("sum", 14), ("mean", 3.5)])
def test_mse_loss_is_the_squared_difference_reduced(reduction, expected):
    np.testing.assert_array_equal(F.mse_loss(X, Y, reduction=reduction).numpy(), expected)


@pytest.mark.parametrize("reduction, expected", [("none", [[1, 3], [0, 2]]), ("sum", 6), ("mean", 1.5)])
def test_l1_loss_is_the_absolute_difference_reduced(reduction, expected):
    np.testing.assert_array_equal(F.l1_loss(X, Y, reduction=reduction).numpy(), expected)


@pytest.mark.parametrize("reduction, expected", [
    ("none", [-math.log(0.8), -math.log(0.4), math.log(2)]),
    ("sum", -math.log(0.8) - math.log(0.4) + math.log(2)),
    ("mean", (-math.log(0.8) - math.log(0.4) + math.log(2)) / 3)])
def test_binary_cross_entropy_closed_form(reduction, expected):
    p, y = mg.tensor([0.8, 0.6, 0.5], dtype=mg.float64), mg.tensor([1.0, 0.0, 0.5], dtype=mg.float64)
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, reduction=reduction).numpy(), expected, rtol=1e-12)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_like_pytorch():
    p = mg.tensor([0.0, 1.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, mg.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100, 100, 0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


def test_binary_cross_entropy_refuses_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"input must hold probabilities in \[0, 1\].*sigmoid"):
        F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([1.0, 0.0]))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_binary_cross_entropy_with_logits_is_bce_of_the_sigmoid(reduction):
    x, y = mg.randn(3, 4, dtype=mg.float64), mg.rand(3, 4, dtype=mg.float64)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, reduction=reduction).numpy(),
                               F.binary_cross_entropy(mg.sigmoid(x), y, reduction=reduction).numpy(), rtol=1e-12)


def test_binary_cross_entropy_with_logits_is_finite_and_exact_at_large_logits():
    x = mg.tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [0, 0, 1000, 1000])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, -1])  # sigma(x) - y


def test_binary_cross_entropy_with_logits_gradient_at_zero_is_one_half_minus_y():
    x = mg.zeros(2, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, mg.tensor([0.0, 1.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, -0.5])


def test_nll_loss_picks_minus_the_target_entry():
    logp = mg.tensor([[-1.0, -2.0, -3.0], [-0.5, -0.25, -4.0]])
    np.testing.assert_array_equal(F.nll_loss(logp, mg.tensor([2, 1]), reduction="none").numpy(), [3.0, 0.25])


def test_cross_entropy_of_uniform_logits_is_log_of_the_class_count():
    np.testing.assert_allclose(F.cross_entropy(mg.zeros(4, 5), mg.tensor([0, 1, 2, 4])).item(), math.log(5),
                               rtol=1e-6)


# ------------------------------------------------------------------ losses: against PyTorch
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 2, 2)], ids=str)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_losses_match_pytorch_values_and_gradients(torch, name, shape, reduction):
    x = rng.standard_normal(shape)
    target = rng.integers(0, shape[1], shape[:1] + shape[2:])
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss_ours = getattr(F, name)(ours, mg.tensor(target), reduction=reduction)
    loss_theirs = getattr(torch.nn.functional, name)(theirs, torch.tensor(target), reduction=reduction)
    np.testing.assert_allclose(loss_ours.numpy(), loss_theirs.detach().numpy(), rtol=1e-12)
    loss_ours.sum().backward()
    loss_theirs.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cross_entropy_with_class_probabilities_matches_pytorch(torch, reduction):
    x, p = rng.standard_normal((3, 4, 2)), rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1)
    ours = F.cross_entropy(mg.tensor(x), mg.tensor(p), reduction=reduction)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_pointwise_losses_match_pytorch(torch, name, reduction):
    x, y = rng.uniform(0.01, 0.99, (3, 4)), rng.uniform(0, 1, (3, 4))
    ours = getattr(F, name)(mg.tensor(x), mg.tensor(y), reduction=reduction)
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y), reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_losses_of_float32_inputs_stay_float32():
    assert {getattr(F, name)(*make()).dtype for name, make in LOSSES.items()} == {np.dtype(np.float32)}


# ------------------------------------------------------------------ losses: validation
@pytest.mark.parametrize("name", LOSSES)
def test_an_unknown_reduction_is_named_in_the_error(name):
    with pytest.raises(ValueError, match=f"{name}: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        getattr(F, name)(*LOSSES[name](), reduction="avg")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_pointwise_losses_name_both_shapes_when_they_differ(name):
    with pytest.raises(ValueError, match=rf"{name}: input of shape \(4, 1\) and target of shape \(4,\) must have the "
                                         "same shape"):
        getattr(F, name)(mg.rand(4, 1), mg.rand(4))


def test_a_reduction_in_the_third_slot_is_refused_as_pytorchs_size_average():
    with pytest.raises(NotImplementedError, match="mse_loss: size_average='sum' is not implemented"):
        F.mse_loss(mg.zeros(2), mg.zeros(2), "sum")


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_losses_name_both_shapes_when_the_target_does_not_fit(name):
    with pytest.raises(ValueError, match=rf"{name}: input of shape \(4, 3\) \(N, C, ...\) and target of shape "
                                         r"\(3,\) do not fit: expected target of shape \(4,\)"):
        getattr(F, name)(mg.randn(4, 3), mg.tensor([0, 1, 2]))


def test_nll_loss_needs_a_batch_dim():
    with pytest.raises(ValueError, match=r"nll_loss: expected input of shape \(N, C, ...\), got shape \(3,\)"):
        F.nll_loss(mg.randn(3), mg.tensor(1))


def test_cross_entropy_needs_at_least_a_class_dim():
    with pytest.raises(ValueError, match=r"cross_entropy: expected input of shape \(N, C, ...\) or \(C,\), got shape \(\)"):
        F.cross_entropy(mg.tensor(1.0), mg.tensor(1))


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_indices_outside_the_classes_are_refused(name):
    with pytest.raises(IndexError, match=rf"{name}: target holds class indices from 0 to 3, outside \[0, 3\)"):
        getattr(F, name)(mg.randn(2, 3), mg.tensor([0, 3]))


def test_nll_loss_needs_integer_targets():
    with pytest.raises(TypeError, match="nll_loss: target must hold class indices"):
        F.nll_loss(mg.randn(2, 3), mg.tensor([0.0, 1.0]))


# ------------------------------------------------------------------ layers as functions
def test_linear_names_both_shapes_when_they_do_not_fit():
    with pytest.raises(ValueError, match=r"linear: input of shape \(3, 5\) does not fit a weight of shape \(2, 4\)"):
        F.linear(mg.randn(3, 5), mg.randn(2, 4))


def test_batch_norm_updates_the_running_statistics_in_place_like_pytorch(torch):
    x = rng.standard_normal((5, 3, 4))
    mean_ours, var_ours = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    arrays = mean_ours.data, var_ours.data
    mean_theirs, var_theirs = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.batch_norm(mg.tensor(x), mean_ours, var_ours, training=True, momentum=0.2)
    torch.nn.functional.batch_norm(torch.tensor(x), mean_theirs, var_theirs, training=True, momentum=0.2)
    assert (mean_ours.data, var_ours.data) == arrays  # the same arrays, written in place
    np.testing.assert_allclose(mean_ours.numpy(), mean_theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var_ours.numpy(), var_theirs.numpy(), rtol=1e-12)  # unbiased: n / (n - 1)


def test_batch_norm_update_is_not_recorded_in_the_graph():
    running_mean = mg.zeros(2)
    x = mg.randn(4, 2, requires_grad=True)
    F.batch_norm(x, running_mean, mg.ones(2), training=True)
    assert running_mean.grad_fn is None and not running_mean.requires_grad


def test_batch_norm_in_eval_mode_needs_running_statistics():
    with pytest.raises(ValueError, match="training=False needs running_mean and running_var"):
        F.batch_norm(mg.randn(4, 2), None, None)


def test_batch_norm_names_a_parameter_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"batch_norm: weight has shape \(3,\), expected \(2,\)"):
        F.batch_norm(mg.randn(4, 2), None, None, weight=mg.ones(3), training=True)


def test_dropout_with_p_one_zeroes_everything():
    np.testing.assert_array_equal(F.dropout(mg.ones(5), p=1.0).numpy(), np.zeros(5))


def test_dropout_when_not_training_returns_its_input():
    x = mg.randn(3)
    assert F.dropout(x, 0.5, training=False) is x


@pytest.mark.parametrize("scale", [2, 2.0, (1, 3)])
def test_upsample_matches_pytorch_nearest(torch, scale):
    x = rng.standard_normal((2, 3, 3, 4))
    ours = F.upsample(mg.tensor(x), scale_factor=scale)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale, mode="nearest")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("size", [6, (3, 8)])
def test_upsample_to_a_size_matches_pytorch_nearest(torch, size):
    x = rng.standard_normal((2, 3, 3, 4)) if size != 6 else rng.standard_normal((2, 3, 2, 3))
    ours = F.upsample(mg.tensor(x), size)
    theirs = torch.nn.functional.upsample(torch.tensor(x), size)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_upsample_takes_the_size_first_as_pytorch():
    """F.upsample(x, (2, 4)) makes a 2 x 4 image: PyTorch's first slot is size, not scale_factor."""
    x = mg.tensor([[[[1.0, 2.0]]]])
    np.testing.assert_array_equal(F.upsample(x, (2, 4)).numpy(), [[[[1.0, 1.0, 2.0, 2.0]] * 2]])


def test_upsample_gradient_sums_each_block():
    x = mg.randn(1, 1, 2, 2, requires_grad=True)
    F.upsample(x, scale_factor=3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 2), 9.0))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(scale_factor=2, mode="bicubic"), NotImplementedError, "mode must be one of"),
    (dict(scale_factor=2, mode="nearest", align_corners=True), ValueError, "align_corners can only be set"),
    (dict(scale_factor=(2, 2, 2)), ValueError, "scale_factor must be a positive number or 2 of them"),
    (dict(size=4, scale_factor=2), ValueError, "exactly one of size and scale_factor"),
    (dict(size=(4, 0)), ValueError, "size must be a positive int or 2 of them"),
    (dict(scale_factor=2, antialias=True), NotImplementedError, "antialias"),
])
def test_interpolate_refuses_what_it_does_not_do(kwargs, error, message):
    with pytest.raises(error, match=message):
        F.interpolate(mg.randn(1, 1, 2, 2), **kwargs)


# ------------------------------------------------------------------ init
@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                                 ("leaky_relu", None), ("leaky_relu", 0.2), ("conv2d", None)])
def test_calculate_gain_matches_pytorch(torch, nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_refuses_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'"):
        nn.init.calculate_gain("gelu")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3, 3), (2, 6, 4)], ids=str)
def test_fans_are_counted_like_pytorch(torch, shape):
    assert nn.init.calculate_fan_in_and_fan_out(mg.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(3,\)"):
        nn.init.xavier_uniform_(mg.zeros(3))


@pytest.mark.parametrize("fill, bound", [
    (lambda w: nn.init.xavier_uniform_(w, gain=2.0), 2.0 * math.sqrt(6 / (400 + 300))),
    (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / 400)),
    (lambda w: nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / 300)),
    (lambda w: nn.init.uniform_(w, -0.3, 0.3), 0.3),
], ids=["xavier_uniform_", "kaiming_uniform_", "kaiming_uniform_fan_out", "uniform_"])
def test_uniform_initializers_fill_up_to_their_bound(fill, bound):
    w = fill(mg.zeros(300, 400)).numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.01)


@pytest.mark.parametrize("fill, std", [
    (lambda w: nn.init.xavier_normal_(w), math.sqrt(2 / (400 + 300))),
    (lambda w: nn.init.kaiming_normal_(w, a=0.2), math.sqrt(2 / (1 + 0.2 ** 2)) / math.sqrt(400)),
    (lambda w: nn.init.normal_(w, 1.0, 0.5), 0.5),
], ids=["xavier_normal_", "kaiming_normal_", "normal_"])
def test_normal_initializers_have_their_standard_deviation(fill, std):
    np.testing.assert_allclose(fill(mg.zeros(300, 400)).numpy().std(), std, rtol=0.01)


def test_kaiming_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        nn.init.kaiming_normal_(mg.zeros(2, 2), mode="fan")


def test_initializers_fill_in_place_and_return_the_tensor():
    p = nn.Parameter(mg.zeros(3, 4))
    array = p.data
    assert nn.init.constant_(p, 0.5) is p and p.data is array and (p.numpy() == 0.5).all()
    assert (nn.init.ones_(p).numpy() == 1).all() and (nn.init.zeros_(p).numpy() == 0).all()
    assert p.grad_fn is None and p.dtype == np.float32


def test_initializers_draw_from_minigens_seeded_stream():
    mg.manual_seed(2)
    first = nn.init.normal_(mg.zeros(4)).numpy()
    mg.manual_seed(2)
    np.testing.assert_array_equal(first, mg.randn(4).numpy())


# ------------------------------------------------------------------ clip_grad_norm_
def _parameters_with_grads(torch, shapes=((3, 4), (5,))):
    ours, theirs = [], []
    for shape in shapes:
        g = rng.standard_normal(shape)
        p = nn.Parameter(mg.zeros(*shape, dtype=mg.float64))
        p.grad = mg.tensor(g)
        q = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        q.grad = torch.tensor(g)
        ours.append(p), theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(torch, norm_type, max_norm):
    ours, theirs = _parameters_with_grads(torch)
    total_ours = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total_ours.numpy(), total_theirs.numpy(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_of_a_nonfinite_gradient_matches_pytorch(torch, bad):
    ours, theirs = _parameters_with_grads(torch)
    ours[0].grad.data[1, 2] = theirs[0].grad[1, 2] = bad
    with np.errstate(invalid="ignore"):  # inf * 0
        total_ours = nn.utils.clip_grad_norm_(ours, 1.0)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_array_equal(total_ours.numpy(), total_theirs.numpy())
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_scales_by_a_nan_norm():
    p = nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor([float("nan"), 1.0])
    assert math.isnan(nn.utils.clip_grad_norm_([p], 1.0).item()) and np.isnan(p.grad.numpy()).all()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_can_refuse_a_nonfinite_norm(bad):
    p = nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor([bad, 1.0])
    with pytest.raises(RuntimeError, match=f"clip_grad_norm_: the total norm of order 2.0 of the gradients is {bad}"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.numpy()[1] == 1.0


def test_clip_grad_norm_leaves_the_total_at_max_norm():
    layer = nn.Linear(10, 10)
    layer(mg.randn(8, 10) * 100).sum().backward()
    nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
    total = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in layer.parameters()))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_skips_parameters_without_gradients():
    with_grad, without = nn.Parameter(mg.zeros(2)), nn.Parameter(mg.zeros(2))
    with_grad.grad = mg.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_([with_grad, without], 10.0).item() == pytest.approx(5.0)
    assert without.grad is None


# ------------------------------------------------------------------ clip_grad_value_
def test_clip_grad_value_matches_pytorch(torch):
    ours, theirs = _parameters_with_grads(torch)
    nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_value_keeps_the_dtype_and_skips_parameters_without_a_gradient():
    p, q = nn.Parameter(mg.zeros(3)), nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor(np.array([-2.0, 0.25, 3.0], np.float32))
    nn.utils.clip_grad_value_([p, q], np.float64(1.0))
    assert p.grad.dtype == mg.float32 and q.grad is None
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, 0.25, 1.0])


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1", True])
def test_clip_grad_value_refuses_a_bad_clip_value(bad):
    with pytest.raises(ValueError, match="clip_value must be a finite number >= 0"):
        nn.utils.clip_grad_value_([nn.Parameter(mg.zeros(2))], bad)


# ------------------------------------------------------------------ class weights and ignore_index
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
def test_weighted_cross_entropy_and_nll_with_ignore_index_match_pytorch(torch, reduction, weighted, shape):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal(shape)
    target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    target.reshape(-1)[::3] = -1  # ignored positions
    weight = rng.uniform(0.5, 2.0, shape[1]) if weighted else None
    for ours_fn, theirs_fn, transform in ((F.cross_entropy, torch.nn.functional.cross_entropy, lambda x: x),
                                          (F.nll_loss, torch.nn.functional.nll_loss, None)):
        x, t = mg.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
        ours_in, theirs_in = (x, t) if transform else (mg.log_softmax(x, dim=1), torch.log_softmax(t, dim=1))
        ours = ours_fn(ours_in, mg.tensor(target), None if weight is None else mg.tensor(weight),
                       ignore_index=-1, reduction=reduction)
        theirs = theirs_fn(theirs_in, torch.tensor(target), None if weight is None else torch.tensor(weight),
                           ignore_index=-1, reduction=reduction)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
        ours.sum().backward(), theirs.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_cross_entropy_with_probabilities_takes_class_weights_like_pytorch(torch):
    rng = np.random.default_rng(8)
    logits, probs, weight = rng.standard_normal((5, 3)), rng.dirichlet(np.ones(3), 5), rng.uniform(0.5, 2.0, 3)
    ours = F.cross_entropy(mg.tensor(logits), mg.tensor(probs), mg.tensor(weight))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(probs), torch.tensor(weight))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_class_weights_and_targets_out_of_range_are_named():
    with pytest.raises(ValueError, match=r"weight must hold one number per class, shape \(3,\), got shape \(2,\)"):
        F.cross_entropy(mg.randn(2, 3), mg.tensor([0, 1]), mg.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match=r"from -1 to 1, outside \[0, 3\) \(ignore_index is -100\)"):
        F.nll_loss(mg.randn(2, 3), mg.tensor([-1, 1]))
