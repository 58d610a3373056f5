"""minigen.optim.lr_scheduler: the closed forms, the same values as torch's schedulers,
checkpoints, and the errors at the door."""
import math

import numpy as np
import pytest

import minigen
from minigen import optim
from minigen.optim import lr_scheduler

EPOCHS = 30
BASE_LRS = [0.1, 0.02]  # two parameter groups, so each scheduler handles a list


def make_optimizer(lib=minigen):
    params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    return lib.optim.SGD([{"params": [params[0]], "lr": BASE_LRS[0]}, {"params": [params[1]], "lr": BASE_LRS[1]}])


def warmup_then_decay(epoch):
    return (epoch + 1) / 5 if epoch < 5 else 0.9 ** (epoch - 5)


# name: (constructor options, closed form lr(base_lr, epoch))
SCHEDULES = {
    "StepLR": (dict(step_size=7, gamma=0.5), lambda base_lr, t: base_lr * 0.5 ** (t // 7)),
    "ExponentialLR": (dict(gamma=0.9), lambda base_lr, t: base_lr * 0.9 ** t),
    "CosineAnnealingLR": (dict(T_max=10, eta_min=0.001),  # 30 epochs: down, up, down again
                          lambda base_lr, t: 0.001 + (base_lr - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2),
    "LambdaLR": (dict(lr_lambda=warmup_then_decay), lambda base_lr, t: base_lr * warmup_then_decay(t)),
}


def lrs_over_epochs(lib, name, options=None, epochs=EPOCHS):
    """The lrs of both groups at epochs 0, 1, ..., epochs - 1, read from get_last_lr and the groups,
    under ``name(**options)`` (by default the options in SCHEDULES)."""
    optimizer = make_optimizer(lib)
    scheduler = getattr(lib.optim.lr_scheduler, name)(optimizer, **(options or SCHEDULES[name][0]))
    lrs = []
    for _ in range(epochs):
        assert scheduler.get_last_lr() == [group["lr"] for group in optimizer.param_groups]
        lrs.append(scheduler.get_last_lr())
        optimizer.step()
        scheduler.step()
    return np.array(lrs)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_follows_its_closed_form(name):
    closed_form = SCHEDULES[name][1]
    expected = [[closed_form(base_lr, t) for base_lr in BASE_LRS] for t in range(EPOCHS)]
    np.testing.assert_allclose(lrs_over_epochs(minigen, name), expected, rtol=1e-12)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_matches_torch(name):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(lrs_over_epochs(minigen, name), lrs_over_epochs(torch, name), rtol=1e-12)


def test_construction_records_initial_lr_and_sets_epoch_zero():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    assert scheduler.last_epoch == 0 and scheduler.base_lrs == BASE_LRS
    assert [group["initial_lr"] for group in optimizer.param_groups] == BASE_LRS
    assert scheduler.get_last_lr() == BASE_LRS


def test_the_optimizer_steps_with_the_scheduled_lr():
    p = minigen.zeros(1, dtype=minigen.float64, requires_grad=True)
    optimizer = optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        p.sum().backward()  # gradient 1: each step moves p by the lr
        optimizer.step()
        scheduler.step()
    assert p.tolist() == [-(1.0 + 0.5 + 0.25)]


@pytest.mark.parametrize("name", SCHEDULES)
def test_state_dict_round_trip_continues_identically(name):
    options = SCHEDULES[name][0]
    optimizer = make_optimizer()
    scheduler = getattr(lr_scheduler, name)(optimizer, **options)
    for _ in range(12):
        scheduler.step()
    saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
    straight = []
    for _ in range(10):
        scheduler.step()
        straight.append(scheduler.get_last_lr())

    fresh_optimizer = make_optimizer()
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh = getattr(lr_scheduler, name)(fresh_optimizer, **options)
    fresh.load_state_dict(saved_scheduler)
    assert fresh.last_epoch == 12
    resumed = []
    for _ in range(10):
        fresh.step()
        resumed.append(fresh.get_last_lr())
    assert resumed == straight


def test_lambda_lr_takes_one_function_per_group():
    scheduler = lr_scheduler.LambdaLR(make_optimizer(), [lambda t: 1.0, lambda t: 0.5 ** t])
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [BASE_LRS[0], BASE_LRS[1] * 0.25]


def test_lambda_lr_state_dict_keeps_callable_objects_but_not_functions():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    scheduler = lr_scheduler.LambdaLR(make_optimizer(), [Decay(0.5), lambda t: 1.0])
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [{"rate": 0.5}, None]
    restored = lr_scheduler.LambdaLR(make_optimizer(), [Decay(0.9), lambda t: 1.0])
    restored.load_state_dict(saved)
    assert restored.lr_lambdas[0].rate == 0.5 and "lr_lambdas" in saved


def test_lambda_lr_refuses_a_list_of_the_wrong_length():
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(make_optimizer(), [lambda t: 1.0])


def test_resuming_without_initial_lr_is_refused():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(), step_size=3, last_epoch=5)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="expected a minigen Optimizer, got list"):
        lr_scheduler.ExponentialLR([minigen.zeros(1, requires_grad=True)], gamma=0.5)


@pytest.mark.parametrize("options", [dict(step_size=0), dict(step_size=2.5), dict(step_size=True)])
def test_a_step_size_that_is_not_a_positive_int_is_refused(options):
    with pytest.raises(ValueError, match=f"step_size must be a positive int, got {options['step_size']}"):
        lr_scheduler.StepLR(make_optimizer(), **options)


@pytest.mark.parametrize("T_max", [0, -1.5, math.inf, "10"])
def test_a_t_max_that_is_not_a_positive_number_is_refused(T_max):
    with pytest.raises(ValueError, match=f"T_max must be a positive number, got {T_max!r}"):
        lr_scheduler.CosineAnnealingLR(make_optimizer(), T_max)


# name: (options as PyTorch also takes them, the same with Python ints)
NUMPY_AND_FLOAT_PERIODS = {
    "StepLR": (dict(step_size=np.int64(7), gamma=0.5), dict(step_size=7, gamma=0.5)),
    "CosineAnnealingLR": (dict(T_max=10.0, eta_min=0.001), dict(T_max=10, eta_min=0.001)),
}


@pytest.mark.parametrize("name", NUMPY_AND_FLOAT_PERIODS)
def test_a_numpy_step_size_and_a_float_t_max_schedule_like_ints(name):
    options, as_ints = NUMPY_AND_FLOAT_PERIODS[name]
    np.testing.assert_array_equal(lrs_over_epochs(minigen, name, options), lrs_over_epochs(minigen, name, as_ints))


@pytest.mark.parametrize("name", NUMPY_AND_FLOAT_PERIODS)
def test_a_numpy_step_size_and_a_float_t_max_match_torch(name):
    torch = pytest.importorskip("torch")
    options = NUMPY_AND_FLOAT_PERIODS[name][0]
    np.testing.assert_allclose(lrs_over_epochs(minigen, name, options), lrs_over_epochs(torch, name, options),
                               rtol=1e-12)
