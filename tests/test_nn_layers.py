"""Layers: forward and gradients against PyTorch with the same weights, BatchNorm's running
statistics over several steps, Dropout's statistics, PyTorch's default initialization, and
errors that name the layer and the shapes."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import nn

rng = np.random.default_rng(0)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _same_as_torch(ours, theirs, torch, x):
    """Give ``ours`` the weights of ``theirs`` (through state_dict, so the names must match),
    run both in float64 on ``x``, and compare outputs, input gradients and parameter gradients."""
    theirs.double()
    ours.to(mg.float64).load_state_dict({name: t.numpy() for name, t in theirs.state_dict().items()})
    x_ours, x_theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(tuple(y_theirs.shape))
    y_ours.backward(mg.tensor(upstream))
    y_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


# ------------------------------------------------------------------ forward and backward against PyTorch
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch(torch, bias):
    _same_as_torch(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), torch, rng.standard_normal((2, 5, 4)))


CONV_SETTINGS = [dict(), dict(stride=2), dict(padding=1), dict(padding=(1, 0), stride=(1, 2)), dict(dilation=2),
                 dict(bias=False)]


@pytest.mark.parametrize("settings", CONV_SETTINGS, ids=str)
def test_conv2d_matches_pytorch(torch, settings):
    _same_as_torch(nn.Conv2d(2, 3, 3, **settings), torch.nn.Conv2d(2, 3, 3, **settings), torch,
                   rng.standard_normal((2, 2, 7, 6)))


@pytest.mark.parametrize("settings", CONV_SETTINGS + [dict(stride=2, output_padding=1), dict(stride=2, padding=1)],
                         ids=str)
def test_conv_transpose2d_matches_pytorch(torch, settings):
    _same_as_torch(nn.ConvTranspose2d(2, 3, 3, **settings), torch.nn.ConvTranspose2d(2, 3, 3, **settings), torch,
                   rng.standard_normal((2, 2, 4, 5)))


@pytest.mark.parametrize("settings", [dict(kernel_size=2), dict(kernel_size=3, stride=1),
                                      dict(kernel_size=3, padding=1), dict(kernel_size=(2, 3), stride=(2, 1))], ids=str)
@pytest.mark.parametrize("pool", ["MaxPool2d", "AvgPool2d"])
def test_pooling_matches_pytorch(torch, pool, settings):
    x = rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 10.0  # distinct values: no ties in max
    _same_as_torch(getattr(nn, pool)(**settings), getattr(torch.nn, pool)(**settings), torch, x)


@pytest.mark.parametrize("name, args", [("ReLU", ()), ("LeakyReLU", (0.2,)), ("Tanh", ()), ("Sigmoid", ()),
                                        ("Softplus", (2,))])
def test_activation_matches_pytorch(torch, name, args):
    x = rng.standard_normal((3, 4))
    _same_as_torch(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), torch, x)


def test_flatten_and_unflatten_match_pytorch(torch):
    x = rng.standard_normal((2, 3, 4, 5))
    _same_as_torch(nn.Flatten(), torch.nn.Flatten(), torch, x)
    _same_as_torch(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), torch, x)
    _same_as_torch(nn.Unflatten(2, (2, -1)), torch.nn.Unflatten(2, (2, -1)), torch, x)


@pytest.mark.parametrize("scale", [2, 3])
def test_upsample_matches_pytorch(torch, scale):
    _same_as_torch(nn.Upsample(scale_factor=scale), torch.nn.Upsample(scale_factor=scale), torch,
                   rng.standard_normal((2, 3, 3, 4)))


def test_embedding_matches_pytorch(torch):
    ours, theirs = nn.Embedding(6, 3), torch.nn.Embedding(6, 3).double()
    ours.to(mg.float64).load_state_dict({"weight": theirs.weight.detach().numpy()})
    indices = np.array([[0, 5, 5], [2, 1, 0]])
    y_ours, y_theirs = ours(mg.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.detach().numpy())
    upstream = rng.standard_normal((2, 3, 3))
    y_ours.backward(mg.tensor(upstream))
    y_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)  # repeats add


# ------------------------------------------------------------------ BatchNorm
BATCH_NORMS = [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 3))]


def _batch_norm_pair(torch, name, **settings):
    ours, theirs = getattr(nn, name)(3, **settings), getattr(torch.nn, name)(3, **settings).double()
    ours.to(mg.float64)
    if ours.weight is not None:  # not the default 1 and 0, so that a mix-up would show
        weight, bias = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
        ours.load_state_dict({"weight": weight, "bias": bias}, strict=False)
        theirs.weight.data, theirs.bias.data = torch.tensor(weight), torch.tensor(bias)
    return ours, theirs


def _run_steps(ours, theirs, torch, shape, steps=3):
    for _ in range(steps):
        x = rng.standard_normal(shape) * 2 + 1
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, shape", BATCH_NORMS)
def test_batch_norm_training_steps_match_pytorch_outputs_and_running_statistics(torch, name, shape):
    ours, theirs = _batch_norm_pair(torch, name)
    _run_steps(ours, theirs, torch, shape)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12, err_msg=key)
    assert ours.num_batches_tracked.item() == 3


@pytest.mark.parametrize("name, shape", BATCH_NORMS)
def test_batch_norm_eval_uses_the_running_statistics_like_pytorch(torch, name, shape):
    ours, theirs = _batch_norm_pair(torch, name)
    _run_steps(ours, theirs, torch, shape)
    ours.eval(), theirs.eval()
    running_mean = ours.running_mean.numpy().copy()
    _run_steps(ours, theirs, torch, shape, steps=1)
    np.testing.assert_array_equal(ours.running_mean.numpy(), running_mean)  # eval leaves them alone


def test_batch_norm_momentum_none_is_a_cumulative_average_like_pytorch(torch):
    ours, theirs = _batch_norm_pair(torch, "BatchNorm1d", momentum=None)
    _run_steps(ours, theirs, torch, (6, 3), steps=4)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)


@pytest.mark.parametrize("settings", [dict(affine=False), dict(track_running_stats=False)], ids=str)
def test_batch_norm_without_affine_or_running_statistics_matches_pytorch(torch, settings):
    ours, theirs = _batch_norm_pair(torch, "BatchNorm2d", **settings)
    _run_steps(ours, theirs, torch, (4, 3, 2, 2))
    ours.eval(), theirs.eval()
    _run_steps(ours, theirs, torch, (4, 3, 2, 2), steps=1)
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batch_norm_gradients_match_pytorch_in_training_mode(torch):
    ours, theirs = _batch_norm_pair(torch, "BatchNorm2d")
    _same_as_torch(ours, theirs, torch, rng.standard_normal((3, 3, 2, 2)))


def test_batch_norm_starts_as_the_identity_affine_map_with_unit_running_variance():
    bn = nn.BatchNorm1d(4)
    assert (bn.weight.numpy() == 1).all() and (bn.bias.numpy() == 0).all()
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.item() == 0


# ------------------------------------------------------------------ Dropout
def test_dropout_zeroes_about_p_and_scales_the_rest():
    x = mg.ones(200, 500)
    y = nn.Dropout(0.3)(x).numpy()
    zero_fraction = (y == 0).mean()
    assert abs(zero_fraction - 0.3) < 0.01  # 100,000 draws: the standard error is 0.0014
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)


def test_dropout_is_the_identity_in_eval_mode():
    x = mg.randn(4, 5)
    np.testing.assert_array_equal(nn.Dropout(0.5).eval()(x).numpy(), x.numpy())


def test_dropout_masks_follow_the_seed():
    x = mg.ones(10, 10)
    mg.manual_seed(3)
    first = nn.Dropout()(x).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout()(x).numpy(), first)


def test_dropout_gives_the_same_mask_on_every_device(device):
    mg.manual_seed(5)
    on_cpu = nn.Dropout()(mg.ones(6, 7)).numpy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout()(mg.ones(6, 7, device=device)).numpy(), on_cpu)


def test_dropout_gradient_flows_only_through_kept_elements():
    x = mg.ones(50, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # 2 where kept, 0 where dropped


def test_dropout_probability_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


# ------------------------------------------------------------------ default initialization
def _bound(fan_in):
    return 1 / math.sqrt(fan_in)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(300, 200), 300),
    (lambda: nn.Conv2d(20, 30, 5), 20 * 25),
    (lambda: nn.ConvTranspose2d(20, 30, 5), 30 * 25),  # PyTorch counts fan_in from dim 1: out_channels
], ids=["Linear", "Conv2d", "ConvTranspose2d"])
def test_weights_and_biases_start_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    layer = make()
    w, b = layer.weight.numpy(), layer.bias.numpy()
    bound = _bound(fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.02)  # the std of U(-a, a) is a / sqrt(3)
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.8 * bound


def test_embedding_starts_standard_normal():
    w = nn.Embedding(1000, 50).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_initialization_follows_the_seed():
    mg.manual_seed(1)
    first = nn.Linear(3, 2).weight.numpy()
    mg.manual_seed(1)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.numpy(), first)


def test_layers_start_as_float32_on_the_cpu():
    layer = nn.Conv2d(1, 2, 3)
    assert {(p.dtype, p.device) for p in layer.parameters()} == {(np.dtype(np.float32), "cpu")}


# ------------------------------------------------------------------ losses as modules
@pytest.mark.parametrize("name, function", [("MSELoss", "mse_loss"), ("L1Loss", "l1_loss"),
                                            ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits")])
def test_loss_modules_call_their_function_with_their_reduction(name, function):
    x, y = mg.rand(3, 4), mg.rand(3, 4)
    expected = getattr(nn.functional, function)(x, y, reduction="sum")
    np.testing.assert_array_equal(getattr(nn, name)(reduction="sum")(x, y).numpy(), expected.numpy())


def test_class_loss_modules_take_logits_and_indices():
    logits, labels = mg.randn(5, 3), mg.tensor([0, 2, 1, 1, 0])
    np.testing.assert_allclose(nn.CrossEntropyLoss()(logits, labels).numpy(),
                               nn.NLLLoss()(mg.log_softmax(logits, dim=1), labels).numpy(), rtol=1e-6)


def test_loss_module_refuses_an_unknown_reduction():
    with pytest.raises(ValueError, match="MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("layer, shape, message", [
    (nn.Linear(4, 2), (3, 5), r"Linear\(in_features=4, out_features=2, bias=True\): expected input with last dim 4, "
                              r"got shape \(3, 5\)"),
    (nn.Conv2d(3, 8, 3), (2, 4, 8, 8), r"Conv2d\(3, 8, .*\): expected input of shape \(N, 3, H, W\) or "
                                       r"\(3, H, W\), got shape \(2, 4, 8, 8\)"),
    (nn.Conv2d(3, 8, 3), (4, 8, 8), r"Conv2d\(3, 8, .*\): expected input of shape \(N, 3, H, W\) or "
                                    r"\(3, H, W\), got shape \(4, 8, 8\)"),
    (nn.Conv2d(1, 1, 5), (1, 1, 4, 9), r"Conv2d\(1, 1, .*\): input of shape \(1, 1, 4, 9\) is too small"),
    (nn.ConvTranspose2d(2, 1, 3), (1, 3, 4, 4), r"ConvTranspose2d\(2, 1, .*\): expected input of shape \(N, 2, H, W\)"),
    (nn.MaxPool2d(2), (4, 4), r"MaxPool2d\(kernel_size=2, .*\): expected input of shape \(N, C, H, W\) or "
                              r"\(C, H, W\), got shape \(4, 4\)"),
    (nn.AvgPool2d(3), (1, 1, 2, 5), r"AvgPool2d\(kernel_size=3, .*\): input of shape \(1, 1, 2, 5\) is too small"),
    (nn.BatchNorm1d(3), (4, 5), r"BatchNorm1d\(3, .*\): expected input of shape \(N, 3\) or \(N, 3, L\), "
                                r"got shape \(4, 5\)"),
    (nn.BatchNorm2d(3), (4, 3, 5), r"BatchNorm2d\(3, .*\): expected input of shape \(N, 3, H, W\), "
                                   r"got shape \(4, 3, 5\)"),
    (nn.Unflatten(1, (2, 3)), (4, 5), r"Unflatten\(dim=1, unflattened_size=\(2, 3\)\): dim 1 of the input has "
                                      r"length 5"),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else None)
def test_a_wrong_input_shape_names_the_layer_and_the_shape(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(mg.zeros(*shape))


def test_batch_norm_needs_more_than_one_value_per_channel_when_training():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mg.zeros(1, 3))


def test_embedding_index_out_of_range_names_the_range():
    with pytest.raises(IndexError, match=r"Embedding\(4, 2\): indices must be in \[0, 4\), got values from -1 to 3"):
        nn.Embedding(4, 2)(mg.tensor([3, -1]))


def test_embedding_needs_integer_indices():
    with pytest.raises(TypeError, match=r"Embedding\(4, 2\): expected an integer tensor of indices, got dtype float32"):
        nn.Embedding(4, 2)(mg.tensor([1.0]))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(0, 2), "Linear: in_features must be a positive int, got 0"),
    (lambda: nn.Conv2d(3, "8", 3), "Conv2d: out_channels must be a positive int, got '8'"),
    (lambda: nn.Conv2d(3, 8, (3, 3, 3)), "Conv2d: kernel_size must be an int or a pair of ints"),
    (lambda: nn.Conv2d(3, 8, 3, stride=0), "Conv2d: stride must be at least 1, got 0"),
    (lambda: nn.ConvTranspose2d(3, 8, 3, padding=-1), "ConvTranspose2d: padding must be at least 0, got -1"),
    (lambda: nn.MaxPool2d(2, stride=(1, 0)), r"MaxPool2d: stride must be at least 1, got \(1, 0\)"),
    (lambda: nn.BatchNorm2d(2.5), "BatchNorm2d: num_features must be a positive int, got 2.5"),
    (lambda: nn.Unflatten(1, (0, -1)), r"Unflatten: unflattened_size \(0, -1\) holds a 0 beside the -1"),
    (lambda: nn.Unflatten(1, (-1, 2, -1)), r"Unflatten: unflattened_size must hold ints >= 0 and at most one -1, "
                                           r"got \(-1, 2, -1\)"),
    (lambda: nn.Unflatten(1, (2, 1.5)), r"ints >= 0 and at most one -1, got \(2, 1.5\)"),
])
def test_bad_constructor_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
