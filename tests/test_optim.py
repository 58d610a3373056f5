"""minigen.optim: each update against hand-worked numbers and against torch.optim, convergence,
parameter groups, zero_grad, checkpoints (state_dict) and the errors at the door."""
import math
import re

import numpy as np
import pytest

import minigen
from minigen import nn, optim


def param(values, device="cpu"):
    return minigen.tensor(values, dtype=minigen.float64, device=device, requires_grad=True)


def step(optimizer, loss_fn):
    """One training step: zero the gradients, backpropagate loss_fn(), update."""
    optimizer.zero_grad()
    loss = loss_fn()
    loss.backward()
    optimizer.step()
    return loss.item()


def half_square(p):
    """f(p) = sum(p**2) / 2, whose gradient is p itself: the numbers below are easy to follow."""
    return lambda: (p * p).sum() / 2


# ------------------------------------------------------------------ hand-worked steps
# On f(p) = p**2 / 2 the gradient is g = p, starting from p = 2.


def test_sgd_step_is_p_minus_lr_g():
    p = param([2.0, -1.0])
    step(optim.SGD([p], lr=0.1), half_square(p))
    np.testing.assert_allclose(p.numpy(), [2.0 - 0.1 * 2.0, -1.0 + 0.1 * 1.0], rtol=1e-15)


def test_sgd_weight_decay_adds_wd_p_to_the_gradient():
    p = param([2.0])
    step(optim.SGD([p], lr=0.1, weight_decay=0.5), half_square(p))
    np.testing.assert_allclose(p.numpy(), [2.0 - 0.1 * (2.0 + 0.5 * 2.0)], rtol=1e-15)


def test_sgd_momentum_two_steps():
    p = param([2.0])
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9)
    step(optimizer, half_square(p))
    p1 = 2.0 - 0.1 * 2.0  # b1 = g1 = 2
    step(optimizer, half_square(p))
    b2 = 0.9 * 2.0 + p1  # b2 = momentum b1 + g2, g2 = p1
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * b2], rtol=1e-15)


def test_sgd_dampening_scales_the_new_gradient_after_the_first_step():
    p = param([2.0])
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    step(optimizer, half_square(p))
    p1 = 2.0 - 0.1 * 2.0  # the first buffer is the gradient itself, undamped
    step(optimizer, half_square(p))
    b2 = 0.9 * 2.0 + (1 - 0.5) * p1
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * b2], rtol=1e-15)


def test_sgd_nesterov_two_steps():
    p = param([2.0])
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    step(optimizer, half_square(p))
    p1 = 2.0 - 0.1 * (2.0 + 0.9 * 2.0)  # b1 = g1; step along g1 + momentum b1
    step(optimizer, half_square(p))
    b2 = 0.9 * 2.0 + p1
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * (p1 + 0.9 * b2)], rtol=1e-15)


def adam_by_hand(p, lr, beta1, beta2, eps, steps, weight_decay=0.0, decoupled=False):
    """Kingma & Ba 2015, Alg. 1 on f(p) = p**2 / 2, in plain Python floats."""
    m = v = 0.0
    for t in range(1, steps + 1):
        g = p if decoupled else p + weight_decay * p  # the gradient at the point where the loss was taken
        if decoupled:
            p = p - lr * weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


def test_adam_first_step_moves_each_coordinate_by_about_lr():
    p = param([2.0, -0.001])
    step(optim.Adam([p], lr=0.1), half_square(p))
    # m_hat = g and v_hat = g**2 at t = 1, so the step is lr * g / (|g| + eps)
    np.testing.assert_allclose(p.numpy(), [2.0 - 0.1 * 2.0 / (2.0 + 1e-8), -0.001 + 0.1 * 0.001 / (0.001 + 1e-8)],
                               rtol=1e-14)


def test_adam_two_steps():
    p = param([2.0])
    optimizer = optim.Adam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    step(optimizer, half_square(p))
    step(optimizer, half_square(p))
    np.testing.assert_allclose(p.numpy(), [adam_by_hand(2.0, 0.1, 0.8, 0.9, 1e-3, steps=2)], rtol=1e-14)


