"""Losses as modules (``criterion = nn.MSELoss(); loss = criterion(output, target)``).

Each holds a ``reduction`` ("mean", "sum" or "none") and calls its function in
``minigen.nn.functional``; see there for the formulas.
"""
from minigen.nn import functional as F
from minigen.nn.module import Module


class _Loss(Module):
    function = None

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def forward(self, input, target):
        return self.function(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error, (input - target)^2."""

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error, |input - target|."""

    function = staticmethod(F.l1_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities."""

    function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid inside, computed stably)."""

    function = staticmethod(F.binary_cross_entropy_with_logits)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices, given log-probabilities."""

    function = staticmethod(F.nll_loss)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of class indices (or probabilities), given logits."""

    function = staticmethod(F.cross_entropy)
