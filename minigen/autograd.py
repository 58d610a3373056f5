"""Reverse-mode automatic differentiation: grad mode, Tensor, Function, the backward engine.

Read it in this order:

1. ``no_grad`` / ``enable_grad`` switch recording on and off.
2. ``Tensor`` holds an array (``data``), and, when it was computed from tensors that
   require gradients, the ``Function`` node that made it (``grad_fn``).
3. ``Function.apply`` runs ``forward`` on raw arrays and records the node.
   ``backward`` is written with Tensor operations, so the gradient computation can
   itself be recorded and differentiated again (``create_graph=True``).
4. ``run_backward`` visits the nodes once each in topological order and sums the
   gradient contributions; ``Tensor.backward`` and ``grad`` are its two doors.

The operators (``+``, ``@``, ``.sum()`` ...) are attached to Tensor by ``minigen.ops``.
"""
import inspect
import weakref

import numpy as np

from minigen import backend


# ------------------------------------------------------------------ grad mode
class _GradMode:
    enabled = True


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return _GradMode.enabled


class _SetGradMode:
    """Context manager and decorator that sets the grad mode inside it."""

    enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        self._saved = []
        return self(func) if callable(func) else self

    def __enter__(self):
        self._saved.append(_GradMode.enabled)
        _GradMode.enabled = self.enabled

    def __exit__(self, *exc):
        _GradMode.enabled = self._saved.pop()

    def __call__(self, func):
        mode = type(self)
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(mode, func)

        def wrapper(*args, **kwargs):
            with mode():
                return func(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = func.__name__, func.__doc__, func
        return wrapper


def _generator_in_mode(mode, func):
    """A generator function whose every step (send, throw, close) runs inside ``mode()``;
    between steps, the caller's grad mode holds (as PyTorch does)."""
    def wrapper(*args, **kwargs):
        steps = func(*args, **kwargs)
        step, arg = steps.send, None
        while True:
            with mode():
                try:
                    value = step(arg)
                except StopIteration as stop:
                    return stop.value
            try:
                step, arg = steps.send, (yield value)
            except BaseException as error:  # throw() and close() go on to the inner generator
                step, arg = steps.throw, error

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = func.__name__, func.__doc__, func
    return wrapper


class no_grad(_SetGradMode):
    """``with no_grad():`` or ``@no_grad()``: operations inside record no graph."""

    enabled = False


class enable_grad(_SetGradMode):
    """``with enable_grad():`` or ``@enable_grad()``: recording on, even inside no_grad."""

    enabled = True


# ------------------------------------------------------------------ the tensor
class Tensor:
    """An n-dimensional array on a device, that can record how it was computed.

    Create tensors with ``minigen.tensor``, ``zeros``, ``randn`` ... rather than by hand.
    ``data`` is the NumPy or CuPy array; ``grad`` a Tensor filled by ``backward()``;
    ``grad_fn`` the Function node that produced it (None for leaves).
    """

    __slots__ = ("data", "grad", "grad_fn", "_requires_grad", "__weakref__")
    __array_ufunc__ = None  # NumPy then defers to our reflected operators (ndarray + Tensor)
    __hash__ = object.__hash__  # == is elementwise, so hash by identity

    def __init__(self, data, requires_grad=False):
        if not isinstance(data, np.ndarray):
            if isinstance(data, np.generic):  # NumPy reductions return scalars; keep 0-d arrays
                data = np.asarray(data)
            elif not backend.is_array(data):
                raise TypeError(f"Tensor expects a NumPy or CuPy array, got {type(data).__name__}; "
                                "use minigen.tensor(...) to convert other data")
        self.data = data
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # --- what it is
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    def size(self, dim=None):
        """The shape, or the length of dimension ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype {self.data.dtype}")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors; use .detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    # --- conversions
    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self.data)

    def numpy(self):
        """A NumPy array on the host (a copy when the tensor lives on a GPU)."""
        return backend.to_host(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.data.shape}")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != np.float32:
            extras.append(f"dtype={self.data.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # --- differentiation
    def backward(self, grad=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is the gradient flowing into ``self`` (required unless ``self`` has one
        element). With ``create_graph=True`` the gradient computation is recorded too,
        so the ``.grad`` tensors can be differentiated again.
        """
        if not self._requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no grad_fn "
                               "(did you compute it under no_grad, or from tensors without requires_grad=True?)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward(): grad can be implied only for a tensor with one element, "
                                   f"got shape {self.shape}; pass grad= of that shape")
            grad = Tensor(backend.array_module(self.data).ones_like(self.data))
        run_backward([self], [_as_grad(grad, self, "backward")], create_graph)


