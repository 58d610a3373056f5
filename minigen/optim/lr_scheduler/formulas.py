"""Schedules whose lr is a formula of the epoch: LambdaLR, StepLR, MultiStepLR, ExponentialLR,
LinearLR, CosineAnnealingLR.

Like PyTorch, all but LambdaLR compute the new lr from the current ``group["lr"]``
(recursively), so their values match torch's to the last bit; each docstring gives the
closed form they follow when nothing else changes the lr, and ``_closed_form_lr`` computes
it from ``base_lrs`` (SequentialLR starts a schedule there at its milestone).
"""
import collections
import math
import types

from minigen.optim.lr_scheduler.base import (LRScheduler, check_optimizer, per_group, positive_int, positive_number,
                                             real_number)


class LambdaLR(LRScheduler):
    """``LambdaLR(optimizer, lr_lambda)``: lr = base_lr * lr_lambda(epoch).

    lr_lambda: a function of the epoch, or a list of them, one per parameter group.
    state_dict keeps the attributes of callable objects, not functions (they cannot be saved).
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = per_group("LambdaLR", "lr_lambda", lr_lambda, check_optimizer("LambdaLR", optimizer))
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * lr_lambda(self.last_epoch) for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = {key: value for key, value in super().state_dict().items() if key != "lr_lambdas"}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(vars(fn))
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, attributes in zip(self.lr_lambdas, saved_lambdas):
            if attributes is not None:
                vars(fn).update(attributes)


class StepLR(LRScheduler):
    """``StepLR(optimizer, step_size, gamma=0.1)``: lr = base_lr * gamma ** (epoch // step_size).

    Raises ValueError unless step_size is a positive int (Python's or NumPy's).
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = positive_int("StepLR", "step_size", step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]  # every step_size epochs, times gamma

    def _closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``MultiStepLR(optimizer, milestones, gamma=0.1)``: lr = base_lr * gamma ** (number of milestones <= epoch).

    milestones: positive ints (epochs), in any order; a milestone given twice multiplies by
    gamma twice there. Raises ValueError for a milestone that is not a positive int.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = collections.Counter(positive_int("MultiStepLR", f"milestones[{k}]", milestone)
                                              for k, milestone in enumerate(milestones))
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._group_lrs()]  # at a milestone

    def _closed_form_lr(self):
        passed = sum(count for milestone, count in self.milestones.items() if milestone <= self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``ExponentialLR(optimizer, gamma)``: lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """``LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)``: a linear warm-up (or cool-down),

        lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)

    Raises ValueError unless 0 < start_factor <= 1, 0 <= end_factor <= 1 and total_iters is a positive int.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor = real_number("LinearLR", "start_factor", start_factor, lambda v: 0 < v <= 1, "in (0, 1]")
        self.end_factor = real_number("LinearLR", "end_factor", end_factor, lambda v: 0 <= v <= 1, "in [0, 1]")
        self.total_iters = positive_int("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, a, b = self.last_epoch, self.total_iters, self.start_factor, self.end_factor
        if t == 0:
            return [lr * a for lr in self._group_lrs()]
        if self._is_initial or t > T:
            return self._group_lrs()
        # factor_t / factor_{t-1} = 1 + (b - a) / (T a + (t - 1) (b - a)), from the closed form
        return [lr * (1.0 + (b - a) / (T * a + (t - 1) * (b - a))) for lr in self._group_lrs()]

    def _closed_form_lr(self):
        t, T, a, b = self.last_epoch, self.total_iters, self.start_factor, self.end_factor
        return [base_lr * (a + (b - a) * min(T, t) / T) for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """``CosineAnnealingLR(optimizer, T_max, eta_min=0)`` (Loshchilov & Hutter 2017, SGDR, eq. 5, no restarts):

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    down to eta_min at epoch T_max, then back up over the next T_max epochs, and so on.
    Raises ValueError unless T_max is a positive number (an int or, as PyTorch allows, a float).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = positive_number("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._group_lrs()
        if (t - 1 - T) % (2 * T) == 0:  # just past a minimum, where the ratio below would be 0 / 0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base_lr in zip(self._group_lrs(), self.base_lrs)]
        # lr_t - eta_min = (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)), from the closed form
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [eta_min + ratio * (lr - eta_min) for lr in self._group_lrs()]

    def _closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]
