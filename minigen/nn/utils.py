"""Helpers for training loops: clip_grad_norm_."""
import numpy as np

from minigen import backend
from minigen.autograd import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale the gradients of ``parameters`` in place so that their total norm is at most max_norm.

    The total norm is the norm_type-norm of all gradients together (as if concatenated into
    one vector; ``float("inf")`` for the largest absolute value). When it exceeds max_norm,
    every gradient is multiplied by max_norm / (total + 1e-6), as PyTorch does. Parameters
    without a gradient are skipped. Returns the total norm before clipping, a 0-d Tensor.
    """
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    xp = backend.array_module(grads[0].data)
    norms = xp.stack([xp.linalg.norm(g.data.reshape(-1), ord=norm_type) for g in grads])
    total = xp.linalg.norm(norms, ord=norm_type)  # the norm of the per-tensor norms is the norm of them all
    scale = max_norm / (float(total) + 1e-6)
    if scale < 1:
        for g in grads:
            g.data = g.data * scale
    return Tensor(total)
