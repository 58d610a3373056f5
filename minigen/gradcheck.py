"""Check analytic gradients against central finite differences, and say what looks wrong.

    gradcheck(fn, inputs)      first derivatives:  backward() vs (f(x+eps) - f(x-eps)) / 2eps
    gradgradcheck(fn, inputs)  second derivatives: the same check applied to the gradient itself

Outputs are projected on a fixed random direction v (L = sum(v * fn(inputs))), so one
backward pass seeded with v gives the whole gradient of L, and every element of every
input that requires grad is perturbed in turn. L itself is computed on raw arrays, so the
check runs no op but those of fn. Inputs must be float64: in float32 the differences
drown in rounding error.
"""
import numpy as np

from minigen import backend
from minigen.autograd import Tensor, grad


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree (the message names where and suggests why)."""


def _as_outputs(result):
    return (result,) if isinstance(result, Tensor) else tuple(result)


def _projection(outputs, seed):
    """Fixed random weights v, one array per output, on the outputs' devices."""
    rng = np.random.default_rng(seed)
    return [Tensor(backend.to_device(rng.uniform(0.5, 1.5, y.shape) * rng.choice([-1, 1], y.shape), y.device))
            for y in outputs]


def _projected(outputs, v):
    """L = sum_k sum(v_k * y_k) on raw arrays: the instrument runs none of minigen's ops, whose
    backward (a student's ``Mul.backward``, say) may be the very code under check."""
    return sum((y.data.astype(np.float64) * w.data).sum() for y, w in zip(outputs, v))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare the gradients of ``fn`` at ``inputs`` with central differences.

    fn: takes the inputs (Tensors) and returns a Tensor or a tuple of Tensors.
    inputs: a Tensor or a sequence; those with ``requires_grad=True`` are checked and
    must be float64. Returns True, or raises GradcheckError naming the input, the worst
    element's index, both values and a hint.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; call .requires_grad_() on those to check")
    for k in checked:
        if inputs[k].dtype != np.float64:
            raise TypeError(f"gradcheck: input {k} has dtype {inputs[k].dtype}; finite differences need "
                            "float64 inputs (use .double())")
    outputs = _as_outputs(fn(*inputs))
    v = _projection(outputs, seed)
    analytic = _analytic_gradients(outputs, v, [inputs[k] for k in checked])
    numeric = {k: _numeric_gradient(fn, inputs, v, inputs[k], eps) for k in checked}
    for k, g in zip(checked, analytic):
        _compare(k, inputs[k].shape, g, numeric, atol, rtol)
    return True


def _analytic_gradients(outputs, v, inputs):
    """dL/dx for each input (host float64 arrays): one backward pass seeded with v, dL/dy = v."""
    try:
        gradients = _seeded_grad(outputs, v, inputs)
    except RuntimeError as error:  # a backward returned a gradient of the wrong shape, say
        raise GradcheckError(f"gradcheck: backward failed: {error}") from error
    return [np.zeros(x.shape) if g is None else backend.to_host(g.data).astype(np.float64)
            for x, g in zip(inputs, gradients)]


def _seeded_grad(outputs, seeds, inputs, create_graph=False):
    """grad of the outputs with grad_outputs=seeds, over the outputs that were recorded (an argsort's
    indices were not); None for an input they do not depend on."""
    recorded = [(y, seed) for y, seed in zip(outputs, seeds) if y.requires_grad]
    if not recorded:
        return [None] * len(inputs)
    return grad([y for y, _ in recorded], inputs, grad_outputs=[seed for _, seed in recorded],
                create_graph=create_graph, allow_unused=True)


def _numeric_gradient(fn, inputs, v, x, eps):
    """dL/dx by central differences, perturbing one element of x.data at a time (then restoring it).

    fn runs with recording on, as in the analytic pass: it may call grad() itself (a gradient penalty).
    The values L(x +- eps e_i) stay on x's device until all are computed, then come back in one
    transfer: on a GPU, reading each one back would wait for the device twice per element.
    """
    original, ups, downs = backend.to_host(x.data).copy(), [], []
    with backend.device_scope(x.device):  # the writes into x.data run where x lives
        for index in np.ndindex(*x.shape):
            x.data[index] = original[index] + eps
            ups.append(_projected(_as_outputs(fn(*inputs)), v))
            x.data[index] = original[index] - eps
            downs.append(_projected(_as_outputs(fn(*inputs)), v))
            x.data[index] = original[index]
        if not ups:
            return np.zeros(x.shape)
        xp = backend.array_module(ups[0])
        up, down = (backend.to_host(xp.stack(values)).reshape(x.shape) for values in (ups, downs))
    return (up - down) / (2 * eps)