def test_adam_weight_decay_is_added_to_the_gradient():
    p = param([2.0])
    optimizer = optim.Adam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.5)
    step(optimizer, half_square(p))
    step(optimizer, half_square(p))
    np.testing.assert_allclose(p.numpy(), [adam_by_hand(2.0, 0.1, 0.8, 0.9, 1e-3, 2, weight_decay=0.5)], rtol=1e-14)


def test_adamw_decays_the_parameter_before_the_adam_step():
    p = param([2.0])
    optimizer = optim.AdamW([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.5)
    step(optimizer, half_square(p))
    step(optimizer, half_square(p))
    expected = adam_by_hand(2.0, 0.1, 0.8, 0.9, 1e-3, 2, weight_decay=0.5, decoupled=True)
    np.testing.assert_allclose(p.numpy(), [expected], rtol=1e-14)


def test_adam_amsgrad_divides_by_the_largest_second_moment():
    # f(p) = c * p with c = 4, then 1: v falls on the second step, but amsgrad keeps max(v1, v2)
    p = param([0.0])
    c = minigen.tensor(4.0, dtype=minigen.float64)
    optimizer = optim.Adam([p], lr=0.1, betas=(0.5, 0.5), eps=0.0, amsgrad=True)
    step(optimizer, lambda: (c * p).sum())
    c.data[...] = 1.0
    step(optimizer, lambda: (c * p).sum())
    p1 = -0.1  # first step: lr * sign(g)
    m2, v1, v2 = 0.5 * 0.5 * 4 + 0.5 * 1, 0.5 * 16, 0.5 * 0.5 * 16 + 0.5 * 1
    assert v2 < v1
    expected = p1 - 0.1 * (m2 / (1 - 0.25)) / math.sqrt(max(v1, v2) / (1 - 0.25))
    np.testing.assert_allclose(p.numpy(), [expected], rtol=1e-14)


def test_rmsprop_two_steps():
    p = param([2.0])
    optimizer = optim.RMSprop([p], lr=0.1, alpha=0.9, eps=1e-3)
    step(optimizer, half_square(p))
    v1 = 0.1 * 2.0 ** 2
    p1 = 2.0 - 0.1 * 2.0 / (math.sqrt(v1) + 1e-3)
    step(optimizer, half_square(p))
    v2 = 0.9 * v1 + 0.1 * p1 ** 2
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * p1 / (math.sqrt(v2) + 1e-3)], rtol=1e-14)


def test_rmsprop_centered_divides_by_the_standard_deviation():
    p = param([2.0])
    optimizer = optim.RMSprop([p], lr=0.1, alpha=0.9, eps=1e-3, centered=True)
    step(optimizer, half_square(p))
    v1, m1 = 0.1 * 2.0 ** 2, 0.1 * 2.0
    p1 = 2.0 - 0.1 * 2.0 / (math.sqrt(v1 - m1 ** 2) + 1e-3)
    step(optimizer, half_square(p))
    v2, m2 = 0.9 * v1 + 0.1 * p1 ** 2, 0.9 * m1 + 0.1 * p1
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * p1 / (math.sqrt(v2 - m2 ** 2) + 1e-3)], rtol=1e-14)


def test_rmsprop_momentum_accumulates_the_scaled_steps():
    p = param([2.0])
    optimizer = optim.RMSprop([p], lr=0.1, alpha=0.9, eps=1e-3, momentum=0.5)
    step(optimizer, half_square(p))
    v1 = 0.1 * 2.0 ** 2
    b1 = 2.0 / (math.sqrt(v1) + 1e-3)
    p1 = 2.0 - 0.1 * b1
    step(optimizer, half_square(p))
    v2 = 0.9 * v1 + 0.1 * p1 ** 2
    b2 = 0.5 * b1 + p1 / (math.sqrt(v2) + 1e-3)
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * b2], rtol=1e-14)


