"""Learning-rate schedules (as ``torch.optim.lr_scheduler``): call ``scheduler.step()`` once an epoch.

A scheduler sets ``group["lr"]`` of its optimizer's groups. At construction it records
each group's starting lr as ``group["initial_lr"]`` (``base_lrs``) and sets the lr of
epoch 0; each ``step()`` moves ``last_epoch`` on by one and sets the next lr.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)                # optimizer.step() inside
        scheduler.step()

- ``base.py``: the base class ``LRScheduler`` and the checks of the options;
- ``formulas.py``: the lr as a formula of the epoch: LambdaLR, StepLR, MultiStepLR,
  ExponentialLR, LinearLR, CosineAnnealingLR;
- ``cycles.py``: schedules that go up as well as down: CosineAnnealingWarmRestarts, OneCycleLR;
- ``plateau.py``: ReduceLROnPlateau, driven by a metric instead of the epoch;
- ``sequential.py``: SequentialLR, one schedule after another.
"""
from minigen.optim.lr_scheduler.base import LRScheduler
from minigen.optim.lr_scheduler.cycles import CosineAnnealingWarmRestarts, OneCycleLR
from minigen.optim.lr_scheduler.formulas import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR,
                                                 StepLR)
from minigen.optim.lr_scheduler.plateau import ReduceLROnPlateau
from minigen.optim.lr_scheduler.sequential import SequentialLR

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR"]