def _as_grad(grad, output, where):
    """Validate a user-given gradient for ``output`` and return it as a Tensor."""
    if not isinstance(grad, Tensor):
        grad = Tensor(backend.to_device(np.asarray(grad, dtype=output.dtype), output.device))
    if grad.shape != output.shape:
        raise RuntimeError(f"{where}: gradient has shape {grad.shape} but the output has shape {output.shape}")
    if grad.data.dtype != output.data.dtype:
        if grad.dtype.kind != output.dtype.kind:
            raise TypeError(f"{where}: gradient has dtype {grad.dtype} but the output has dtype {output.dtype}")
        grad = grad.to(output.dtype)  # a float64 gradient for a float32 output: float32, as PyTorch
    return grad


# ------------------------------------------------------------------ the function node
class Function:
    """One operation: ``forward`` on raw arrays, ``backward`` with Tensor operations.

    Subclasses write::

        def forward(self, x, y, **params):  # raw arrays in, one raw array out;
            ...                             # store on self what backward needs
        def backward(self, gy):             # gy: Tensor, d(loss)/d(output)
            return gx, gy_                  # Tensors (or None), one per input

    The recorded node keeps ``inputs`` (the Tensors) and a weak reference to its
    output (``self.output()``), so a graph lives exactly as long as its outputs.
    """

    inputs = ()
    needs_input_grad = ()

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors ``inputs`` and record it when a gradient will be needed."""
        fn = cls()
        arrays = [x.data for x in inputs]
        try:
            if isinstance(arrays[0], np.ndarray):
                for array in arrays:
                    if not isinstance(array, np.ndarray):
                        _device_mismatch(cls, inputs)
                out = Tensor(fn.forward(*arrays, **params))
            else:
                if len({x.device for x in inputs}) > 1:
                    _device_mismatch(cls, inputs)
                with backend.device_scope(inputs[0].device):
                    out = Tensor(fn.forward(*arrays, **params))
        except (IndexError, ValueError, TypeError) as error:  # say which op, and on what
            kind = next(k for k in (IndexError, ValueError, TypeError) if isinstance(error, k))
            described = ", ".join(f"{tuple(x.shape)} {x.dtype}" for x in inputs)
            raise kind(f"{cls.__name__}: {error} (inputs: {described})") from error
        if _GradMode.enabled:
            needs = tuple(x._requires_grad for x in inputs)
            if True in needs:
                fn.inputs = inputs
                fn.needs_input_grad = needs
                fn.output = weakref.ref(out)
                out.grad_fn = fn
                out._requires_grad = True
        return out


def _device_mismatch(cls, inputs):
    devices = ", ".join(x.device for x in inputs)
    raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, got tensors on {devices}; "
                       "move them with .to(device)")


# ------------------------------------------------------------------ the backward engine
def topological_order(roots):
    """The Function nodes reachable from ``roots``, each once, every node before its inputs' nodes.

    An iterative depth-first search (no recursion, so a chain of 100,000 ops is fine):
    a node is appended after all the nodes it depends on; the reversed list is the order
    in which gradients are complete.
    """
    order, seen = [], set()
    stack = [(fn, False) for fn in roots]
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            order.append(fn)
            continue
        if fn in seen:
            continue
        seen.add(fn)
        stack.append((fn, True))
        for x in fn.inputs:
            if x.grad_fn is not None and x.grad_fn not in seen:
                stack.append((x.grad_fn, False))
    order.reverse()
    return order


def run_backward(outputs, grad_outputs, create_graph, inputs=None):
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    With ``inputs=None`` the gradients are accumulated into the leaves' ``.grad``;
    otherwise they are returned, one per tensor of ``inputs`` (None where unreached).
    Node gradients are summed as they arrive (a tensor used twice gets both
    contributions) and each node's backward runs once, when its gradient is complete.
    """
    node_grads = {}  # Function -> d(loss)/d(its output)
    leaf_grads = {}  # id(leaf) -> (leaf, d(loss)/d(leaf))
    for y, gy in zip(outputs, grad_outputs):
        _add_grad(node_grads, leaf_grads, y, gy)
    wanted = {x.grad_fn for x in inputs if x.grad_fn is not None} if inputs is not None else ()
    captured = {}
    recording, _GradMode.enabled = _GradMode.enabled, create_graph  # record the backward only if asked
    try:
        for fn in topological_order({y.grad_fn for y in outputs if y.grad_fn is not None}):
            gy = node_grads.pop(fn, None)
            if gy is None:
                continue
            if fn in wanted:
                captured[fn] = gy
            gxs = fn.backward(gy)
            if type(gxs) is not tuple or len(gxs) != len(fn.inputs):
                gxs = _one_per_input(fn, gxs)
            for i, (x, gx, needed) in enumerate(zip(fn.inputs, gxs, fn.needs_input_grad)):
                if needed and gx is not None:
                    _add_grad(node_grads, leaf_grads, x, _checked_grad(fn, i, x, gx))
        handed_out = {id(gy.data) for gy in grad_outputs}  # arrays that someone else may still hold
        if inputs is not None:
            found = [captured.get(x.grad_fn) if x.grad_fn is not None else leaf_grads.get(id(x), (None, None))[1]
                     for x in inputs]
            return [g if g is None else _owned(g, handed_out) for g in found]
        fresh = [(leaf, g if leaf.grad is not None else _owned(g, handed_out)) for leaf, g in leaf_grads.values()]
    finally:
        _GradMode.enabled = recording
    for leaf, g in fresh:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    return None


