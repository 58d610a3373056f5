"""PyTorch's surface for generative-model code (issue 15): activations, normalization, pooling
options, resampling, lookups and losses. Each behaviour is compared with torch in float64
(values and input gradients, rtol 1e-7) where torch is installed, and checked without it
against closed forms or NumPy."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.nn.functional as F
from minigen import nn

rng = np.random.default_rng(0)
RTOL = 1e-7


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _same_as_torch(ours, theirs, torch, *arrays, grad=True):
    """ours(*tensors) and theirs(*torch tensors) in float64: the same values and, for float
    inputs, the same gradients of a random projection of the output."""
    x_ours = [mg.tensor(a, requires_grad=grad and a.dtype == np.float64) for a in arrays]
    x_theirs = [torch.tensor(a, requires_grad=grad and a.dtype == np.float64) for a in arrays]
    y_ours, y_theirs = ours(*x_ours), theirs(*x_theirs)
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), rtol=RTOL, atol=1e-12)
    if not grad:
        return
    upstream = rng.standard_normal(tuple(y_theirs.shape))
    (y_ours * mg.tensor(upstream)).sum().backward()
    (y_theirs * torch.tensor(upstream)).sum().backward()
    for a, b in zip(x_ours, x_theirs):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=1e-12)


def _modules_same_as_torch(ours, theirs, torch, x):
    """Module pair with the same state (through state_dict), compared as _same_as_torch, parameter gradients too."""
    theirs.double()
    ours.to(mg.float64).load_state_dict({name: t.numpy() for name, t in theirs.state_dict().items()})
    _same_as_torch(ours, theirs, torch, x)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=RTOL, atol=1e-12,
                                   err_msg=name)


# ------------------------------------------------------------------ activations
def test_erf_matches_pytorch_on_both_sides_of_its_switch(torch):
    x = np.concatenate([np.linspace(-6, 6, 241), [0.0, 1e-8, 2.0, -2.0, 30.0]])
    _same_as_torch(mg.erf, torch.erf, torch, x)


def test_erf_matches_the_closed_values_without_torch():
    x = np.array([0.0, 0.5, -1.0, 2.0, 3.5, np.inf, -np.inf])
    np.testing.assert_allclose(mg.erf(mg.tensor(x)).numpy(), [math.erf(v) for v in x], rtol=1e-15, atol=0)


def test_erf_gradient_is_the_gaussian_density_times_two_over_sqrt_pi():
    x = mg.tensor([0.0, 1.0, -2.5], dtype=mg.float64, requires_grad=True)
    mg.erf(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 / np.sqrt(np.pi) * np.exp(-x.numpy() ** 2), rtol=1e-15)


ACTIVATIONS = [("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("ELU", (), {}),
               ("ELU", (0.3,), {}), ("Softmax", (1,), {}), ("LogSoftmax", (-1,), {}), ("Identity", (), {})]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS, ids=str)
def test_activation_modules_match_pytorch(torch, name, args, kwargs):
    x = rng.standard_normal((3, 4, 5)) * 3
    _same_as_torch(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), torch, x)


def test_gelu_is_x_times_the_normal_cdf():
    x = np.array([-3.0, -0.5, 0.0, 1.0, 4.0])
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(F.gelu(mg.tensor(x)).numpy(), x * phi, rtol=1e-15)


def test_elu_gradient_is_finite_for_huge_inputs_and_alpha_at_zero():
    x = mg.tensor([1000.0, 0.0, -1000.0], requires_grad=True)
    F.elu(x, alpha=0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.5, 0.0])


def test_softmax_without_dim_picks_pytorchs_legacy_dim_with_a_warning():
    x = mg.tensor(rng.standard_normal((2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0)


@pytest.mark.parametrize("make", [lambda: nn.SiLU(inplace=True), lambda: nn.ELU(inplace=True),
                                  lambda: F.silu(mg.zeros(2), inplace=True)])
def test_inplace_activations_are_refused_not_ignored(make):
    with pytest.raises(NotImplementedError, match="inplace"):
        make()


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("sigmoid")


# ------------------------------------------------------------------ normalization
@pytest.mark.parametrize("settings", [dict(normalized_shape=5), dict(normalized_shape=(4, 5)),
                                      dict(normalized_shape=5, elementwise_affine=False),
                                      dict(normalized_shape=(4, 5), bias=False), dict(normalized_shape=5, eps=0.1)],
                         ids=str)
def test_layer_norm_module_matches_pytorch(torch, settings):
    theirs = torch.nn.LayerNorm(**settings)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    _modules_same_as_torch(nn.LayerNorm(**settings), theirs, torch, rng.standard_normal((2, 3, 4, 5)))


def test_layer_norm_function_matches_pytorch(torch):
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    _same_as_torch(lambda x, w, b: F.layer_norm(x, (4, 5), w, b, 1e-3),
                   lambda x, w, b: torch.nn.functional.layer_norm(x, (4, 5), w, b, 1e-3), torch, x, w, b)


def test_layer_norm_gives_each_example_zero_mean_and_unit_variance():
    y = nn.LayerNorm(6, eps=0.0)(mg.tensor(rng.standard_normal((4, 6)) * 5 + 3)).numpy()
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-5)


def test_layer_norm_refuses_an_input_that_does_not_end_with_normalized_shape():
    with pytest.raises(ValueError, match=r"normalized_shape \(4, 5\)"):
        nn.LayerNorm((4, 5))(mg.zeros(2, 5, 4))


@pytest.mark.parametrize("settings", [dict(), dict(affine=True), dict(track_running_stats=True),
                                      dict(affine=True, track_running_stats=True, momentum=0.3)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5)], ids=str)
def test_instance_norm_module_matches_pytorch_in_training_and_eval(torch, settings, shape):
    ours, theirs = nn.InstanceNorm2d(3, **settings), torch.nn.InstanceNorm2d(3, **settings)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    for _ in range(2):  # two steps move the running statistics twice
        _modules_same_as_torch(ours, theirs, torch, rng.standard_normal(shape) * 2 + 1)
    for name, buffer in theirs.named_buffers():
        np.testing.assert_allclose(getattr(ours, name).numpy(), buffer.numpy(), rtol=RTOL, err_msg=name)
    ours.eval(), theirs.eval()
    _same_as_torch(ours, theirs, torch, rng.standard_normal(shape))


def test_instance_norm_normalizes_each_image_and_channel_on_its_own():
    y = F.instance_norm(mg.tensor(rng.standard_normal((2, 3, 4, 4)) * 4 - 1), eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(2, 3)), 1, rtol=1e-12)


# ------------------------------------------------------------------ dropout2d
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    y = nn.Dropout2d(0.5)(mg.ones(50, 8, 3, 3)).numpy()
    per_channel = y.reshape(50, 8, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert 0.4 < (per_channel[:, :, 0] == 0).mean() < 0.6


def test_dropout2d_of_one_image_drops_its_channels():
    y = nn.Dropout2d(0.5)(mg.ones(40, 3, 3)).numpy()  # (C, H, W): channels are dim 0, as PyTorch
    assert np.all((y == 0).all(axis=(1, 2)) | (y == 2).all(axis=(1, 2)))


def test_dropout2d_is_the_identity_in_eval_mode():
    layer = nn.Dropout2d(0.9).eval()
    x = mg.randn(2, 3, 4, 4)
    assert layer(x) is x


# ------------------------------------------------------------------ missing names
@pytest.mark.parametrize("module, name, suggestion", [(nn, "Conv3d", "Conv2d"), (F, "gelu_", "gelu"),
                                                      (nn, "LayerNorm2d", "LayerNorm")])
def test_a_missing_name_suggests_the_nearest_one(module, name, suggestion):
    message = f"module '{module.__name__}' has no attribute '{name}'; did you mean '{suggestion}'?"
    with pytest.raises(AttributeError) as error:
        getattr(module, name)
    assert str(error.value) == message


def test_a_name_with_nothing_near_it_gets_the_plain_message():
    with pytest.raises(AttributeError) as error:
        nn.Transformer
    assert str(error.value) == "module 'minigen.nn' has no attribute 'Transformer'"


# ------------------------------------------------------------------ pooling options, unbatched images
DISTINCT = rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) / 10.0  # no ties in max


@pytest.mark.parametrize("settings", [dict(kernel_size=3, stride=2, ceil_mode=True),
                                      dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                      dict(kernel_size=2, stride=1, dilation=2), dict(kernel_size=(3, 2), padding=1)],
                         ids=str)
def test_max_pool_options_and_indices_match_pytorch(torch, settings):
    ours, theirs = nn.MaxPool2d(return_indices=True, **settings), torch.nn.MaxPool2d(return_indices=True, **settings)
    _same_as_torch(lambda x: ours(x)[0], lambda x: theirs(x)[0], torch, DISTINCT)
    np.testing.assert_array_equal(ours(mg.tensor(DISTINCT))[1].numpy(), theirs(torch.tensor(DISTINCT))[1].numpy())


@pytest.mark.parametrize("settings", [dict(kernel_size=3, stride=2, ceil_mode=True),
                                      dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                                      dict(kernel_size=3, padding=1, count_include_pad=False),
                                      dict(kernel_size=2, padding=1, divisor_override=3)], ids=str)
def test_avg_pool_options_match_pytorch(torch, settings):
    _same_as_torch(nn.AvgPool2d(**settings), torch.nn.AvgPool2d(**settings), torch, rng.standard_normal((2, 3, 7, 8)))


def test_avg_pool_without_padding_in_the_count_divides_corners_by_fewer():
    y = F.avg_pool2d(mg.ones(1, 1, 4, 4), 3, stride=1, padding=1, count_include_pad=False).numpy()
    np.testing.assert_allclose(y, 1.0)  # every window: its inside values over their number
    y = F.avg_pool2d(mg.ones(1, 1, 4, 4), 3, stride=1, padding=1).numpy()
    assert y[0, 0, 0, 0] == pytest.approx(4 / 9) and y[0, 0, 1, 1] == 1.0


def test_ceil_mode_adds_the_partial_last_window():
    x = mg.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    y = F.max_pool2d(x, 2, ceil_mode=True).numpy()
    np.testing.assert_array_equal(y[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])


@pytest.mark.parametrize("settings", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_max_unpool_puts_the_maxima_back_like_pytorch(torch, settings):
    y, indices = F.max_pool2d(mg.tensor(DISTINCT), return_indices=True, **settings)
    y_t, indices_t = torch.nn.functional.max_pool2d(torch.tensor(DISTINCT), return_indices=True, **settings)
    _same_as_torch(lambda y: nn.MaxUnpool2d(**settings)(y, indices, DISTINCT.shape[2:]),
                   lambda y: torch.nn.MaxUnpool2d(**settings)(y, indices_t, DISTINCT.shape[2:]), torch, y_t.numpy())


def test_max_unpool_inverts_max_pool_on_the_maxima():
    x = mg.tensor(DISTINCT)
    y, indices = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(y, indices, 2, output_size=x.shape).numpy()
    kept = back != 0
    np.testing.assert_array_equal(back[kept], DISTINCT[kept])
    np.testing.assert_array_equal(np.sort(back[kept]), np.sort(y.numpy().ravel()))


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (None, 3), (7, 9)], ids=str)
def test_adaptive_avg_pool_matches_pytorch(torch, output_size):
    _same_as_torch(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), torch,
                   rng.standard_normal((2, 3, 5, 7)))


def test_adaptive_avg_pool_to_one_is_the_global_mean():
    x = rng.standard_normal((2, 3, 5, 7))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(mg.tensor(x), 1).numpy(), x.mean(axis=(2, 3), keepdims=True))


@pytest.mark.parametrize("layer", [lambda torch_nn: torch_nn.Conv2d(3, 4, 3, padding=1), lambda torch_nn:
                                   torch_nn.ConvTranspose2d(3, 2, 3, stride=2), lambda torch_nn: torch_nn.MaxPool2d(2),
                                   lambda torch_nn: torch_nn.AvgPool2d(3, 2, 1), lambda torch_nn:
                                   torch_nn.AdaptiveAvgPool2d(2)])
def test_conv_and_pool_layers_take_one_image_like_pytorch(torch, layer):
    ours, theirs = layer(nn), layer(torch.nn)
    _modules_same_as_torch(ours, theirs, torch, rng.standard_normal((3, 6, 5)))


def test_functions_take_one_image_and_keep_it_unbatched():
    x = mg.randn(3, 6, 5)
    assert mg.conv2d(x, mg.randn(4, 3, 3, 3)).shape == (4, 4, 3)
    y, indices = mg.max_pool2d(x, 2, return_indices=True)
    assert y.shape == indices.shape == (3, 3, 2)


# ------------------------------------------------------------------ padding and interpolation
@pytest.mark.parametrize("pad, mode", [((1, 2), "reflect"), ((1, 2, 3, 0), "reflect"), ((2, 1, 1, 3), "replicate"),
                                       ((1, 1, 2, 2, 0, 1), "replicate"), ((1, 2, 3, 4), "constant")], ids=str)
def test_pad_matches_pytorch(torch, pad, mode):
    x = rng.standard_normal((2, 3, 5, 7) if len(pad) > 2 else (3, 5, 7))
    _same_as_torch(lambda x: F.pad(x, pad, mode), lambda x: torch.nn.functional.pad(x, pad, mode), torch, x)


def test_pad_modes_by_hand():
    x = mg.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), "reflect").numpy(), [[3, 2, 1, 2, 3, 2]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), "replicate").numpy(), [[1, 1, 1, 2, 3, 3]])
    np.testing.assert_array_equal(F.pad(x, (1, 0), value=9.0).numpy(), [[9, 1, 2, 3]])


@pytest.mark.parametrize("kwargs, message", [(dict(pad=(3, 0), mode="reflect"), "smaller than"),
                                             (dict(pad=(1, 1), mode="replicate", value=1.0), "value"),
                                             (dict(pad=(1, 1, 1, 1, 1, 1), mode="reflect"), "2, 4 or 6")])
def test_pad_refuses_what_pytorch_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.pad(mg.randn(2, 3), **kwargs)


INTERPOLATIONS = [dict(size=(3, 4)), dict(size=(11, 13)), dict(scale_factor=1.5), dict(scale_factor=(2, 3)),
                  dict(size=(8, 9), mode="bilinear"), dict(size=(8, 9), mode="bilinear", align_corners=True),
                  dict(size=(3, 2), mode="bilinear"), dict(scale_factor=2.5, mode="bilinear"),
                  dict(scale_factor=2.5, mode="bilinear", recompute_scale_factor=True),
                  dict(size=1, mode="bilinear", align_corners=True), dict(scale_factor=2, mode="bilinear")]


@pytest.mark.parametrize("kwargs", INTERPOLATIONS, ids=str)
def test_interpolate_matches_pytorch(torch, kwargs):
    _same_as_torch(lambda x: F.interpolate(x, **kwargs), lambda x: torch.nn.functional.interpolate(x, **kwargs),
                   torch, rng.standard_normal((2, 3, 5, 7)))


@pytest.mark.parametrize("kwargs", [dict(size=(10, 3)), dict(scale_factor=2, mode="bilinear", align_corners=False),
                                    dict(size=6, mode="bilinear", align_corners=True)], ids=str)
def test_upsample_module_matches_pytorch(torch, kwargs):
    _same_as_torch(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), torch, rng.standard_normal((2, 3, 5, 7)))


def test_bilinear_with_aligned_corners_keeps_the_corners_and_interpolates_between():
    x = mg.tensor([[[[0.0, 3.0], [6.0, 9.0]]]])
    y = F.interpolate(x, size=(3, 4), mode="bilinear", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(y, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])


# ------------------------------------------------------------------ lookups
def test_one_hot_matches_pytorch(torch):
    indices = np.array([[0, 3], [2, 0]])
    np.testing.assert_array_equal(F.one_hot(mg.tensor(indices)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(indices)).numpy())
    assert F.one_hot(mg.tensor(indices), 6).shape == (2, 2, 6)


def test_embedding_with_padding_idx_matches_pytorch(torch):
    ours, theirs = nn.Embedding(5, 3, padding_idx=-1), torch.nn.Embedding(5, 3, padding_idx=-1).double()
    np.testing.assert_array_equal(ours.weight.numpy()[4], 0.0)  # the padding row starts at zero
    ours.to(mg.float64).load_state_dict({"weight": theirs.weight.detach().numpy()})
    indices = np.array([[0, 4, 4], [2, 1, 0]])
    _same_as_torch(lambda w: F.embedding(mg.tensor(indices), w, 4),
                   lambda w: torch.nn.functional.embedding(torch.tensor(indices), w, 4), torch,
                   theirs.weight.detach().numpy())


def test_embedding_padding_row_gets_no_gradient():
    layer = nn.Embedding(4, 2, padding_idx=1)
    layer(mg.tensor(np.array([1, 1, 2]))).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[0, 0], [0, 0], [1, 1], [0, 0]])


# ------------------------------------------------------------------ losses
PROBABILITIES = rng.dirichlet(np.ones(4), size=3)
PROBABILITIES[0, 1] = 0.0  # 0 ln 0 = 0


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_pytorch(torch, reduction, log_target):
    target = np.log(PROBABILITIES + 0.1) if log_target else PROBABILITIES
    log_q = np.log(rng.dirichlet(np.ones(4), size=3))
    _same_as_torch(lambda x: nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, mg.tensor(target)),
                   lambda x: torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, torch.tensor(target)),
                   torch, log_q)


def test_kl_div_batchmean_is_the_kl_divergence_per_example():
    p, q = PROBABILITIES, rng.dirichlet(np.ones(4), size=3)
    kl = sum(sum(pi * np.log(pi / qi) for pi, qi in zip(row_p, row_q) if pi > 0) for row_p, row_q in zip(p, q)) / 3
    assert F.kl_div(mg.tensor(np.log(q)), mg.tensor(p), reduction="batchmean").item() == pytest.approx(kl, rel=1e-12)


@pytest.mark.parametrize("name, setting", [("HuberLoss", dict(delta=0.5)), ("HuberLoss", dict()),
                                           ("SmoothL1Loss", dict(beta=0.5)), ("SmoothL1Loss", dict(beta=0.0))])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_robust_regression_losses_match_pytorch(torch, name, setting, reduction):
    target = rng.standard_normal((3, 4))
    _same_as_torch(lambda x: getattr(nn, name)(reduction=reduction, **setting)(x, mg.tensor(target)),
                   lambda x: getattr(torch.nn, name)(reduction=reduction, **setting)(x, torch.tensor(target)),
                   torch, rng.standard_normal((3, 4)) * 2)


def test_huber_loss_is_quadratic_inside_delta_and_linear_outside():
    loss = F.huber_loss(mg.tensor([0.5, 3.0]), mg.tensor([0.0, 0.0]), reduction="none", delta=1.0).numpy()
    np.testing.assert_allclose(loss, [0.125, 2.5])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_weights_match_pytorch(torch, reduction):
    target, weight, pos_weight = rng.random((3, 4)), rng.random(4) + 0.1, rng.random(4) * 3
    x = rng.standard_normal((3, 4))
    _same_as_torch(lambda x: nn.BCEWithLogitsLoss(mg.tensor(weight), reduction=reduction,
                                                  pos_weight=mg.tensor(pos_weight))(x, mg.tensor(target)),
                   lambda x: torch.nn.BCEWithLogitsLoss(torch.tensor(weight), reduction=reduction,
                                                        pos_weight=torch.tensor(pos_weight))(x, torch.tensor(target)),
                   torch, x)
    _same_as_torch(lambda p: nn.BCELoss(mg.tensor(weight), reduction=reduction)(p, mg.tensor(target)),
                   lambda p: torch.nn.BCELoss(torch.tensor(weight), reduction=reduction)(p, torch.tensor(target)),
                   torch, 1 / (1 + np.exp(-x)))


def test_pos_weight_scales_only_the_positive_term():
    x, q = mg.tensor([0.3, -1.2], dtype=mg.float64), mg.tensor([3.0, 3.0], dtype=mg.float64)
    positive = F.binary_cross_entropy_with_logits(x, mg.ones(2, dtype=mg.float64), reduction="none")
    weighted = F.binary_cross_entropy_with_logits(x, mg.ones(2, dtype=mg.float64), reduction="none", pos_weight=q)
    np.testing.assert_allclose(weighted.numpy(), 3 * positive.numpy(), rtol=1e-14)
    negative = F.binary_cross_entropy_with_logits(x, mg.zeros(2, dtype=mg.float64), reduction="none", pos_weight=q)
    np.testing.assert_allclose(negative.numpy(), np.log1p(np.exp(x.numpy())), rtol=1e-14)


CLASS_SETTINGS = [dict(label_smoothing=0.2), dict(label_smoothing=0.3, ignore_index=1),
                  dict(weight=True, ignore_index=0), dict(weight=True, label_smoothing=0.1, ignore_index=2)]


@pytest.mark.parametrize("settings", CLASS_SETTINGS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_module_settings_match_pytorch(torch, settings, reduction):
    settings = dict(settings)
    weight = rng.random(4) + 0.1 if settings.pop("weight", False) else None
    target = np.array([[0, 1, 3], [2, 2, 1]])
    ours = nn.CrossEntropyLoss(None if weight is None else mg.tensor(weight), reduction=reduction, **settings)
    theirs = torch.nn.CrossEntropyLoss(None if weight is None else torch.tensor(weight), reduction=reduction,
                                       **settings)
    _same_as_torch(lambda x: ours(x, mg.tensor(target)), lambda x: theirs(x, torch.tensor(target)), torch,
                   rng.standard_normal((2, 4, 3)))


def test_cross_entropy_with_probabilities_and_label_smoothing_matches_pytorch(torch):
    p = rng.dirichlet(np.ones(4), size=5)
    _same_as_torch(lambda x: F.cross_entropy(x, mg.tensor(p), label_smoothing=0.25),
                   lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(p), label_smoothing=0.25), torch,
                   rng.standard_normal((5, 4)))


def test_nll_loss_module_takes_weight_and_ignore_index_like_pytorch(torch):
    weight, target = rng.random(3) + 0.1, np.array([0, 2, 1, 2])
    log_p = np.log(rng.dirichlet(np.ones(3), size=4))
    _same_as_torch(lambda x: nn.NLLLoss(mg.tensor(weight), ignore_index=1)(x, mg.tensor(target)),
                   lambda x: torch.nn.NLLLoss(torch.tensor(weight), ignore_index=1)(x, torch.tensor(target)), torch,
                   log_p)


@pytest.mark.parametrize("target", [np.int64(2), rng.dirichlet(np.ones(4))], ids=["index", "probabilities"])
def test_cross_entropy_of_one_example_matches_pytorch(torch, target):
    _same_as_torch(lambda x: F.cross_entropy(x, mg.tensor(target)),
                   lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(target)), torch, rng.standard_normal(4))


def test_label_smoothing_one_is_the_cross_entropy_to_the_uniform_distribution():
    x = rng.standard_normal((3, 5))
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    loss = F.cross_entropy(mg.tensor(x), mg.tensor(np.array([0, 4, 2])), label_smoothing=1.0).item()
    assert loss == pytest.approx(-log_p.mean(axis=1).mean(), rel=1e-12)


def test_the_deprecated_size_average_slot_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="MSELoss: size_average=True is not implemented"):
        nn.MSELoss(True)


@pytest.mark.parametrize("make, message", [(lambda: nn.KLDivLoss(reduction="avg"), "'batchmean'"),
                                           (lambda: F.cross_entropy(mg.randn(2, 3), mg.tensor(np.array([0, 1])),
                                                                    label_smoothing=1.5), "label_smoothing")])
def test_loss_settings_outside_pytorchs_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
