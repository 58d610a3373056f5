"""Corner cases where minigen once differed from PyTorch without a word (issue 14, item 6).

Each behaviour is pinned without torch (hand-derived answers); where torch is installed the
same call is compared with it too.
"""
import numpy as np
import pytest

import minigen as mg
import minigen.nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ every target ignored
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_mean_loss_with_every_target_ignored_is_nan_with_a_zero_gradient(loss):
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    value = loss(x, mg.tensor([-100, -100, -100]))
    value.backward()
    assert np.isnan(value.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_sgd_step_after_a_batch_with_every_target_ignored_leaves_the_weights_finite():
    layer = mg.nn.Linear(2, 3)
    F.cross_entropy(layer(mg.randn(4, 2)), mg.tensor([5, 5, 5, 5]), ignore_index=5).backward()
    mg.optim.SGD(layer.parameters(), lr=0.1).step()
    assert np.isfinite(layer.weight.numpy()).all()


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_matches_pytorch(torch, name):
    x = np.random.default_rng(0).standard_normal((3, 4))
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss_ours = getattr(F, name)(ours, mg.tensor([-100] * 3))
    loss_theirs = getattr(torch.nn.functional, name)(theirs, torch.full((3,), -100))
    loss_ours.backward()
    loss_theirs.backward()
    np.testing.assert_array_equal(loss_ours.numpy(), loss_theirs.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


# ------------------------------------------------------------------ NaN probabilities
def test_binary_cross_entropy_refuses_a_nan_probability():
    p = mg.tensor([float("nan"), 0.5], requires_grad=True)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\], not NaN"):
        F.binary_cross_entropy(p, mg.tensor([1.0, 0.0]))


def test_binary_cross_entropy_of_a_nan_probability_is_refused_by_pytorch_too(torch):
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([float("nan")]), torch.tensor([1.0]))


# ------------------------------------------------------------------ dim=() reduces every dim
REDUCTIONS = ["sum", "mean", "var", "amax", "amin", "prod", "logsumexp"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_an_empty_dim_tuple_reduces_every_dim(name, keepdim):
    x = mg.tensor([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]], dtype=mg.float64)
    got = getattr(mg, name)(x, dim=(), keepdim=keepdim)
    expected = getattr(mg, name)(x, dim=(0, 1), keepdim=keepdim)
    assert got.shape == ((1, 1) if keepdim else ())
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-15)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "amax", "amin"])
def test_an_empty_dim_tuple_matches_pytorch(torch, name):
    x = np.random.default_rng(1).standard_normal((2, 3))
    ours = getattr(mg.tensor(x), name)(dim=())
    theirs = getattr(torch.tensor(x), name)(dim=())
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ argmax(keepdim=True) without dim
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), ()])
def test_arg_extreme_with_keepdim_and_no_dim_keeps_every_dim_as_one(name, shape):
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    got = getattr(mg.tensor(values), name)(keepdim=True)
    assert got.shape == (1,) * len(shape)
    assert got.numpy().reshape(-1)[0] == getattr(np, name)(values)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_extreme_with_keepdim_and_no_dim_matches_pytorch(torch, name):
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    ours, theirs = getattr(mg.tensor(x), name)(keepdim=True), getattr(torch.tensor(x), name)(keepdim=True)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ------------------------------------------------------------------ split of an empty dim
def test_split_of_an_empty_dim_gives_one_empty_piece():
    pieces = mg.split(mg.zeros(0, 3), 2)
    assert [p.shape for p in pieces] == [(0, 3)]


def test_split_of_an_empty_dim_matches_pytorch(torch):
    assert [tuple(p.shape) for p in torch.zeros(0, 3).split(2)] == [p.shape for p in mg.zeros(0, 3).split(2)]
