"""Adam (Kingma & Ba 2015) and AdamW, its decoupled weight decay (Loshchilov & Hutter 2019)."""
from minigen import backend
from minigen.checks import check_bool, check_fraction, check_nonnegative
from minigen.optim.optimizer import Optimizer


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False)``.

    Per step t = 1, 2, ..., with gradient g of a parameter p (Kingma & Ba 2015, Alg. 1)::

        g = g + weight_decay * p                         (L2 penalty; AdamW decays p instead)
        m = beta1 * m + (1 - beta1) * g                  (first moment)
        v = beta2 * v + (1 - beta2) * g**2               (second moment)
        m_hat = m / (1 - beta1**t),  v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    ``amsgrad=True`` uses the running maximum of v in v_hat (Reddi et al. 2018).
    ``decoupled_weight_decay=True`` is AdamW; ``maximize=True`` climbs: g is the gradient of -f.
    State per parameter: ``"step"`` (t, an int), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and,
    with amsgrad, ``"max_exp_avg_sq"``. Raises TypeError for an option that is not a number
    (maximize: not a bool), ValueError for a negative lr, eps
    or weight_decay and betas that are not a pair in [0, 1).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def check(self, options):
        owner = type(self).__name__
        for name in ("lr", "eps", "weight_decay"):
            check_nonnegative(owner, name, options[name])
        check_bool(owner, "maximize", options["maximize"])
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
        for k, beta in enumerate(betas):
            check_fraction(owner, f"betas[{k}]", beta)

    def update(self, p, g, state, group):
        xp = backend.array_module(p)
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(p), exp_avg_sq=xp.zeros_like(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p)
        state["step"] = t = state["step"] + 1
        if group["decoupled_weight_decay"]:
            p *= 1 - lr * weight_decay  # Loshchilov & Hutter 2019, Alg. 2, line 12
        elif weight_decay != 0:
            g = g + weight_decay * p  # gradient of the L2 penalty (weight_decay / 2) ||p||^2
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g  # Kingma & Ba 2015, Alg. 1
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], v)  # Reddi et al. 2018, Alg. 2
        m_hat = m / (1 - beta1 ** t)  # bias corrections: m and v start at zero
        v_hat = v / (1 - beta2 ** t)
        p -= lr * m_hat / (xp.sqrt(v_hat) + eps)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
    maximize=False)``.

    Adam whose weight decay shrinks the parameter directly, ``p = p - lr * weight_decay * p``,
    instead of adding ``weight_decay * p`` to the gradient (Loshchilov & Hutter 2019, Alg. 2):
    the decay is then not rescaled by 1 / sqrt(v_hat).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)
