"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine.

Read it in this order:

1. ``Tensor`` holds an array (``data``), and, when it was computed from tensors that
   require gradients, the ``Function`` node that made it (``grad_fn``).
2. ``Function.apply`` runs ``forward`` on raw arrays and records the node: its inputs,
   the edges to their nodes, and the versions of what its backward will read.
   ``backward`` is written with Tensor operations, so the gradient computation can
   itself be recorded and differentiated again (``create_graph=True``).
3. ``run_backward`` visits the nodes once each in topological order and sums the
   gradient contributions; ``Tensor.backward`` and ``grad`` are its two doors.
4. In-place writes (``x += 1``, ``x.add_(1)``, ``x[i] = v``, an optimizer step) go
   through ``write_inplace``: they bump the version of the storage, and a backward
   that would read a value overwritten since it was saved refuses, as PyTorch does.

Checks and messages are at the end of the file; ``no_grad`` and the grad mode live in
``minigen/grad_mode.py``. The operators (``+``, ``@``, ``.sum()`` ...) are attached to
Tensor by ``minigen.ops``.
"""
import weakref

import numpy as np

from minigen import backend
from minigen.suggest import did_you_mean
from minigen.grad_mode import (  # noqa: F401
    _Anomaly, _GradMode, _grad_mode, detect_anomaly, enable_grad, is_grad_enabled, no_grad)


# ------------------------------------------------------------------ the tensor
class Tensor:
    """An n-dimensional array on a device, that can record how it was computed.

    Create tensors with ``minigen.tensor``, ``zeros``, ``randn`` ... rather than by hand.
    ``data`` is the NumPy or CuPy array; ``grad`` a Tensor filled by ``backward()``;
    ``grad_fn`` the Function node that produced it (None for leaves). Tensors that share
    storage (views, ``detach()``) share one version counter, ``_version``.
    """

    __slots__ = ("data", "_grad", "grad_fn", "_requires_grad", "_counter", "_base", "_hooks", "__weakref__")
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
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._counter = [0]  # the version of the storage, shared by the tensors that view it
        self._base = None  # the tensor this one is a view of (in-place writes to views are refused)
        self._hooks = None  # functions of its gradient, run when backward computes it
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

    @property
    def _version(self):
        """How many in-place writes the storage has seen (PyTorch's ``x._version``)."""
        return self._counter[0]

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
    def grad(self):
        """The gradient that ``backward`` accumulated here (None before): a Tensor of this shape."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"assigned grad must be a Tensor or None, got {type(value).__name__}")
        if value is not None and value.shape != self.shape:
            raise RuntimeError(f"assigned grad has shape {tuple(value.shape)}, "
                               f"but the tensor has shape {tuple(self.shape)}")
        self._grad = value

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
        """A new leaf sharing this tensor's data (and its version counter), cut from the graph."""
        out = Tensor(self.data)
        out._counter = self._counter
        return out

    def numpy(self):
        """The values as a NumPy array on the host: a read-only view on the CPU (write into
        ``.numpy().copy()``, or use in-place ops, which autograd tracks), a copy from a GPU."""
        if not isinstance(self.data, np.ndarray):
            return backend.to_host(self.data)
        view = self.data.view()
        view.flags.writeable = False
        return view

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.data.shape}")
        return self.data.item()

    def tolist(self):
        return backend.to_host(self.data).tolist()

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        body = np.array2string(backend.to_host(self.data), separator=", ", prefix="tensor(")
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
    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever backward computes this tensor's gradient; a Tensor it
        returns replaces the gradient. Returns a handle whose ``remove()`` takes the hook away."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        self._hooks = (self._hooks or []) + [hook]
        _HookHandle.registered = True
        return _HookHandle(self, hook)

    def __getattr__(self, name):
        """Only for names Tensor lacks: an AttributeError with the nearest name it has."""
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"Tensor has no '{name}'{did_you_mean(name, (n for n in dir(Tensor) if n[0] != '_'))}")

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; then free the graph.

        ``gradient`` flows into ``self`` (required unless ``self`` has one element).
        ``retain_graph=True`` keeps what the nodes saved, for a second backward through
        them; ``create_graph=True`` (which implies it) records the gradient computation,
        so the ``.grad`` tensors can be differentiated again.
        """
        if not self._requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no grad_fn "
                               "(did you compute it under no_grad, or from tensors without requires_grad=True?)")
        seed = _implied_grad(self, "backward") if gradient is None else _as_grad(gradient, self, "backward")
        retain = create_graph if retain_graph is None else retain_graph
        run_backward([self], [seed], retain, create_graph)


# ------------------------------------------------------------------ the function node
class Function:
    """One operation: ``forward`` on raw arrays, ``backward`` with Tensor operations.

    Subclasses write::

        def forward(self, x, y, **params):  # raw arrays in, one raw array out;
            ...                             # store on self what backward needs
        def backward(self, gy):             # gy: Tensor, d(loss)/d(output)
            return gx, gy_                  # Tensors (or None), one per input

    The recorded node keeps ``inputs`` (the Tensors), ``edges`` (where each input's
    gradient goes: its node, the leaf itself, or None), and a weak reference to its
    output (``self.output()``), so a graph lives exactly as long as its outputs.
    A backward that does not read its inputs' values (only their shapes) sets
    ``reads_inputs = False``; one that reads its output sets ``reads_output = True``:
    those are the values whose versions backward checks.
    """

    inputs = ()
    edges = ()
    reads_inputs = True
    reads_output = False

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    @property
    def needs_input_grad(self):
        return tuple(edge is not None for edge in self.edges)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors ``inputs`` and record it when a gradient will be needed."""
        fn, arrays = cls(), [x.data for x in inputs]
        try:
            if all([type(array) is np.ndarray for array in arrays]):  # on the host: no device to choose
                out = Tensor(fn.forward(*arrays, **params))
            else:
                with backend.device_scope(_one_device(cls, inputs)):
                    out = Tensor(fn.forward(*arrays, **params))
        except (IndexError, ValueError, TypeError) as error:  # say which op, and on what
            raise _named(cls, inputs, error) from error
        data = out.data
        if data.base is not None:
            _share_storage(out, inputs)
        if _GradMode.enabled and True in [x._requires_grad for x in inputs] and data.dtype.kind in "fc":
            _record(fn, inputs, out)
        return out


