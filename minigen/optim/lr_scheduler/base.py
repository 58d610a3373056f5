"""The base class of every learning-rate schedule, and the checks of the schedules' options."""
import math
import numbers

from minigen.checks import check_int, fail
from minigen.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: ``get_lr()`` says the lrs of epoch ``last_epoch``; ``step()`` applies them.

    last_epoch: -1 for a fresh run; to resume, the last epoch done (the groups must then
    hold ``"initial_lr"``, as after loading the optimizer's state_dict).
    Raises TypeError for an optimizer that is not a minigen Optimizer.
    """

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = check_optimizer(type(self).__name__, optimizer)
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
        self._initial_step()

    def _initial_step(self):
        """What construction does: set the lrs of epoch ``last_epoch + 1`` without moving them on."""
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        """The lr of each group at epoch ``self.last_epoch``."""
        raise NotImplementedError

    def _closed_form_lr(self):
        """The lrs of epoch ``last_epoch`` from ``base_lrs`` alone; schedules whose get_lr reads the
        current lrs (as PyTorch's do, to match them to the last bit) override it."""
        return self.get_lr()

    def step(self):
        """Move to the next epoch and set every group's lr for it."""
        self._step_count += 1
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _jump_to(self, epoch):
        """Set the lrs of ``epoch`` by the closed form (how SequentialLR starts a schedule at its milestone)."""
        self.last_epoch = epoch
        self._set_lrs(self._closed_form_lr())

    def _undo_initial_step(self):
        """Take back the epoch that construction counted (SequentialLR restarts its schedules)."""
        self.last_epoch -= 1

    def _set_lrs(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._group_lrs()

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


# ------------------------------------------------------------------ checks of the options
def check_optimizer(owner, optimizer):
    """``optimizer``, after raising TypeError unless it is a minigen Optimizer."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected a minigen Optimizer, got {type(optimizer).__name__}")
    return optimizer


def positive_int(owner, name, value, lowest=1):
    """``value`` as an int, after raising ValueError unless it is an integer >= lowest (a NumPy one too)."""
    return check_int(owner, name, value, lowest, expected=None if lowest == 1 else f"an int >= {lowest}")


def real_number(owner, name, value, condition, expected):
    """``value``, after raising ValueError unless it is a real number (not a bool) that meets ``condition``."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not condition(value):
        fail(owner, name, expected, value)
    return value


def positive_number(owner, name, value):
    """``value``, after raising ValueError unless it is a finite real number > 0 (10.0 as well as 10)."""
    return real_number(owner, name, value, lambda v: 0 < v < math.inf, "a positive number")


def one_of(owner, name, value, choices):
    """``value``, after raising ValueError unless it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def per_group(owner, name, value, optimizer):
    """One ``value`` per parameter group: a list or tuple of that length as a list, else [value] * groups."""
    groups = len(optimizer.param_groups)
    if not isinstance(value, (list, tuple)):
        return [value] * groups
    if len(value) != groups:
        raise ValueError(f"{owner}: expected {groups} values of {name} (one per parameter group), got {len(value)}")
    return list(value)
