"""minigen.optim.lr_scheduler: the closed forms, the same values as torch's schedulers,
checkpoints, and the errors at the door."""
import copy
import math

import numpy as np
import pytest

import minigen
from minigen import optim
from minigen.optim import lr_scheduler

EPOCHS = 30
BASE_LRS = [0.1, 0.02]  # two parameter groups, so each scheduler handles a list
METRICS = [1.0, 0.8, 0.7, 0.69, 0.7, 0.7, 0.7, 0.5, 0.5, 0.5, 0.49995, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3,
           0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]  # what ReduceLROnPlateau is stepped with


def make_optimizer(lib=minigen, name="SGD"):
    params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    groups = [{"params": [params[0]], "lr": BASE_LRS[0]}, {"params": [params[1]], "lr": BASE_LRS[1]}]
    return getattr(lib.optim, name)(groups)


def warmup_then_decay(epoch):
    return (epoch + 1) / 5 if epoch < 5 else 0.9 ** (epoch - 5)


def cosine(lr_from, lr_to, pct):
    """Half a cosine from lr_from (pct = 0) to lr_to (pct = 1)."""
    return lr_to + (lr_from - lr_to) * (1 + math.cos(math.pi * pct)) / 2


def warm_restarts(base_lr, t, T_0=3, T_mult=2, eta_min=0.001):
    """SGDR with restarts at epochs 3, 3 + 6 = 9, 9 + 12 = 21, ..."""
    T_i = T_0
    while t >= T_i:
        t, T_i = t - T_i, T_i * T_mult
    return cosine(base_lr, eta_min, t / T_i)


def one_cycle(base_lr, t):
    """max_lr = 10 base_lr over 30 steps: up from max_lr / 25 until step 0.3 * 30 - 1 = 8, then down to
    max_lr / 25e4."""
    max_lr = 10 * base_lr
    return cosine(max_lr / 25, max_lr, t / 8) if t <= 8 else cosine(max_lr, max_lr / 25e4, (t - 8) / (29 - 8))


def warmup_then_cosine(base_lr, t):
    """LinearLR(start_factor=0.1, total_iters=5) for epochs 0-4, then CosineAnnealingLR(T_max=25) from base_lr."""
    return base_lr * (0.1 + 0.9 * t / 5) if t < 5 else cosine(base_lr, 0.0, (t - 5) / 25)