def _record(fn, inputs, out):
    """Make ``fn`` the node of ``out``: remember its inputs, their edges and versions."""
    fn.inputs = inputs
    fn.edges = [x.grad_fn or (x if x._requires_grad else None) for x in inputs]
    if fn.reads_inputs or fn.reads_output:  # what _check_versions compares before backward
        fn.versions = [x._counter[0] for x in inputs] + [out._counter[0]]
    fn.output = weakref.ref(out)
    out.grad_fn = fn
    out._requires_grad = True


def _share_storage(out, inputs):
    """An output that is a view of an input's array shares that input's version counter."""
    base = out.data.base
    for x in inputs:
        if x.data is base or x.data.base is base:
            out._counter, out._base = x._counter, x
            return


# ------------------------------------------------------------------ the backward engine
def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None):
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    With ``inputs=None`` the gradients are accumulated into the leaves' ``.grad``;
    otherwise they are returned, one per tensor of ``inputs`` (None where unreached).
    Gradients are summed per edge as they arrive (a tensor used twice gets both
    contributions) and each node's backward runs once, when its gradient is complete.
    Unless ``retain_graph``, the nodes that ran free what they saved at the end of the pass
    (not one by one: an output that a later node reads stays alive through its consumer).
    """
    pending = _Pending(create_graph, grad_outputs)  # node or leaf -> d(loss)/d(it), summed as it arrives
    for y, gy in zip(outputs, grad_outputs):
        pending.add(y.grad_fn or y, gy)  # (every output requires grad: backward and grad check it)
    wanted = {x.grad_fn for x in inputs or () if x.grad_fn is not None}
    captured, ran = {}, []
    with _grad_mode(create_graph):  # record the backward only if asked
        for fn in topological_order({y.grad_fn for y in outputs if y.grad_fn is not None}):
            gy = pending.pop(fn)
            if gy is None:
                continue
            if _HookHandle.registered:
                gy = _hooked(fn.output() if fn.inputs is not None else None, gy)
            if fn in wanted:
                captured[fn] = gy
            for i, (edge, gx) in enumerate(zip(fn.edges, _call_backward(fn, gy))):
                if edge is not None and gx is not None:
                    pending.add(edge, _checked_grad(fn, i, gx))
            ran.append(fn)
        for fn in ran if not retain_graph else ():
            _release(fn)
        if inputs is not None:
            return [pending.hand_out(captured.get(x.grad_fn) if x.grad_fn else _hooked(x, pending.pop(x)))
                    for x in inputs]
        fresh = [(leaf, _hooked(leaf, g)) for leaf, g in pending.leaves()]
        fresh = [(leaf, g if leaf.grad is not None else pending.hand_out(g)) for leaf, g in fresh]
    for leaf, g in fresh:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    return None


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
        for edge in fn.edges:
            if isinstance(edge, Function) and edge not in seen:
                stack.append((edge, False))
    order.reverse()
    return order


def _call_backward(fn, gy, on_its_device=False):
    """``fn.backward(gy)``, on the device of gy, after checking that what it reads is still there
    and unchanged; one checked gradient per input, None where none is needed."""
    if not on_its_device and not isinstance(gy.data, np.ndarray):
        with backend.device_scope(gy.device):  # a node's backward runs where its gradient lives
            return _call_backward(fn, gy, True)
    if fn.inputs is None:
        raise RuntimeError(_FREED)
    if fn.reads_inputs or fn.reads_output:
        _check_versions(fn)
    gxs = fn.backward(gy)
    if type(gxs) is not tuple or len(gxs) != len(fn.inputs):
        gxs = _one_per_input(fn, gxs)
    if _Anomaly.enabled:
        _check_finite(fn, gxs)
    return gxs


def _release(fn):
    """Free what ``fn`` saved (inputs, output, arrays kept by forward); keep its edges."""
    fn.__dict__ = {"edges": fn.edges, "inputs": None}


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    outputs, inputs: a Tensor or a sequence of Tensors. grad_outputs: gradients flowing
    into the outputs (default ones, for outputs with one element). Returns a tuple with one
    Tensor per input; an input that the outputs do not depend on raises, or gives None
    with ``allow_unused=True``. ``create_graph=True`` records the computation so that the
    result can be differentiated again (gradient penalties, Hessian-vector products); the
    graph is freed unless ``retain_graph`` (default: ``create_graph``).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x._requires_grad:
            raise RuntimeError(f"grad: input {k} does not require grad; call .requires_grad_() on it first")
    for y in outputs:
        if not y._requires_grad:
            raise RuntimeError("grad: an output does not require grad (computed under no_grad or from constants?)")
    seeds = [_implied_grad(y, "grad") if gy is None else _as_grad(gy, y, "grad") for y, gy in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    result = run_backward(outputs, seeds, retain, create_graph, inputs=inputs)
    for k, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {k} (shape {inputs[k].shape}) is not part of the graph of the "
                               "outputs; pass allow_unused=True to get None for it")
    return tuple(result)


# ------------------------------------------------------------------ in-place writes
def write_inplace(x, op, *args):
    """``x`` overwritten with ``op(x, *args)`` in its own storage (``x += y``, ``x.mul_(2)``...).

    Without a graph to record this is a write and a version bump. With one, ``op`` runs on
    ``old``, a tensor that takes over x's place in the graph, and x becomes the output of
    op's node, so later uses of x see the new values and their gradients flow through op.
    """
    recording = _GradMode.enabled and (x._requires_grad or any(_requires_grad(a) for a in args))
    _check_inplace(x, recording)
    if not recording:
        with _grad_mode(False), backend.device_scope(x.device):
            _overwrite(x, _fitted(x, op(x, *args)))
        return x
    old = Tensor(x.data)  # x as it was, in x's place in the graph
    old.grad_fn, old._requires_grad, old._counter = x.grad_fn, x._requires_grad, x._counter
    with backend.device_scope(x.device):
        new = op(old, *args)
        node, new = new.grad_fn, _fitted(x, new)
        if node.reads_inputs:  # op's backward reads x as it was: keep a copy
            old.data, old._counter = x.data.copy(), [x._counter[0]]
    if x.grad_fn is not None:
        x.grad_fn.output = weakref.ref(old)
    _overwrite(x, new)
    x.grad_fn, x._requires_grad, new.grad_fn.output = new.grad_fn, True, weakref.ref(x)
    if new.grad_fn.reads_inputs or new.grad_fn.reads_output:
        new.grad_fn.versions[-1] = x._counter[0]
    return x


def _fitted(x, new):
    """``new`` in x's dtype, once checked that it fits into x (shape, a cast PyTorch allows)."""
    if new.shape != x.shape:
        raise RuntimeError(f"in-place operation: the result has shape {new.shape}, "
                           f"which does not fit the tensor written to, of shape {x.shape}")
    if not _can_cast(new.dtype, x.dtype):
        raise RuntimeError(f"in-place operation: result type {new.dtype} can't be cast to the "
                           f"desired output type {x.dtype}")
    return new if new.dtype == x.dtype else new.to(x.dtype)


