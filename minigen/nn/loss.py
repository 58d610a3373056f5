"""Losses as modules (``criterion = nn.MSELoss(); loss = criterion(output, target)``).

Each holds a ``reduction`` ("mean", "sum" or "none") and calls its function in
``minigen.nn.functional``; see there for the formulas.
"""
from minigen.nn import functional as F
from minigen.nn.module import Module
from minigen.ops.options import unsupported


class _Loss(Module):
    """PyTorch's _Loss: the deprecated size_average and reduce must stay None. ``options`` (weight,
    ignore_index, ...) go to the function as keywords."""

    function = None

    def __init__(self, size_average=None, reduce=None, reduction="mean", **options):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__, size_average, reduce)
        self.reduction, self.options = reduction, options

    def forward(self, input, target):
        return self.function(input, target, reduction=self.reduction, **self.options)


class MSELoss(_Loss):
    """Mean squared error, (input - target)^2."""

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error, |input - target|."""

    function = staticmethod(F.l1_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities, each term times ``weight`` when given."""

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction, weight=weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid inside, computed stably); pos_weight is not implemented."""

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction, weight=weight, pos_weight=pos_weight)
        unsupported("BCEWithLogitsLoss", pos_weight=(pos_weight, None))


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices, given log-probabilities (weight, ignore_index as nll_loss)."""

    function = staticmethod(F.nll_loss)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction, weight=weight, ignore_index=ignore_index)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of class indices (or probabilities), given logits (weight, ignore_index as cross_entropy)."""

    function = staticmethod(F.cross_entropy)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction, weight=weight, ignore_index=ignore_index)
        unsupported("CrossEntropyLoss", label_smoothing=(label_smoothing, 0.0))
