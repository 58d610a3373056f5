"""ReduceLROnPlateau: lower the lr when a metric (a validation loss) stops improving."""
import math

from minigen.optim.lr_scheduler.base import LRScheduler, check_optimizer, one_of, positive_int, real_number


class ReduceLROnPlateau(LRScheduler):
    """``ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
    cooldown=0, min_lr=0, eps=1e-8)``: call ``step(metric)`` once an epoch.

    An epoch is good when its metric beats the best so far by the threshold::

        mode "min":  metric < best * (1 - threshold)  ("rel")   or   metric < best - threshold  ("abs")
        mode "max":  metric > best * (1 + threshold)  ("rel")   or   metric > best + threshold  ("abs")

    After more than ``patience`` bad epochs in a row, every group's lr = max(lr * factor, min_lr)
    (skipped when that changes it by eps or less); then ``cooldown`` epochs pass in which bad
    epochs are not counted. min_lr: a number or one per group. Raises ValueError for an unknown
    mode or threshold_mode, factor outside [0, 1), a patience or cooldown that is not an int
    >= 0, a negative threshold or eps, and min_lr of the wrong length.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        owner = "ReduceLROnPlateau"
        self.optimizer = check_optimizer(owner, optimizer)
        self.mode = one_of(owner, "mode", mode, ("min", "max"))
        self.threshold_mode = one_of(owner, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.factor = real_number(owner, "factor", factor, lambda v: 0 <= v < 1, "in [0, 1)")
        self.patience = positive_int(owner, "patience", patience, lowest=0)
        self.cooldown = positive_int(owner, "cooldown", cooldown, lowest=0)
        self.threshold = real_number(owner, "threshold", threshold, lambda v: 0 <= v < math.inf, "a number >= 0")
        self.eps = real_number(owner, "eps", eps, lambda v: 0 <= v < math.inf, "a number >= 0")
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"{owner}: expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * len(optimizer.param_groups)
        self.best = math.inf if mode == "min" else -math.inf  # the worst value there is, for the mode
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = self._group_lrs()

    def step(self, metrics):
        """Count epoch ``last_epoch + 1`` good or bad by ``metrics`` (a number or a one-element Tensor)."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # bad epochs in cooldown do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._group_lrs()

    def _is_better(self, metric):
        if self.mode == "min":
            return metric < (self.best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                             else self.best - self.threshold)
        return metric > (self.best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                         else self.best + self.threshold)

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):  # a group was added since construction
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, min_lr "
                                   f"gave {len(self.min_lrs)}; set .min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            new_lr = max(group["lr"] * self.factor, min_lr)  # lr = max(lr * factor, min_lr)
            if group["lr"] - new_lr > self.eps:
                group["lr"] = new_lr