# name: (constructor options, or a function of (lr_scheduler, optimizer) giving them; closed form lr(base_lr, epoch))
SCHEDULES = {
    "StepLR": (dict(step_size=7, gamma=0.5), lambda base_lr, t: base_lr * 0.5 ** (t // 7)),
    "MultiStepLR": (dict(milestones=[12, 3, 7, 7], gamma=0.5),  # 7 twice: times 0.25 there
                    lambda base_lr, t: base_lr * 0.5 ** ((t >= 3) + 2 * (t >= 7) + (t >= 12))),
    "ExponentialLR": (dict(gamma=0.9), lambda base_lr, t: base_lr * 0.9 ** t),
    "LinearLR": (dict(start_factor=0.25, end_factor=0.9, total_iters=8),
                 lambda base_lr, t: base_lr * (0.25 + (0.9 - 0.25) * min(t, 8) / 8)),
    "CosineAnnealingLR": (dict(T_max=10, eta_min=0.001),  # 30 epochs: down, up, down again
                          lambda base_lr, t: 0.001 + (base_lr - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2),
    "CosineAnnealingWarmRestarts": (dict(T_0=3, T_mult=2, eta_min=0.001), warm_restarts),
    "OneCycleLR": (dict(max_lr=[10 * lr for lr in BASE_LRS], total_steps=EPOCHS), one_cycle),
    "LambdaLR": (dict(lr_lambda=warmup_then_decay), lambda base_lr, t: base_lr * warmup_then_decay(t)),
    "SequentialLR": (lambda schedules, optimizer: dict(
        schedulers=[schedules.LinearLR(optimizer, start_factor=0.1, total_iters=5),
                    schedules.CosineAnnealingLR(optimizer, T_max=25)], milestones=[5]), warmup_then_cosine),
}

# id: (scheduler, options, optimizer) -- run against torch only, beside every schedule above
TORCH_ONLY = {
    "OneCycleLR-three-phase-linear": ("OneCycleLR", dict(max_lr=1.0, epochs=3, steps_per_epoch=10, pct_start=0.25,
                                                         anneal_strategy="linear", three_phase=True), "SGD"),
    "OneCycleLR-adam-betas": ("OneCycleLR", dict(max_lr=0.5, total_steps=EPOCHS, base_momentum=0.8), "Adam"),
    "OneCycleLR-rmsprop-momentum": ("OneCycleLR", dict(max_lr=0.5, total_steps=EPOCHS + 5), "RMSprop"),
    "CosineAnnealingWarmRestarts-T_mult-1": ("CosineAnnealingWarmRestarts", dict(T_0=4), "SGD"),
    "ReduceLROnPlateau": ("ReduceLROnPlateau", dict(patience=2), "SGD"),
    "ReduceLROnPlateau-max-abs-cooldown": ("ReduceLROnPlateau", dict(mode="max", threshold_mode="abs", patience=1,
                                                                     cooldown=2, min_lr=[0.001, 0.005]), "SGD"),
    "ReduceLROnPlateau-threshold-factor": ("ReduceLROnPlateau", dict(patience=0, factor=0.5, threshold=0.1,
                                                                     eps=1e-3), "Adam"),
    "SequentialLR-three-schedules": ("SequentialLR", lambda schedules, optimizer: dict(
        schedulers=[schedules.ExponentialLR(optimizer, 0.9), schedules.MultiStepLR(optimizer, [2, 4]),
                    schedules.CosineAnnealingWarmRestarts(optimizer, T_0=3), schedules.StepLR(optimizer, 3)],
        milestones=[4, 9, 20]), "SGD"),
    "SequentialLR-then-one-cycle": ("SequentialLR", lambda schedules, optimizer: dict(
        schedulers=[schedules.LinearLR(optimizer), schedules.OneCycleLR(optimizer, max_lr=1.0, total_steps=EPOCHS,
                                                                        cycle_momentum=False)],
        milestones=[7]), "SGD"),
}
TORCH_CASES = {**{name: (name, options, "SGD") for name, (options, _) in SCHEDULES.items()}, **TORCH_ONLY}


def make_scheduler(lib, name, optimizer, options):
    schedules = lib.optim.lr_scheduler
    options = options(schedules, optimizer) if callable(options) else options
    return getattr(schedules, name)(optimizer, **options)


def step_scheduler(scheduler, epoch):
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(METRICS[epoch])
    else:
        scheduler.step()


def momenta(optimizer):
    return [group["betas"][0] if "betas" in group else group["momentum"] for group in optimizer.param_groups]


def lrs_over_epochs(lib, name, options=None, epochs=EPOCHS, optimizer_name="SGD", resume_at=None, checkpoint=None):
    """The lrs of both groups at epochs 0, 1, ..., epochs - 1, read from get_last_lr and the groups,
    then the groups' momenta, under ``name(**options)`` (by default the options in SCHEDULES).
    ``resume_at``: before that epoch, carry on in a fresh optimizer and scheduler that load the
    state_dicts of the old ones after ``checkpoint`` (a function of the two state dicts) has been
    through them."""
    options = SCHEDULES[name][0] if options is None else options
    optimizer = make_optimizer(lib, optimizer_name)
    scheduler = make_scheduler(lib, name, optimizer, options)
    rows = []
    for epoch in range(epochs):
        if epoch == resume_at:
            saved_optimizer, saved_scheduler = checkpoint(optimizer.state_dict(), scheduler.state_dict())
            optimizer = make_optimizer(lib, optimizer_name)
            scheduler = make_scheduler(lib, name, optimizer, options)
            optimizer.load_state_dict(saved_optimizer)
            scheduler.load_state_dict(saved_scheduler)
        assert scheduler.get_last_lr() == [group["lr"] for group in optimizer.param_groups]
        rows.append(scheduler.get_last_lr() + momenta(optimizer))
        optimizer.step()
        step_scheduler(scheduler, epoch)
    return np.array(rows)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_follows_its_closed_form(name):
    closed_form = SCHEDULES[name][1]
    expected = [[closed_form(base_lr, t) for base_lr in BASE_LRS] for t in range(EPOCHS)]
    np.testing.assert_allclose(lrs_over_epochs(minigen, name)[:, :2], expected, rtol=1e-12)


@pytest.mark.parametrize("case", TORCH_CASES)
def test_schedule_matches_torch_across_a_checkpoint(case, tmp_path):
    torch = pytest.importorskip("torch")
    name, options, optimizer_name = TORCH_CASES[case]

    def through_a_file(*state_dicts):
        minigen.save(state_dicts, tmp_path / "checkpoint.npz")
        return minigen.load(tmp_path / "checkpoint.npz")

    ours = lrs_over_epochs(minigen, name, options, optimizer_name=optimizer_name, resume_at=13,
                           checkpoint=through_a_file)
    theirs = lrs_over_epochs(torch, name, options, optimizer_name=optimizer_name, resume_at=13,
                             checkpoint=lambda *state_dicts: copy.deepcopy(state_dicts))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


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
    scheduler = make_scheduler(minigen, name, optimizer, options)
    for _ in range(12):
        scheduler.step()
    saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
    straight = []
    for _ in range(10):
        scheduler.step()
        straight.append(scheduler.get_last_lr())

    fresh_optimizer = make_optimizer()
    fresh = make_scheduler(minigen, name, fresh_optimizer, options)
    fresh_optimizer.load_state_dict(saved_optimizer)
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
    with pytest.raises(ValueError, match="expected 2 values of lr_lambda"):
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


# ------------------------------------------------------------------ ReduceLROnPlateau by hand
def lrs_after_metrics(metrics, **options):
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, **options)
    lrs = []
    for metric in metrics:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


def test_plateau_reduces_after_more_than_patience_bad_epochs():
    # the first metric sets best; then bad epochs 1, 2 (= patience), 3: reduce, and count again from 0
    assert lrs_after_metrics([1.0] * 7, patience=2) == [0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1]


def test_plateau_cooldown_does_not_count_bad_epochs():
    # patience 0: the first bad epoch reduces; then 2 epochs of cooldown; the next bad epoch reduces again
    assert lrs_after_metrics([1.0] * 5, patience=0, cooldown=2, factor=0.5) == [0.1, 0.05, 0.05, 0.05, 0.025]


def test_plateau_an_improvement_below_the_relative_threshold_is_a_bad_epoch():
    # best 1.0: 0.95 is not below 1.0 * (1 - 0.1), so it is bad; 0.8 is good
    assert lrs_after_metrics([1.0, 0.95, 0.8, 0.79], patience=0, threshold=0.1) == [0.1, 0.1 * 0.1, 0.1 * 0.1,
                                                                                    0.1 * 0.1 * 0.1]


def test_plateau_mode_max_with_an_absolute_threshold():
    # best 1.0: 1.05 is not above 1.0 + 0.1 (bad), 1.2 is (good)
    assert lrs_after_metrics([1.0, 1.2, 1.25, 1.4], mode="max", threshold_mode="abs", threshold=0.1,
                             patience=0) == [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]


def test_plateau_lr_stops_at_min_lr_and_skips_changes_below_eps():
    assert lrs_after_metrics([1.0] * 4, patience=0, factor=0.5, min_lr=0.04) == [0.1, 0.05, 0.04, 0.04]
    assert lrs_after_metrics([1.0] * 3, patience=0, factor=0.5, eps=0.06) == [0.1, 0.1, 0.1]  # 0.1 - 0.05 <= eps


def test_plateau_takes_one_min_lr_per_group():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.05, 0.0])
    for metric in [1.0, 1.0]:
        scheduler.step(metric)
    assert scheduler.get_last_lr() == [0.05, BASE_LRS[1] * 0.1]