def _compare(k, shape, analytic, numerics, atol, rtol):
    """Raise GradcheckError unless input k's analytic gradient matches numerics[k] (numerics: input -> array)."""
    numeric = numerics[k]
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size == 0 or np.nanmax(np.where(np.isnan(excess), np.inf, excess)) <= 0:
        return
    worst = np.unravel_index(np.argmax(np.where(np.isnan(excess), np.inf, excess)), shape)
    message = [
        f"gradcheck: input {k} (shape {tuple(shape)}): analytic and numeric gradients differ",
        f"  worst element {tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, "
        f"numeric {numeric[worst]:.6g} (allowed |diff| <= {atol:g} + {rtol:g} * |numeric|)",
        f"  hint: {diagnose(analytic, numeric, {j: n for j, n in numerics.items() if j != k})}",
    ]
    if analytic.size <= 36:
        message += [f"  analytic:\n{np.array2string(analytic, precision=4)}",
                    f"  numeric:\n{np.array2string(numeric, precision=4)}"]
    raise GradcheckError("\n".join(message))


def diagnose(analytic, numeric, others=None, tol=1e-3):
    """A guess at the mistake that turns the true gradient ``numeric`` into ``analytic``.

    others: {j: the true gradient of input j} of the other inputs, to spot gradients returned swapped.
    """
    def close(a, b):
        return np.allclose(a, b, rtol=tol, atol=tol)

    if not np.isfinite(analytic).all():
        return "the analytic gradient has inf or nan: a division by zero or the log of 0 in backward?"
    if not np.any(analytic) and np.any(numeric):
        return "the analytic gradient is zero: is backward returning None, or is the input detached?"
    if close(analytic, -numeric):
        return "the sign is flipped"
    scale = np.vdot(analytic, numeric) / max(np.vdot(numeric, numeric), 1e-300)
    if close(analytic, scale * numeric) and not np.isclose(scale, 1.0):
        return f"off by a constant factor: analytic = {scale:.4g} x numeric (a missing 1/2, 2 or 1/n?)"
    if analytic.ndim >= 2 and analytic.shape[-1] == analytic.shape[-2] and close(analytic, np.swapaxes(numeric, -1, -2)):
        return "the gradient is transposed (returned as its own transpose?)"
    for axis in range(analytic.ndim):
        if analytic.shape[axis] > 1 and close(analytic, np.broadcast_to(numeric.sum(axis, keepdims=True), numeric.shape)):
            return f"the gradient was summed over axis {axis} where each element needs its own"
    for j, other in (others or {}).items():
        if other.shape == analytic.shape and np.any(other) and close(analytic, other):
            return (f"this is the gradient of input {j}: are two gradients swapped (returned in the wrong order, "
                    "or x where y belongs)?")
    return "no simple pattern; compare the two arrays element by element"


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of (inputs, u) -> d<u, fn(inputs)>/d(inputs).

    The backward of ``fn`` is recorded (create_graph=True) and differentiated again, with
    respect to the inputs and to the incoming gradient u. Raises GradcheckError on a mismatch.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input requires grad; call .requires_grad_() on those to check")
    outputs = _as_outputs(fn(*inputs))
    rng = np.random.default_rng(seed + 1)
    u = [Tensor(backend.to_device(rng.standard_normal(y.shape), y.device), requires_grad=True) for y in outputs]

    def first_derivative(*args):
        xs, us = args[:len(inputs)], args[len(inputs):]
        gs = _seeded_grad(_as_outputs(fn(*xs)), us, [xs[k] for k in checked], create_graph=True)  # d<u, fn(x)>/dx
        return tuple(g if g is not None else Tensor(backend.array_module(xs[k].data).zeros_like(xs[k].data))
                     for k, g in zip(checked, gs))

    try:
        return gradcheck(first_derivative, inputs + tuple(u), eps, atol, rtol, seed)
    except GradcheckError as error:
        raise GradcheckError(f"gradgradcheck (second derivatives, inputs then incoming gradients):\n{error}") from None