def _overwrite(x, new):
    """Write the values of Tensor ``new`` into ``x``'s storage and bump its version."""
    with backend.device_scope(x.device):
        x.data[...] = new.data
    x._counter[0] += 1


def mark_written(tensor):
    """Bump the version of ``tensor``'s storage after its ``data`` was written in place by
    hand (optimizer steps, ``load_state_dict``, initializers), so stale graphs refuse."""
    tensor._counter[0] += 1


# ------------------------------------------------------------------ conversions of values
def as_tensor_like(value, like, dtype=None):
    """``value`` (Tensor, Python number, array or list) as a Tensor on ``like``'s device, cast to
    ``dtype`` when one is given (a Tensor by a recorded cast, so gradients flow back through it)."""
    if isinstance(value, Tensor):
        return value if dtype is None or value.dtype == dtype else value.to(dtype)
    if isinstance(value, (bool, int, float)) or backend.is_array(value) or isinstance(value, (list, tuple, np.generic)):
        array = value if backend.is_array(value) else np.asarray(value)
    else:
        raise TypeError(f"expected a Tensor, a number or an array, got {type(value).__name__}")
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return Tensor(backend.to_device(array, like.device))


# ------------------------------------------------------------------ the engine's bookkeeping
class _Pending:
    """The gradients on their way: one sum per edge (a node, or a leaf tensor)."""

    def __init__(self, create_graph, grad_outputs):
        self.sums, self.create_graph = {}, create_graph
        self.handed_out = {id(g.data) for g in grad_outputs}  # arrays that the caller may still hold

    def add(self, edge, g):
        previous = self.sums.get(edge)
        if previous is None:
            self.sums[edge] = g
        elif self.create_graph:  # a + b, recorded only when the backward itself is being recorded
            self.sums[edge] = previous + g
        elif isinstance(g.data, np.ndarray):
            self.sums[edge] = Tensor(previous.data + g.data)
        else:
            with backend.device_scope(g.device):
                self.sums[edge] = Tensor(previous.data + g.data)

    def pop(self, edge):
        return self.sums.pop(edge, None)

    def leaves(self):
        return [(edge, g) for edge, g in self.sums.items() if isinstance(edge, Tensor)]

    def hand_out(self, g):
        """``g``, or a copy (recorded under create_graph) when its array may be shared: a view
        (the read-only broadcast that Sum's backward returns), a caller's grad_outputs array,
        or one already handed out (in x + y, Add gives both the same gy). So each gradient
        owns its array."""
        if g is not None:
            if g.data.base is not None or id(g.data) in self.handed_out:
                g = Clone.apply(g)
            self.handed_out.add(id(g.data))
        return g