def test_adagrad_two_steps():
    p = param([2.0])
    optimizer = optim.Adagrad([p], lr=0.1, eps=1e-3)
    step(optimizer, half_square(p))
    s1 = 2.0 ** 2  # the sum of squared gradients starts at 0
    p1 = 2.0 - 0.1 * 2.0 / (math.sqrt(s1) + 1e-3)
    step(optimizer, half_square(p))
    s2 = s1 + p1 ** 2
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 * p1 / (math.sqrt(s2) + 1e-3)], rtol=1e-14)


def test_adagrad_lr_decay_initial_accumulator_and_weight_decay():
    p = param([2.0])
    optimizer = optim.Adagrad([p], lr=0.1, lr_decay=0.5, weight_decay=0.25, initial_accumulator_value=3.0, eps=0.0)
    step(optimizer, half_square(p))
    g1 = 2.0 + 0.25 * 2.0
    s1 = 3.0 + g1 ** 2
    p1 = 2.0 - 0.1 * g1 / math.sqrt(s1)  # lr_1 = lr / (1 + 0 * lr_decay)
    step(optimizer, half_square(p))
    g2 = p1 + 0.25 * p1
    s2 = s1 + g2 ** 2
    np.testing.assert_allclose(p.numpy(), [p1 - 0.1 / (1 + 0.5) * g2 / math.sqrt(s2)], rtol=1e-14)
    assert optimizer.state[p]["step"] == 2


def test_sgd_maximize_steps_up_the_gradient():
    p = param([2.0, -1.0])
    step(optim.SGD([p], lr=0.1, maximize=True), half_square(p))
    np.testing.assert_allclose(p.numpy(), [2.0 + 0.1 * 2.0, -1.0 - 0.1 * 1.0], rtol=1e-15)