def test_plateau_takes_a_one_element_tensor_as_the_metric():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(minigen.tensor(1.0))
    scheduler.step(minigen.tensor([1.0]))
    assert scheduler.best == 1.0 and scheduler.get_last_lr()[0] == 0.1 * 0.1


# ------------------------------------------------------------------ warm restarts, one cycle, sequences by hand
def test_warm_restarts_step_takes_a_fractional_epoch():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2)
    scheduler.step(1.5)  # half way down the first cycle
    assert scheduler.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 1.5 / 3)) / 2, rel=1e-15)
    scheduler.step(3 + 6 + 3)  # the second restart is at 9; cycle length 12
    assert scheduler.T_i == 12 and scheduler.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)) / 2)
    scheduler.step()  # on from epoch 12
    assert scheduler.last_epoch == 13 and scheduler.T_cur == 4


def test_one_cycle_moves_adams_beta1_against_the_lr():
    optimizer = make_optimizer(minigen, "Adam")
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=11, pct_start=0.5)  # peak at step 4.5
    beta1s = [optimizer.param_groups[0]["betas"][0]]
    for _ in range(10):
        scheduler.step()
        beta1s.append(optimizer.param_groups[0]["betas"][0])
    np.testing.assert_allclose(beta1s[0], 0.95)
    np.testing.assert_allclose(beta1s[4], cosine(0.95, 0.85, 4 / 4.5))  # on the way down as the lr goes up
    np.testing.assert_allclose(beta1s[10], 0.95)
    assert optimizer.param_groups[0]["betas"][1] == 0.999