def _owned(g, handed_out):
    """``g``, or a copy (recorded under create_graph) when its array may be shared: a view (the
    read-only broadcast that Sum's backward returns), a caller's grad_outputs array, or one
    already handed out (in x + y, Add gives both the same gy). So each gradient owns its array."""
    if g.data.base is not None or id(g.data) in handed_out:
        g = Clone.apply(g)
    handed_out.add(id(g.data))
    return g


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy  # the identity map


def _add_grad(node_grads, leaf_grads, x, gx):
    """Sum gradient ``gx`` into the slot of tensor ``x`` (its node, or the leaf itself)."""
    if x.grad_fn is not None:
        previous = node_grads.get(x.grad_fn)
        node_grads[x.grad_fn] = gx if previous is None else _sum(previous, gx)
    elif x._requires_grad:
        previous = leaf_grads.get(id(x))
        leaf_grads[id(x)] = (x, gx if previous is None else _sum(previous[1], gx))


def _sum(a, b):
    """a + b, recorded only when the backward itself is being recorded."""
    return a + b if _GradMode.enabled else Tensor(a.data + b.data)


def _one_per_input(fn, gxs):
    """What a backward returned, as a tuple with one entry per input; else an error naming the op."""
    name, n = type(fn).__name__, len(fn.inputs)
    if isinstance(gxs, Tensor) or gxs is None:
        gxs = (gxs,)
    elif not isinstance(gxs, tuple):
        raise TypeError(f"{name}.backward must return a tuple of Tensors or None (or one Tensor for one "
                        f"input), got {type(gxs).__name__}")
    if len(gxs) != n:
        raise RuntimeError(f"{name}.backward returned an incorrect number of gradients "
                           f"(expected {n}, one per input, got {len(gxs)})")
    return gxs


def _checked_grad(fn, i, x, gx):
    """A backward must return one gradient of its input's shape; cast to the input's dtype."""
    if not isinstance(gx, Tensor):
        raise TypeError(f"{type(fn).__name__}.backward returned a {type(gx).__name__} for input {i}; "
                        "expected a Tensor (write the backward with Tensor ops) or None")
    if gx.data.shape != x.data.shape:
        guess = "transposed?" if gx.shape == x.shape[::-1] else "forgot to sum over a broadcast axis?"
        raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient of shape {gx.shape} "
                           f"for input {i} of shape {x.shape} ({guess})")
    if gx.data.dtype != x.data.dtype:
        gx = gx.to(x.dtype)
    return gx


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    outputs, inputs: a Tensor or a sequence of Tensors. grad_outputs: gradients flowing
    into the outputs (default ones, for outputs with one element). Returns a tuple with one
    Tensor per input; an input that the outputs do not depend on raises, or gives None
    with ``allow_unused=True``. ``create_graph=True`` records the computation so that the
    result can be differentiated again (gradient penalties, Hessian-vector products).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x._requires_grad:
            raise RuntimeError(f"grad: input {k} does not require grad; call .requires_grad_() on it first")
    grads = []
    for y, gy in zip(outputs, grad_outputs):
        if not y._requires_grad:
            raise RuntimeError("grad: an output does not require grad (computed under no_grad or from constants?)")
        if gy is None:
            if y.data.size != 1:
                raise RuntimeError(f"grad: grad_outputs can be implied only for outputs with one element, "
                                   f"got shape {y.shape}")
            gy = Tensor(backend.array_module(y.data).ones_like(y.data))
        grads.append(_as_grad(gy, y, "grad"))
    result = run_backward(outputs, grads, create_graph, inputs=inputs)
    for k, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {k} (shape {inputs[k].shape}) is not part of the graph of the "
                               "outputs; pass allow_unused=True to get None for it")
    return tuple(result)


def as_tensor_like(value, like):
    """``value`` (Tensor, Python scalar, array or list) as a Tensor on ``like``'s device.

    Python scalars are *weak*, as in NumPy 2: ``float32 tensor * 2.0`` stays float32,
    while an int tensor times 2.5 becomes float64. Arrays keep their own dtype.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)):
        array = np.asarray(value, dtype=np.result_type(like.dtype, value))
    elif backend.is_array(value) or isinstance(value, (list, tuple, np.generic)):
        array = np.asarray(value) if not backend.is_array(value) else value
    else:
        raise TypeError(f"expected a Tensor, a number or an array, got {type(value).__name__}")
    return Tensor(backend.to_device(array, like.device))
