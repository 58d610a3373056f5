"""Stochastic gradient descent, with momentum and Nesterov momentum (as ``torch.optim.SGD``)."""
from minigen.checks import check_bool, check_nonnegative
from minigen.optim.optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    Per step, with gradient g of a parameter p::

        g = g + weight_decay * p                     (L2 penalty)
        b = g  at the first step,  else  b = momentum * b + (1 - dampening) * g
        g = g + momentum * b  (nesterov)   or   g = b   (momentum != 0)
        p = p - lr * g

    ``maximize=True`` climbs the objective instead: g is the gradient of -f.
    State per parameter: ``"momentum_buffer"`` (b), when momentum != 0.
    Raises ValueError for a negative lr, momentum or weight_decay, and for nesterov
    without momentum or with dampening; TypeError for a maximize that is not a bool.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def check(self, options):
        for name in ("lr", "momentum", "weight_decay"):
            check_nonnegative("SGD", name, options[name])
        check_bool("SGD", "maximize", options["maximize"])
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum needs momentum > 0 and dampening 0, got "
                             f"momentum={options['momentum']!r}, dampening={options['dampening']!r}")

    def update(self, p, g, state, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p  # gradient of the L2 penalty (weight_decay / 2) ||p||^2
        if momentum != 0:
            b = state.get("momentum_buffer")
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g  # Sutskever et al. 2013, eq. 1
            state["momentum_buffer"] = b
            g = g + momentum * b if group["nesterov"] else b  # Nesterov: Sutskever et al. 2013, eq. 3-4
        p -= lr * g
