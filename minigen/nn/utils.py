"""Helpers for training loops: clip_grad_norm_, clip_grad_value_, zero_grads."""
import math

import numpy as np

from minigen import backend
from minigen.autograd import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total norm is at most max_norm.
    (``foreach`` picks one of PyTorch's implementations; minigen has one, so it changes nothing.)

    The total norm is the norm_type-norm of all gradients together (as if concatenated into
    one vector; ``float("inf")`` for the largest absolute value). Every gradient is multiplied
    by min(max_norm / (total + 1e-6), 1), as PyTorch does: a NaN total makes them all NaN,
    an infinite one makes them 0 (NaN where they were infinite). Parameters without a
    gradient are skipped. Returns the total norm before clipping, a 0-d Tensor.

    Raises RuntimeError naming the total when it is NaN or infinite and ``error_if_nonfinite``.
    """
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    xp = backend.array_module(grads[0].data)
    with backend.device_scope(grads[0].device):
        norms = xp.stack([xp.linalg.norm(g.data.reshape(-1), ord=norm_type) for g in grads])
        total = xp.linalg.norm(norms, ord=norm_type)  # the norm of the per-tensor norms is the norm of them all
        if error_if_nonfinite and not bool(xp.isfinite(total)):  # the one read back to the host, if asked
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                               f"{float(total)}, so it cannot be clipped; pass error_if_nonfinite=False to scale "
                               "them by it anyway")
        scale = xp.minimum(max_norm / (total + 1e-6), 1.0)  # PyTorch's clamp(scale, max=1): NaN stays NaN
        for g in grads:
            g.data = g.data * scale.astype(g.dtype)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry of ``parameters`` to [-clip_value, clip_value], in place (as
    PyTorch). Parameters without a gradient are skipped. Raises ValueError for a negative or
    non-finite clip_value. ``foreach`` changes nothing (minigen has one implementation)."""
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float, np.number)) or \
            not 0 <= clip_value < math.inf:
        raise ValueError(f"clip_grad_value_: clip_value must be a finite number >= 0, got {clip_value!r}")
    clip_value = float(clip_value)  # a Python float keeps each gradient's dtype (NEP 50)
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in parameters:
        if p.grad is not None:
            with backend.device_scope(p.device):
                p.grad.data = backend.array_module(p.grad.data).clip(p.grad.data, -clip_value, clip_value)


def zero_grads(parameters, set_to_none=True):
    """Forget the gradients of ``parameters``: ``.grad = None`` (PyTorch's default) or zeros, in a
    fresh array (the old one may be shared: a create_graph gradient). Module.zero_grad and
    Optimizer.zero_grad call this."""
    for p in parameters:
        if p.grad is not None and set_to_none:
            p.grad = None
        elif p.grad is not None:
            with backend.device_scope(p.device):
                p.grad = Tensor(backend.array_module(p.grad.data).zeros_like(p.grad.data))