def test_one_cycle_refuses_to_step_past_total_steps():
    scheduler = lr_scheduler.OneCycleLR(make_optimizer(), max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="tried to step 4 times; total_steps is 3"):
        scheduler.step()


def test_one_cycle_needs_momentum_to_cycle_it():
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimizer with momentum or betas, got Adagrad"):
        lr_scheduler.OneCycleLR(make_optimizer(minigen, "Adagrad"), max_lr=1.0, total_steps=10)


def test_sequential_lr_hands_over_at_the_milestone():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.SequentialLR(optimizer, [lr_scheduler.ExponentialLR(optimizer, gamma=0.5),
                                                      lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)],
                                          milestones=[3])
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(6):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    # ExponentialLR for epochs 0-2, then StepLR from its own epoch 0 at epoch 3
    np.testing.assert_allclose(lrs, [0.1, 0.05, 0.025, 0.1, 0.1, 0.01, 0.01], rtol=1e-15)


# ------------------------------------------------------------------ the new schedules' errors at the door
@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.MultiStepLR(o, [3, 0]), r"milestones\[1\] must be a positive int, got 0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), r"start_factor must be in \(0, 1\], got 0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), r"end_factor must be in \[0, 1\], got 1.5"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), "total_iters must be a positive int, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2.5), "T_0 must be a positive int, got 2.5"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), "T_mult must be a positive int, got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), "give either total_steps or both epochs and steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=0), "total_steps must be a positive int, got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=-1),
     "steps_per_epoch must be a positive int, got -1"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.5),
     r"pct_start must be in \[0, 1\], got 1.5"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="cosine"),
     "anneal_strategy must be one of 'cos', 'linear', got 'cosine'"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=9),
     r"expected 2 values of max_lr \(one per parameter group\), got 1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="minimum"), "mode must be one of 'min', 'max', got 'minimum'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="relative"),
     "threshold_mode must be one of 'rel', 'abs', got 'relative'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), r"factor must be in \[0, 1\), got 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), "patience must be an int >= 0, got -1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, cooldown=1.5), "cooldown must be an int >= 0, got 1.5"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), "expected 2 min_lrs, got 1"),
    (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), "expected at least one scheduler, got none"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(o, 3)], milestones=[]),
     r"milestones must be 1 increasing epochs \(one less than the 2 schedulers\), got \[\]"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], milestones=[]),
     r"schedulers\[0\] is a ReduceLROnPlateau, whose step needs a metric"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(make_optimizer(), 2)], milestones=[]),
     r"schedulers\[0\] \(StepLR\) belongs to another optimizer"),
])
def test_new_schedules_refuse_bad_options_with_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer())


def test_sequential_lr_refuses_what_is_not_a_scheduler():
    optimizer = make_optimizer()
    with pytest.raises(TypeError, match=r"schedulers\[0\] is a str, not an LRScheduler"):
        lr_scheduler.SequentialLR(optimizer, ["StepLR"], milestones=[])


def test_warm_restarts_refuses_a_negative_epoch():
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(), T_0=3)
    with pytest.raises(ValueError, match="epoch must be a number >= 0, got -1"):
        scheduler.step(-1)
