"""Schedules that go up as well as down: CosineAnnealingWarmRestarts (SGDR) and OneCycleLR."""
import math

from minigen.optim.lr_scheduler.base import (LRScheduler, check_optimizer, one_of, per_group, positive_int,
                                             positive_number, real_number)
from minigen.checks import check_bool


class CosineAnnealingWarmRestarts(LRScheduler):
    """``CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0)`` (Loshchilov & Hutter 2017, SGDR, eq. 5):

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    T_cur counts the epochs since the last restart, where the lr jumps back to base_lr; the
    restarts come T_i epochs apart, T_i = T_0 at first and T_mult times longer after each.
    ``step(epoch)`` also takes a fractional epoch, ``step(epoch + i / batches)`` after batch i,
    as PyTorch's does. Raises ValueError unless T_0 is a positive int and T_mult an int >= 1,
    for an eta_min that is not a finite number, and for a negative epoch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        owner = "CosineAnnealingWarmRestarts"
        self.T_0 = self.T_i = positive_int(owner, "T_0", T_0)
        self.T_mult = positive_int(owner, "T_mult", T_mult)
        self.eta_min = real_number(owner, "eta_min", eta_min, math.isfinite, "a finite number")
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Move to the next epoch, or to ``epoch`` (a number >= 0, fractions within an epoch too)."""
        if epoch is None and self.last_epoch >= 0:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            epoch = 0 if epoch is None else epoch
            self.T_cur, self.T_i = self._position_in_cycle(epoch)
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _position_in_cycle(self, epoch):
        """(T_cur, T_i) at ``epoch``: restarts come at T_0 (1 + T_mult + ... + T_mult**(n - 1)), n = 1, 2, ..."""
        real_number("CosineAnnealingWarmRestarts", "epoch", epoch, lambda v: v >= 0, "a number >= 0")
        if epoch < self.T_0:
            return epoch, self.T_0
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        # the largest n with T_0 (T_mult**n - 1) / (T_mult - 1) <= epoch: the restarts so far
        n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
        return epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1), self.T_0 * self.T_mult ** n


class OneCycleLR(LRScheduler):
    """``OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
    anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
    final_div_factor=1e4, three_phase=False)`` (Smith & Topin 2019, super-convergence): ``step()`` once a batch.

    The lr climbs from initial_lr = max_lr / div_factor to max_lr over the first pct_start of the
    total_steps (epochs * steps_per_epoch when total_steps is None), then anneals down to
    min_lr = initial_lr / final_div_factor. With three_phase it climbs, comes back down to
    initial_lr as fast, then anneals to min_lr. In a phase from a to b, at the fraction pct of it::

        cos:     lr = b + (a - b) * (1 + cos(pi * pct)) / 2
        linear:  lr = a + (b - a) * pct

    cycle_momentum moves the momentum (SGD's and RMSprop's momentum, Adam's betas[0]) the other
    way, between max_momentum and base_momentum. max_lr, base_momentum and max_momentum: a number
    or one per group. Like PyTorch, each group keeps initial_lr, max_lr, min_lr, max_momentum and
    base_momentum. Raises ValueError for total_steps, epochs or steps_per_epoch that are not
    positive ints (or none of them), pct_start outside [0, 1], an unknown anneal_strategy, an
    optimizer without momentum under cycle_momentum, and a step past total_steps.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        owner = "OneCycleLR"
        check_optimizer(owner, optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        real_number(owner, "pct_start", pct_start, lambda v: 0 <= v <= 1, "in [0, 1]")
        self.anneal_strategy = one_of(owner, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        check_bool(owner, "three_phase", three_phase)
        check_bool(owner, "cycle_momentum", cycle_momentum)
        self.cycle_momentum = cycle_momentum
        max_lrs = [positive_number(owner, "max_lr", top) for top in per_group(owner, "max_lr", max_lr, optimizer)]
        div_factor = positive_number(owner, "div_factor", div_factor)
        final_div_factor = positive_number(owner, "final_div_factor", final_div_factor)
        up = float(pct_start * self.total_steps) - 1  # the step where the lr reaches max_lr
        # (end step, lr from, lr to, momentum from, momentum to), each a key of the group
        self._phases = ([(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                         (2 * up, "max_lr", "initial_lr", "base_momentum", "max_momentum"),  # as fast back down
                         (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
                        if three_phase else
                        [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                         (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")])
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group.update(initial_lr=top / div_factor, max_lr=top)
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            self._use_beta1 = _momentum_key(optimizer) == "betas"
            if last_epoch == -1:
                momenta = zip(optimizer.param_groups, per_group(owner, "max_momentum", max_momentum, optimizer),
                              per_group(owner, "base_momentum", base_momentum, optimizer))
                for group, top, bottom in momenta:
                    group.update(max_momentum=top, base_momentum=bottom)
                    self._set_momentum(group, top)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {t} times; total_steps is {self.total_steps}")
        start = 0.0
        for phase in self._phases[:-1]:
            if t <= phase[0]:
                break
            start = phase[0]
        else:
            phase = self._phases[-1]
        end, lr_from, lr_to, momentum_from, momentum_to = phase
        pct = (t - start) / (end - start)  # how far into its phase
        if self.cycle_momentum:
            for group in self.optimizer.param_groups:
                self._set_momentum(group, self._anneal(group[momentum_from], group[momentum_to], pct))
        return [self._anneal(group[lr_from], group[lr_to], pct) for group in self.optimizer.param_groups]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)  # half a cosine from start to end
        return (end - start) * pct + start  # a straight line from start to end

    def _set_momentum(self, group, momentum):
        if self._use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum


def _total_steps(total_steps, epochs, steps_per_epoch):
    """total_steps if given, else epochs * steps_per_epoch; ValueError unless they are positive ints."""
    if total_steps is not None:
        return positive_int("OneCycleLR", "total_steps", total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: give either total_steps or both epochs and steps_per_epoch")
    return positive_int("OneCycleLR", "epochs", epochs) * positive_int("OneCycleLR", "steps_per_epoch", steps_per_epoch)


def _momentum_key(optimizer):
    """"betas" (Adam) or "momentum" (SGD, RMSprop): what cycle_momentum moves; ValueError for neither."""
    for key in ("betas", "momentum"):
        if key in optimizer.defaults:
            return key
    raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with momentum or betas, "
                     f"got {type(optimizer).__name__}; pass cycle_momentum=False")
