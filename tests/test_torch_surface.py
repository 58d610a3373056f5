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