class Clone(Function):
    reads_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy  # the identity map


class _HookHandle:
    registered = False  # no hook was ever registered: the engine skips looking for them

    def __init__(self, tensor, hook):
        self.tensor, self.hook = tensor, hook

    def remove(self):
        hooks = [h for h in self.tensor._hooks or () if h is not self.hook]
        self.tensor._hooks = hooks or None


def _hooked(tensor, g):
    """``g`` passed through the hooks registered on ``tensor`` (each may return a replacement)."""
    if g is None or tensor is None or tensor._hooks is None:
        return g
    for hook in tensor._hooks:
        result = hook(g)
        g = g if result is None else result
    return g


# ------------------------------------------------------------------ checks and messages
def _check_finite(fn, gxs):
    """Under detect_anomaly: name the op whose backward produced the first NaN."""
    for i, (edge, gx) in enumerate(zip(fn.edges, gxs)):
        if edge is not None and isinstance(gx, Tensor) and bool(backend.array_module(gx.data).isnan(gx.data).any()):
            raise RuntimeError(f"Function '{type(fn).__name__}Backward' returned nan values in its {i}th output "
                               f"(the gradient for input {i}, of shape {tuple(gx.shape)})")


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
          "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
          "or minigen.grad(). Specify retain_graph=True if you need to backward through the graph a second time.")


