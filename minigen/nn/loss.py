"""Losses as modules (``criterion = nn.MSELoss(); loss = criterion(output, target)``).

Each holds a ``reduction`` ("mean", "sum" or "none"), and its other settings (weight,
ignore_index, ...), and calls its function in ``minigen.nn.functional``; see there for the
formulas. Arguments take PyTorch's positional slots; the slots of PyTorch's long-deprecated
``size_average`` and ``reduce`` refuse anything but None (say ``reduction=`` instead).
"""
from minigen.nn import functional as F
from minigen.nn.module import Module
from minigen.ops.options import unsupported


class _Loss(Module):
    """PyTorch's _Loss: the deprecated size_average and reduce must stay None. ``options`` (weight,
    ignore_index, ...) go to the function as keywords."""

    function = None
    reductions = F.REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction="mean", **settings):
        super().__init__()
        name = type(self).__name__
        unsupported(name, size_average=(size_average, None), reduce=(reduce, None))  # deprecated in PyTorch
        if reduction not in self.reductions:
            allowed = ", ".join(map(repr, self.reductions[:-1])) + f" or {self.reductions[-1]!r}"
            raise ValueError(f"{name}: reduction must be {allowed}, got {reduction!r}")
        self.reduction, self.settings = reduction, settings
        for key, value in settings.items():
            setattr(self, key, value)

    def forward(self, input, target):
        return self.function(input, target, reduction=self.reduction, **self.settings)


class MSELoss(_Loss):
    """Mean squared error, (input - target)^2."""

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error, |input - target|."""

    function = staticmethod(F.l1_loss)


class HuberLoss(_Loss):
    """d^2 / 2 for |d| < delta, delta (|d| - delta / 2) beyond, d = input - target."""

    function = staticmethod(F.huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """HuberLoss / beta: d^2 / (2 beta) for |d| < beta, |d| - beta / 2 beyond."""

    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction, beta=beta)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities input from target; reduction "batchmean" for the KL per example."""

    function = staticmethod(F.kl_div)
    reductions = F.REDUCTIONS + ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction, log_target=log_target)


class _WeightedLoss(_Loss):
    """A loss with a ``weight`` tensor (a buffer, so it moves with the module and is saved)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", **settings):
        super().__init__(size_average, reduce, reduction, **settings)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return self.function(input, target, self.weight, reduction=self.reduction, **self.settings)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; weight multiplies each element's loss."""

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits (sigmoid inside, computed stably); pos_weight weighs the positive term."""

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return self.function(input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, given log-probabilities; weight per class, ignore_index."""

    function = staticmethod(F.nll_loss)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction, ignore_index=ignore_index)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of class indices (or probabilities), given logits; weight per class, ignore_index,
    label_smoothing."""

    function = staticmethod(F.cross_entropy)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)