# ------------------------------------------------------------------ what every step keeps
ALL = [
    (optim.SGD, dict(lr=0.05)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, dict(lr=0.05)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (optim.Adam, dict(lr=0.05, maximize=True)),
]
IDS = ["sgd", "sgd-nesterov", "adam-amsgrad", "adamw", "rmsprop-centered-momentum", "adagrad", "adam-maximize"]


@pytest.mark.parametrize("make, options", ALL, ids=IDS)
def test_step_updates_in_place_keeping_dtype_and_device(make, options, device):
    p = minigen.tensor([[1.0, -2.0], [0.5, 3.0]], device=device, requires_grad=True)  # float32
    array = p.data
    optimizer = make([p], **options)
    step(optimizer, half_square(p))
    step(optimizer, half_square(p))
    assert p.data is array and p.dtype == np.float32
    for value in optimizer.state[p].values():
        if minigen.backend.is_array(value):
            assert value.dtype == np.float32 and minigen.backend.device_of(value) == p.device


@pytest.mark.parametrize("make, options", ALL, ids=IDS)
def test_maximize_f_takes_the_same_steps_as_minimizing_minus_f(make, options):
    rng = np.random.default_rng(5)
    W0, c0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    up, down = [param(W0), param(c0)], [param(W0), param(c0)]
    climber = make(up, **{**options, "maximize": True})
    descender = make(down, **{**options, "maximize": False})
    for _ in range(5):
        step(climber, lambda: wiggly_loss(minigen, *up))
        step(descender, lambda: -wiggly_loss(minigen, *down))
    for a, b in zip(up, down):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("make, options", ALL, ids=IDS)
def test_parameters_without_grad_are_skipped(make, options):
    used, unused = param([1.0, 2.0]), param([3.0, 4.0])
    optimizer = make([used, unused], **options)
    step(optimizer, half_square(used))
    assert unused.grad is None and unused.tolist() == [3.0, 4.0] and unused not in optimizer.state
    assert used.tolist() != [1.0, 2.0]


@pytest.mark.parametrize("make, options", ALL, ids=IDS)
def test_a_frozen_layer_stays_unchanged_while_the_rest_trains(make, options):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model[0].requires_grad_(False)
    before = [p.numpy().copy() for p in model.parameters()]
    optimizer = make(model.parameters(), **options)
    step(optimizer, lambda: (model(minigen.randn(5, 3)) ** 2).mean())
    after = [p.numpy() for p in model.parameters()]
    assert all((a == b).all() for a, b in zip(after[:2], before[:2]))
    assert all((a != b).any() for a, b in zip(after[2:], before[2:]))


def test_step_returns_the_closure_loss_computed_with_gradients_on():
    p = param([2.0])
    optimizer = optim.SGD([p], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum() / 2
        loss.backward()
        return loss

    with minigen.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 2.0 and p.tolist() == [2.0 - 0.1 * 2.0]


# ------------------------------------------------------------------ convergence
OPTIMIZERS_THAT_CONVERGE = [
    (optim.SGD, dict(lr=0.02, momentum=0.9)),
    (optim.Adam, dict(lr=0.05)),
    (optim.AdamW, dict(lr=0.05)),  # the default weight_decay=1e-2 barely moves the optimum
    (optim.RMSprop, dict(lr=0.01)),
    (optim.Adagrad, dict(lr=0.5)),
]
CONVERGE_IDS = ["sgd-momentum", "adam", "adamw", "rmsprop", "adagrad"]


@pytest.mark.parametrize("make, options", OPTIMIZERS_THAT_CONVERGE, ids=CONVERGE_IDS)
def test_least_squares_converges(make, options, device):
    rng = np.random.default_rng(1)
    A = minigen.tensor(np.eye(4) + 0.2 * rng.standard_normal((4, 4)), device=device)
    b = minigen.tensor(rng.standard_normal(4), device=device)
    x = minigen.zeros(4, dtype=minigen.float64, device=device, requires_grad=True)
    optimizer = make([x], **options)
    losses = [step(optimizer, lambda: ((A @ x - b) ** 2).sum()) for _ in range(400)]
    assert losses[-1] < 1e-4 * losses[0]


@pytest.mark.parametrize("make, options", OPTIMIZERS_THAT_CONVERGE, ids=CONVERGE_IDS)
def test_logistic_regression_fits_separable_data(make, options, device):
    rng = np.random.default_rng(2)
    X_host = rng.standard_normal((200, 2))
    y_host = (X_host @ [2.0, -1.0] + 0.5 + 0.3 * rng.standard_normal(200) > 0).astype(np.float64)
    X, y = minigen.tensor(X_host, device=device), minigen.tensor(y_host, device=device)
    w = minigen.zeros(2, dtype=minigen.float64, device=device, requires_grad=True)
    b = minigen.zeros(1, dtype=minigen.float64, device=device, requires_grad=True)
    optimizer = make([w, b], **options)

    def cross_entropy():  # -log sigmoid(z) for y = 1, -log(1 - sigmoid(z)) = softplus(z) for y = 0
        z = X @ w + b
        return (minigen.softplus(z) - y * z).mean()

    losses = [step(optimizer, cross_entropy) for _ in range(300)]
    accuracy = (((X_host @ w.numpy() + b.numpy()) > 0) == y_host).mean()
    assert losses[-1] < 0.25 < losses[0] and accuracy > 0.9


# ------------------------------------------------------------------ the same trajectory as torch.optim
TORCH_CASES = {
    "sgd": ("SGD", dict(lr=0.05)),
    "sgd-momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd-nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd-weight-decay": ("SGD", dict(lr=0.05, weight_decay=0.1)),
    "sgd-dampening": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    "adam": ("Adam", dict(lr=0.05, betas=(0.8, 0.95))),
    "adam-weight-decay": ("Adam", dict(lr=0.05, weight_decay=0.1)),
    "adam-amsgrad": ("Adam", dict(lr=0.05, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop-centered": ("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.01)),
    "rmsprop-momentum": ("RMSprop", dict(lr=0.01, momentum=0.7, alpha=0.9)),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad-all-options": ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5,
                                            eps=1e-6)),
    "sgd-maximize": ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.1, maximize=True)),
    "adam-maximize": ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    "adamw-maximize": ("AdamW", dict(lr=0.01, maximize=True)),
    "rmsprop-maximize": ("RMSprop", dict(lr=0.001, centered=True, momentum=0.5, maximize=True)),
    "adagrad-maximize": ("Adagrad", dict(lr=0.01, weight_decay=0.1, maximize=True)),
}