def _check_versions(fn):
    """Refuse a backward whose saved input or output was overwritten in place since."""
    if fn.reads_inputs:
        for k, (x, version) in enumerate(zip(fn.inputs, fn.versions)):
            if x._counter[0] != version:
                raise _stale(fn, f"input {k}", x, version)
    out = fn.output() if fn.reads_output else None
    if out is not None and out._counter[0] != fn.versions[-1]:
        raise _stale(fn, "the output", out, fn.versions[-1])


def _stale(fn, role, t, version):
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a {t.dtype} tensor of shape {tuple(t.shape)}, {role} of {type(fn).__name__}, "
        f"is at version {t._counter[0]}; expected version {version} instead. Hint: compute the "
        "value again after the in-place change (an optimizer step is one), or write x = x + ... "
        "instead of x += ...")


def _check_inplace(x, recording):
    if not isinstance(x, Tensor):
        raise TypeError(f"in-place operation: expected a Tensor, got {type(x).__name__}")
    if recording and x.grad_fn is None and x._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation. "
                           "Update it inside `with minigen.no_grad():` (as an optimizer does)")
    if recording and x._base is not None:
        raise RuntimeError("minigen does not differentiate in-place writes into a view (PyTorch rewrites "
                           "the base tensor's history here): write base[index] = value on the tensor "
                           "itself, or .clone() the view first")


def _can_cast(source, target):
    """PyTorch's rule for in-place results: no complex into real, no float into int, only bool into bool."""
    s, t = source.kind, target.kind
    return not ((s == "c" and t != "c") or (s == "f" and t in "biu") or (s != "b" and t == "b"))


def _requires_grad(value):
    return isinstance(value, Tensor) and value._requires_grad


def _one_device(cls, inputs):
    """The one device of ``inputs``; a RuntimeError naming the op when they are on several."""
    device = inputs[0].device
    for x in inputs[1:]:
        if x.device != device:
            devices = ", ".join(x.device for x in inputs)
            raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, got tensors on {devices}; "
                               "move them with .to(device)")
    return device


def _named(cls, inputs, error):
    """The error of a forward, of the same kind, with the op and its inputs named."""
    kind = next(k for k in (IndexError, ValueError, TypeError) if isinstance(error, k))
    described = ", ".join(f"{tuple(x.shape)} {x.dtype}" for x in inputs)
    return kind(f"{cls.__name__}: {error} (inputs: {described})")


def _implied_grad(output, where):
    """The implied gradient d(output)/d(output) = 1, for outputs with one element, on their device."""
    if output.data.size != 1:
        given = "gradient" if where == "backward" else "grad_outputs"
        raise RuntimeError(f"{where}: grad can be implied only for a tensor with one element, got shape "
                           f"{output.shape}; pass {given}= of that shape")
    if isinstance(output.data, np.ndarray):
        return Tensor(np.ones_like(output.data))
    with backend.device_scope(output.device):
        return Tensor(backend.array_module(output.data).ones_like(output.data))


def _as_grad(grad, output, where):
    """Validate a user-given gradient for ``output`` (Tensor, NumPy or CuPy array, list) as a Tensor."""
    if not isinstance(grad, Tensor):
        array = grad if backend.is_array(grad) else np.asarray(grad, dtype=output.dtype)
        grad = Tensor(backend.to_device(array, output.device))
    if grad.device != output.device:
        raise RuntimeError(f"{where}: gradient is on {grad.device} but the output is on {output.device}")
    if grad.shape != output.shape:
        raise RuntimeError(f"{where}: gradient has shape {grad.shape} but the output has shape {output.shape}")
    if grad.data.dtype != output.data.dtype:
        if grad.dtype.kind != output.dtype.kind:
            raise TypeError(f"{where}: gradient has dtype {grad.dtype} but the output has dtype {output.dtype}")
        grad = grad.to(output.dtype)  # a float64 gradient for a float32 output: float32, as PyTorch
    return grad


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


def _checked_grad(fn, i, gx):
    """A backward must return one gradient of its input's shape; cast to the input's dtype."""
    x = fn.inputs[i]
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
