"""Adagrad (Duchi, Hazan & Singer 2011): each coordinate's step shrinks with the sum of its squared gradients."""
from minigen import backend
from minigen.checks import check_bool, check_nonnegative
from minigen.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``.

    Per step t = 1, 2, ..., with gradient g of a parameter p (Duchi et al. 2011, the diagonal
    update; written as the algorithm box of ``torch.optim.Adagrad``)::

        g = g + weight_decay * p                  (L2 penalty)
        lr_t = lr / (1 + (t - 1) * lr_decay)      (a slowly decaying step size)
        s = s + g**2                              (sum of squared gradients, from initial_accumulator_value)
        p = p - lr_t * g / (sqrt(s) + eps)

    A coordinate that has had large gradients takes small steps; a rarely seen one keeps large
    steps. ``maximize=True`` climbs the objective instead: g is the gradient of -f. State per
    parameter: ``"step"`` (t, an int) and ``"sum"`` (s). Raises TypeError for an option that
    is not a number (maximize: not a bool), ValueError for a negative lr, lr_decay,
    weight_decay, initial_accumulator_value or eps.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False):  # foreach picks PyTorch's loop: nothing to change here
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def check(self, options):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative("Adagrad", name, options[name])
        check_bool("Adagrad", "maximize", options["maximize"])

    def update(self, p, g, state, group):
        xp = backend.array_module(p)
        if not state:
            state.update(step=0, sum=xp.full_like(p, group["initial_accumulator_value"]))
        state["step"] = t = state["step"] + 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p  # gradient of the L2 penalty (weight_decay / 2) ||p||^2
        lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state["sum"] = state["sum"] + g * g  # Duchi et al. 2011: G_t = sum over steps of g**2, per coordinate
        p -= lr_t * g / (xp.sqrt(s) + group["eps"])
