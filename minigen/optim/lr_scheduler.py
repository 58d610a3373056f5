"""Learning-rate schedules (as ``torch.optim.lr_scheduler``): call ``scheduler.step()`` once an epoch.

A scheduler sets ``group["lr"]`` of its optimizer's groups. At construction it records
each group's starting lr as ``group["initial_lr"]`` (``base_lrs``) and sets the lr of
epoch 0; each ``step()`` moves ``last_epoch`` on by one and sets the next lr. Like
PyTorch, StepLR, ExponentialLR and CosineAnnealingLR compute the new lr from the current
``group["lr"]`` (recursively), so their values match torch's to the last bit; each
docstring gives the closed form they follow when nothing else changes the lr.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)                # optimizer.step() inside
        scheduler.step()
"""
import math
import numbers
import types

from minigen.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: ``get_lr()`` says the lrs of epoch ``last_epoch``; ``step()`` applies them.

    last_epoch: -1 for a fresh run; to resume, the last epoch done (the groups must then
    hold ``"initial_lr"``, as after loading the optimizer's state_dict).
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a minigen Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for k, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{k}] when resuming with "
                                   f"last_epoch={last_epoch}; load the optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True  # the first step() only sets the lr of epoch last_epoch + 1
        self.step()
        self._is_initial = False

    def get_lr(self):
        """The lr of each group at epoch ``self.last_epoch``."""
        raise NotImplementedError

    def step(self):
        """Move to the next epoch and set every group's lr for it."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The lrs the last ``step()`` set, one per group."""
        return self._last_lr

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (whose own state_dict holds the groups' lrs)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


def _positive_int(owner, name, value):
    """``value`` as an int, after raising ValueError unless it is an integer >= 1 (a NumPy one too)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _positive_number(owner, name, value):
    """``value``, after raising ValueError unless it is a finite real number > 0 (10.0 as well as 10)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < value < math.inf:
        raise ValueError(f"{owner}: {name} must be a positive number, got {value!r}")
    return value


class LambdaLR(LRScheduler):
    """``LambdaLR(optimizer, lr_lambda)``: lr = base_lr * lr_lambda(epoch).

    lr_lambda: a function of the epoch, or a list of them, one per parameter group.
    state_dict keeps the attributes of callable objects, not functions (they cannot be saved).
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
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
        self.step_size = _positive_int("StepLR", "step_size", step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]  # every step_size epochs, times gamma


class ExponentialLR(LRScheduler):
    """``ExponentialLR(optimizer, gamma)``: lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]


class CosineAnnealingLR(LRScheduler):
    """``CosineAnnealingLR(optimizer, T_max, eta_min=0)`` (Loshchilov & Hutter 2017, SGDR, eq. 5, no restarts):

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    down to eta_min at epoch T_max, then back up over the next T_max epochs, and so on.
    Raises ValueError unless T_max is a positive number (an int or, as PyTorch allows, a float).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _positive_number("CosineAnnealingLR", "T_max", T_max)
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
