"""RMSprop: divide the gradient by a running root mean square of its recent values (as ``torch.optim.RMSprop``)."""
from minigen import backend
from minigen.ops.options import unsupported
from minigen.checks import check_bool, check_nonnegative
from minigen.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.

    Per step, with gradient g of a parameter p (Hinton, Neural Networks lecture 6e)::

        g = g + weight_decay * p                  (L2 penalty)
        v = alpha * v + (1 - alpha) * g**2        (running mean of g**2)
        denom = sqrt(v) + eps,  or, centered,  sqrt(v - m**2) + eps  with  m = alpha * m + (1 - alpha) * g
        p = p - lr * g / denom,  or, with momentum,  b = momentum * b + g / denom;  p = p - lr * b

    ``maximize=True`` climbs the objective instead: g is the gradient of -f (PyTorch also
    takes it positionally, after capturable and foreach; here it is keyword-only).
    State per parameter: ``"step"``, ``"square_avg"`` (v), ``"grad_avg"`` (m, centered) and
    ``"momentum_buffer"`` (b, momentum > 0). Raises ValueError for a negative lr, alpha,
    eps, weight_decay or momentum, TypeError for a maximize that is not a bool.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        unsupported("RMSprop", capturable=(capturable, False), differentiable=(differentiable, False))
        # foreach picks PyTorch's loop: nothing to change here
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        maximize=maximize)
        super().__init__(params, defaults)

    def check(self, options):
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_nonnegative("RMSprop", name, options[name])
        check_bool("RMSprop", "maximize", options["maximize"])

    def update(self, p, g, state, group):
        xp = backend.array_module(p)
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(p))
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p  # gradient of the L2 penalty (weight_decay / 2) ||p||^2
        v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g  # Hinton, lecture 6e
        if group["centered"]:  # divide by an estimate of the standard deviation instead (Graves 2013)
            m = state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
            denom = xp.sqrt(v - m * m) + eps
        else:
            denom = xp.sqrt(v) + eps
        if momentum > 0:
            b = state["momentum_buffer"] = momentum * state["momentum_buffer"] + g / denom
            p -= lr * b
        else:
            p -= lr * g / denom