def wiggly_loss(lib, W, c):
    """A small non-quadratic function of W (3, 2) and c (2,), written once for minigen and torch."""
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]], dtype=lib.float64, device=W.device)  # where W lives
    h = lib.tanh(x @ W + c)
    return (h * h).sum() + (lib.sin(W) * W).sum() + (c ** 4).sum()


@pytest.mark.parametrize("case", TORCH_CASES)
def test_trajectory_matches_torch_across_a_checkpoint(case, tmp_path):
    torch = pytest.importorskip("torch")
    name, options = TORCH_CASES[case]
    rng = np.random.default_rng(3)
    W0, c0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    ours = [param(W0), param(c0)]
    theirs = [torch.tensor(W0, requires_grad=True), torch.tensor(c0, requires_grad=True)]
    our_optimizer = getattr(optim, name)(ours, **options)
    their_optimizer = getattr(torch.optim, name)(theirs, **options)
    sign = -1 if options.get("maximize") else 1  # maximize -wiggly_loss, which is bounded above
    for k in range(60):
        if k == 30:  # both continue in fresh optimizers from a checkpoint (ours through a file)
            minigen.save(our_optimizer.state_dict(), tmp_path / "optimizer.npz")
            our_optimizer = getattr(optim, name)(ours, lr=123.0)
            our_optimizer.load_state_dict(minigen.load(tmp_path / "optimizer.npz"))
            saved = their_optimizer.state_dict()
            their_optimizer = getattr(torch.optim, name)(theirs, lr=123.0)
            their_optimizer.load_state_dict(saved)
        step(our_optimizer, lambda: sign * wiggly_loss(minigen, *ours))
        step(their_optimizer, lambda: sign * wiggly_loss(torch, *theirs))
        for mine, reference in zip(ours, theirs):
            assert np.isfinite(mine.numpy()).all()
            np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-7)


# ------------------------------------------------------------------ parameter groups and zero_grad
def test_param_groups_use_their_own_lr_and_the_defaults_for_the_rest():
    fast, slow = param([1.0]), param([1.0])
    optimizer = optim.SGD([{"params": [fast], "lr": 0.5}, {"params": [slow]}], lr=0.1, momentum=0.0)
    step(optimizer, lambda: (fast + slow).sum())  # both gradients are 1
    assert fast.tolist() == [1.0 - 0.5] and slow.tolist() == [1.0 - 0.1]
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.1]
    assert optimizer.param_groups[0]["momentum"] == 0.0 and optimizer.param_groups[1]["nesterov"] is False


def test_add_param_group_adds_a_group_with_the_defaults():
    first, later = param([1.0]), param([1.0])
    optimizer = optim.Adam([first], lr=0.1)
    optimizer.add_param_group({"params": later, "betas": (0.5, 0.5)})
    assert optimizer.param_groups[1]["params"][0] is later
    assert optimizer.param_groups[1]["lr"] == 0.1 and optimizer.param_groups[1]["betas"] == (0.5, 0.5)
    step(optimizer, lambda: (first + later).sum())
    assert later.tolist() == first.tolist() == [1.0 - 0.1 * 1.0 / (1.0 + 1e-8)]


def test_zero_grad_sets_grads_to_none():
    p = param([1.0, 2.0])
    optimizer = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.zero_grad()
    assert p.grad is None


def test_zero_grad_set_to_none_false_leaves_zeros():
    p = param([1.0, 2.0])
    optimizer = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0] and p.grad.dtype == p.dtype


# ------------------------------------------------------------------ checkpoints
def run(optimizer, params, steps):
    for _ in range(steps):
        step(optimizer, lambda: wiggly_loss(minigen, *params))


