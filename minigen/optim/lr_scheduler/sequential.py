"""SequentialLR: one schedule after another, each taking over at its milestone."""
import bisect

from minigen.optim.lr_scheduler.base import LRScheduler, check_optimizer, positive_int
from minigen.optim.lr_scheduler.plateau import ReduceLROnPlateau


class SequentialLR(LRScheduler):
    """``SequentialLR(optimizer, schedulers, milestones)``: schedulers[i] runs from epoch milestones[i - 1]
    (0 for the first) to milestones[i]; at its milestone each starts from its own epoch 0 (its closed form).

    The usual warm-up, then decay::

        warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(optimizer, T_max=95)
        scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])

    Construction undoes what the schedulers' own construction set. state_dict holds each
    scheduler's state_dict. Raises TypeError for a scheduler that is not an LRScheduler,
    ValueError for no schedulers, one of another optimizer, a ReduceLROnPlateau (its step
    needs a metric), milestones that are not increasing positive ints, or
    len(milestones) != len(schedulers) - 1.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        self.optimizer = check_optimizer("SequentialLR", optimizer)
        self._schedulers = _checked_schedulers(optimizer, schedulers)
        self._milestones = [positive_int("SequentialLR", f"milestones[{k}]", m) for k, m in enumerate(milestones)]
        if self._milestones != sorted(self._milestones) or len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR: milestones must be {len(self._schedulers) - 1} increasing epochs (one "
                             f"less than the {len(self._schedulers)} schedulers), got {self._milestones}")
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_initial_step()
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_step(self):
        for scheduler in self._schedulers:
            scheduler._undo_initial_step()

    def step(self):
        self.last_epoch += 1
        k = bisect.bisect_right(self._milestones, self.last_epoch)  # the milestones passed: whose turn it is
        scheduler = self._schedulers[k]
        if k > 0 and self._milestones[k - 1] == self.last_epoch:
            scheduler._jump_to(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {key: value for key, value in super().state_dict().items() if key != "_schedulers"}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(saved)
        self.__dict__.update(state)


def _checked_schedulers(optimizer, schedulers):
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError("SequentialLR: expected at least one scheduler, got none")
    for k, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"SequentialLR: schedulers[{k}] is a {type(scheduler).__name__}, not an LRScheduler")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"SequentialLR: schedulers[{k}] is a ReduceLROnPlateau, whose step needs a metric")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"SequentialLR: schedulers[{k}] ({type(scheduler).__name__}) belongs to another optimizer")
    return schedulers