@pytest.mark.parametrize("make, options", ALL, ids=IDS)
def test_state_dict_round_trip_continues_identically(make, options, device):
    rng = np.random.default_rng(4)
    W0, c0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    straight = [param(W0, device), param(c0, device)]
    run(make(straight, **options), straight, 10)

    first = [param(W0, device), param(c0, device)]
    optimizer = make(first, **options)
    run(optimizer, first, 5)
    saved = optimizer.state_dict()
    resumed = [param(p.numpy(), device) for p in first]
    fresh = make(resumed, lr=123.0)  # the lr comes back from the state dict
    fresh.load_state_dict(saved)
    run(fresh, resumed, 5)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_survives_minigen_save_and_load(tmp_path):
    p = param([2.0, -1.0])
    optimizer = optim.Adam([p], lr=0.1, amsgrad=True)
    step(optimizer, half_square(p))
    minigen.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    q = param(p.numpy())
    fresh = optim.Adam([q])
    fresh.load_state_dict(minigen.load(tmp_path / "optimizer.npz"))
    step(optimizer, half_square(p))
    step(fresh, half_square(q))
    np.testing.assert_array_equal(q.numpy(), p.numpy())
    assert fresh.param_groups[0]["betas"] == (0.9, 0.999) and fresh.state[q]["step"] == 2


def test_state_dict_numbers_parameters_through_the_groups():
    a, b, c = param([1.0]), param([2.0]), param([3.0])
    optimizer = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    step(optimizer, lambda: (a + c).sum())
    saved = optimizer.state_dict()
    assert [group["params"] for group in saved["param_groups"]] == [[0, 1], [2]]
    assert [group["lr"] for group in saved["param_groups"]] == [0.1, 0.5]
    assert sorted(saved["state"]) == [0, 2]  # b had no gradient, so no state
    assert saved["state"][0]["step"] == 1 and isinstance(saved["state"][0]["exp_avg"], minigen.Tensor)


def test_state_dict_is_a_copy_of_the_state():
    p = param([2.0])
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9)
    step(optimizer, half_square(p))
    saved = optimizer.state_dict()
    saved["state"][0]["momentum_buffer"].data[...] = 100.0
    saved["param_groups"][0]["lr"] = 100.0
    assert optimizer.state[p]["momentum_buffer"].tolist() == [2.0] and optimizer.param_groups[0]["lr"] == 0.1


def test_load_state_dict_moves_state_to_the_parameters_device_and_dtype(device):
    p = param([2.0])
    optimizer = optim.Adam([p], lr=0.1)
    step(optimizer, half_square(p))
    q = minigen.tensor([2.0], device=device, requires_grad=True)  # float32, perhaps on the GPU
    fresh = optim.Adam([q])
    fresh.load_state_dict(optimizer.state_dict())
    m = fresh.state[q]["exp_avg"]
    assert minigen.backend.device_of(m) == q.device and m.dtype == np.float32


def test_load_state_dict_refuses_a_different_number_of_groups():
    a, b = param([1.0]), param([2.0])
    saved = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        optim.SGD([param([1.0]), param([2.0])], lr=0.1).load_state_dict(saved)


def test_load_state_dict_refuses_a_group_of_another_size():
    saved = optim.SGD([param([1.0]), param([2.0])], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict, 3 in this optimizer"):
        optim.SGD([param([1.0]), param([2.0]), param([3.0])], lr=0.1).load_state_dict(saved)


def test_load_state_dict_refuses_an_option_out_of_range():
    saved = optim.SGD([param([1.0])], lr=0.1).state_dict()
    saved["param_groups"][0]["lr"] = -0.5
    with pytest.raises(ValueError, match="lr must be >= 0, got -0.5"):
        optim.SGD([param([1.0])], lr=0.1).load_state_dict(saved)


def test_load_state_dict_refuses_state_of_another_shape():
    p = param([2.0])
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9)
    step(optimizer, half_square(p))
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(1,\), its parameter \(2,\)"):
        optim.SGD([param([1.0, 2.0])], lr=0.1, momentum=0.9).load_state_dict(optimizer.state_dict())


# ------------------------------------------------------------------ errors at the door
def test_empty_parameter_list_is_refused():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)


@pytest.mark.parametrize("make, option, value", [
    (optim.SGD, "lr", -0.1), (optim.SGD, "momentum", -0.5), (optim.SGD, "weight_decay", -1e-4),
    (optim.Adam, "lr", -0.1), (optim.Adam, "eps", -1e-8), (optim.Adam, "weight_decay", -1.0),
    (optim.AdamW, "lr", -0.1), (optim.RMSprop, "lr", -0.1), (optim.RMSprop, "alpha", -0.9),
    (optim.RMSprop, "eps", -1e-8), (optim.RMSprop, "momentum", -0.1), (optim.RMSprop, "weight_decay", -0.1),
    (optim.Adagrad, "lr", -0.1), (optim.Adagrad, "lr_decay", -0.5), (optim.Adagrad, "weight_decay", -0.1),
    (optim.Adagrad, "initial_accumulator_value", -1.0), (optim.Adagrad, "eps", -1e-10),
])
def test_negative_options_are_refused_with_their_value(make, option, value):
    with pytest.raises(ValueError, match=f"{option} must be >= 0, got {value}"):
        make([param([1.0])], **{option: value})


@pytest.mark.parametrize("betas, bad", [((1.0, 0.999), "betas\\[0\\] must be in \\[0, 1\\), got 1.0"),
                                        ((0.9, -0.1), "betas\\[1\\] must be in \\[0, 1\\), got -0.1")])
def test_betas_outside_zero_one_are_refused(betas, bad):
    with pytest.raises(ValueError, match=bad):
        optim.Adam([param([1.0])], betas=betas)


@pytest.mark.parametrize("make, option", [(optim.SGD, "lr"), (optim.Adam, "eps"), (optim.RMSprop, "alpha")])
def test_an_option_that_is_not_a_number_is_named(make, option):
    with pytest.raises(TypeError, match=f"{make.__name__}: {option} must be a number, got None \\(NoneType\\)"):
        make([param([1.0])], **{option: None})


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_maximize_that_is_not_a_bool_is_refused(make):
    with pytest.raises(TypeError, match=f"{make.__name__}: maximize must be True or False, got 'yes' \\(str\\)"):
        make([param([1.0])], maximize="yes")


@pytest.mark.parametrize("betas", [(0.9,), (0.9, 0.99, 0.999), 0.9])
def test_betas_that_are_not_a_pair_are_refused_at_construction(betas):
    with pytest.raises(ValueError, match=re.escape(f"Adam: betas must be a pair (beta1, beta2), got {betas}")):
        optim.Adam([param([1.0])], betas=betas)


def test_an_invalid_option_in_a_group_is_refused():
    with pytest.raises(ValueError, match="lr must be >= 0, got -1"):
        optim.SGD([{"params": [param([1.0])], "lr": -1}], lr=0.1)


@pytest.mark.parametrize("options", [dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)])
def test_nesterov_needs_momentum_and_no_dampening(options):
    with pytest.raises(ValueError, match="nesterov momentum needs momentum > 0 and dampening 0"):
        optim.SGD([param([1.0])], lr=0.1, **options)


def test_a_parameter_that_is_not_a_tensor_is_refused():
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray"):
        optim.SGD([param([1.0]), np.ones(2)], lr=0.1)


def test_a_tensor_that_does_not_require_grad_is_accepted_and_left_alone():
    frozen = minigen.ones(2)
    optimizer = optim.SGD([frozen], lr=0.1)
    optimizer.step()
    assert optimizer.param_groups[0]["params"][0] is frozen and frozen.numpy().tolist() == [1.0, 1.0]


def test_a_non_leaf_tensor_is_refused():
    with pytest.raises(ValueError, match="is not a leaf"):
        optim.SGD([param([1.0]) * 2], lr=0.1)


def test_a_single_tensor_as_params_is_refused():
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(param([1.0]), lr=0.1)


def test_a_set_of_parameters_is_refused():
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {param([1.0])}}], lr=0.1)


def test_a_parameter_in_two_groups_is_refused():
    p = param([1.0])
    optimizer = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optimizer.add_param_group({"params": [p]})
