"""Parameter and Module: the containers that networks are built from (PyTorch's semantics).

A Module registers what is assigned to it as an attribute:

    self.weight = Parameter(...)     -> _parameters  (trained; listed by parameters())
    self.register_buffer("running_mean", t)  -> _buffers  (state that is not trained)
    self.fc = Linear(...)            -> _modules     (a child, walked by every method below)

Everything else (``parameters()``, ``state_dict()``, ``to()``, ``train()``, ``repr``) is a
walk over that tree. Names are dotted paths like PyTorch's: ``"encoder.0.weight"``.
"""
import collections.abc

import numpy as np

from minigen import backend
from minigen.autograd import Tensor, no_grad
from minigen.checks import is_int
from minigen.nn.utils import zero_grads
from minigen.ops.options import unsupported


# ------------------------------------------------------------------ Parameter
class Parameter(Tensor):
    """A leaf Tensor that a Module registers as trainable (requires grad by default).

    data: a Tensor or an array; a Tensor's array is shared, not copied (as ``nn.Parameter``).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


# ------------------------------------------------------------------ Module
IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclasses set attributes in ``__init__``
    (after ``super().__init__()``) and write ``forward``; call the module, not forward."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one in the subclass")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- the registration rule: parameters, buffers and submodules, kept in three registries
    def _registries(self):
        """The rule's three registries as (entries, the type they hold, what to call one), in lookup order."""
        get = self.__dict__.get  # empty before __init__ has run
        return ((get("_parameters", {}), Parameter, "parameter"), (get("_buffers", {}), Tensor, "buffer"),
                (get("_modules", {}), Module, "child module"))

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__ and isinstance(value, (Parameter, Module)):
            raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                                 f"was called: start {type(self).__name__}.__init__ with super().__init__()")
        if isinstance(value, (Parameter, Module)):  # a new entry, or one that changes registry
            self._forget(name)
            (self._parameters if isinstance(value, Parameter) else self._modules)[name] = value
            return
        for entries, kind, what in self._registries():  # a new value for a registered name
            if name in entries:
                if value is not None and not isinstance(value, kind):
                    raise TypeError(f"cannot assign {type(value).__name__} as {what} '{name}' "
                                    f"(a {kind.__name__} or None expected)")
                entries[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):  # called only when ordinary lookup fails: a registered name, or none
        get = self.__dict__.get  # the three registries of _registries(), read directly: this runs on every self.weight
        for entries in (get("_parameters", {}), get("_buffers", {}), get("_modules", {})):
            if name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name):
        """Remove ``name`` from the registries and the plain attributes; True if it was in one of them."""
        found = name in self.__dict__
        self.__dict__.pop(name, None)
        self._non_persistent.discard(name)
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                found = True
        return found

    def register_parameter(self, name, param):
        """Add a Parameter (or None: a slot that is left empty, like a disabled bias)."""
        self._register(self._parameters, name, param, Parameter, "register_parameter")

    def register_buffer(self, name, tensor, persistent=True):
        """Add a Tensor that is state but not trained (running statistics...). Non-persistent
        buffers move with ``to()`` but stay out of ``state_dict()``."""
        self._register(self._buffers, name, tensor, Tensor, "register_buffer")
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name`` (what attribute assignment does for Modules)."""
        self._register(self._modules, name, module, Module, "add_module")

    def _register(self, registry, name, value, kind, method):
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{method}: '{name}' must be a {kind.__name__} or None, got {type(value).__name__}")
        if name not in registry:
            if not isinstance(name, str) or not name or "." in name:
                raise KeyError(f"{method}: the name must be a non-empty string without '.', got {name!r}")
            taken = [what for entries, _, what in self._registries() if name in entries]
            if taken or name in self.__dict__ or hasattr(type(self), name):  # as PyTorch: never replace another kind
                as_what = f" as a {taken[0]}" if taken else ""
                raise KeyError(f"{method}: attribute '{name}' already exists on {type(self).__name__}{as_what}")
        self._forget(name)
        registry[name] = value

    # --- walking the tree of registries (parameters() and everything below are such walks)
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and all below it, parents before children
        (PyTorch's memo, a set of modules to skip, is not implemented)."""
        unsupported("named_modules", memo=(memo, None))
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def _named_members(self, registry, prefix, recurse):
        """(dotted name, tensor) from ``registry`` of every module; shared tensors listed once."""
        seen = set()
        walk = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_name, module in walk:
            for name, tensor in getattr(module, registry).items():
                if tensor is not None and id(tensor) not in seen:
                    seen.add(id(tensor))
                    yield (f"{module_name}.{name}" if module_name else name), tensor

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter): a module's own parameters, then its children's, in order;
        a shared one once (remove_duplicate=False is not implemented)."""
        unsupported("named_parameters", remove_duplicate=(remove_duplicate, True))
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        unsupported("named_buffers", remove_duplicate=(remove_duplicate, True))
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ==================================================================
    # PyTorch's conveniences, built on the rule and the walk above
    # ==================================================================
    # --- more walks
    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self):
        """(name, module) for the direct children."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def get_submodule(self, target):
        """The module at dotted path ``target`` ("encoder.0" is ``self.encoder[0]``; "" is self).

        Raises AttributeError, with PyTorch's messages, for a name that is missing
        (``Sequential has no attribute `5```) or names something that is not a Module.
        """
        module = self
        for name in target.split(".") if target else []:
            if not hasattr(module, name):
                raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
            module = getattr(module, name)
            if not isinstance(module, Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
        return module

    def apply(self, fn):
        """Call ``fn(module)`` on every module below this one, children first, then on itself."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and places
    def train(self, mode=True):
        """Set training mode (True) or evaluation mode (False) here and below. Returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {mode!r}")
        self.training = mode
        for child in self.children():  # through the child's own train(), which a subclass may override (as PyTorch)
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout passes through, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient tracking of every parameter on or off (to freeze a part). Returns self."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter: ``.grad = None`` (PyTorch's default) or zeros."""
        zero_grads(self.parameters(), set_to_none)

    def cpu(self):
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self, device=None):
        """``to("cuda")``, or ``to("cuda:N")`` for device=N."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        """Floating parameters and buffers to float32 (``to(minigen.float32)``)."""
        return self.to(np.float32)

    def double(self):
        """Floating parameters and buffers to float64 (``to(minigen.float64)``)."""
        return self.to(np.float64)

    def to(self, *args, device=None, dtype=None):
        """Move parameters and buffers to a device and/or cast floating ones to a dtype:
        ``to("cuda")``, ``to(minigen.float64)``. In place: the Parameter objects stay the
        same (their ``.data`` is replaced), so an optimizer built before keeps working."""
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        device = None if device is None else backend.canonical_device(device)
        try:
            dtype = None if dtype is None else np.dtype(dtype)
        except TypeError:
            raise TypeError(f"Module.to: expected a device string ('cpu', 'cuda') or a floating dtype "
                            f"(minigen.float64), got {dtype!r}") from None
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to: only floating point dtypes are allowed, got {dtype}")

        def convert(array):
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype)
            return array if device is None else backend.to_device(array, device)

        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.data = convert(tensor.data)
            if tensor.grad is not None:
                tensor.grad.data = convert(tensor.grad.data)
        return self

    # --- saving and loading
    def _named_state(self):
        """(dotted name, tensor) of what a checkpoint holds: each module's parameters, then its
        persistent buffers, then its children's; shared tensors appear under every name."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield prefix + name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield prefix + name, buffer

    def state_dict(self):
        """An ordered dict: dotted name -> Tensor (detached, sharing the module's arrays)."""
        return collections.OrderedDict((name, tensor.detach()) for name, tensor in self._named_state())

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values of ``state_dict`` (name -> Tensor or array) into this module's tensors
        (PyTorch's assign=True, which would replace them instead, is not implemented).

        Each tensor keeps its device and dtype; a value is cast to it only within its kind or
        up (float64 into float32, int into float; not complex or text into float, nor float
        into int). Raises RuntimeError listing every problem at once: shape mismatches and
        dtypes that do not cast always; missing and unexpected keys when ``strict``. Nothing
        is copied when it raises. Returns (missing_keys, unexpected_keys).
        """
        unsupported("load_state_dict", assign=(assign, False))
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"load_state_dict: expected a dict of name -> Tensor, got {type(state_dict).__name__}")
        own = dict(self._named_state())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        values = {name: _as_array(value, name) for name, value in state_dict.items() if name in own}
        problems = [problem for name, value in values.items() for problem in _load_problems(name, value, own[name])]
        if strict:
            problems = ([f"missing keys: {', '.join(map(repr, missing))}"] if missing else []) + \
                       ([f"unexpected keys: {', '.join(map(repr, unexpected))}"] if unexpected else []) + problems
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}:\n  " + "\n  ".join(problems))
        for name, value in values.items():
            tensor = own[name]
            with no_grad():
                tensor.copy_(Tensor(value))
        return IncompatibleKeys(missing, unexpected)

    # --- printing
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, child in self._modules.items():
            lines.append(f"({name}): " + repr(child).replace("\n", "\n  "))
        if not self._modules and len(lines) <= 1:
            return f"{type(self).__name__}({''.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _as_array(value, name):
    if isinstance(value, Tensor):
        return value.data
    if backend.is_array(value):
        return value
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"load_state_dict: '{name}' holds a {type(value).__name__}, not a Tensor or an array") from None


def _load_problems(name, value, tensor):
    """What keeps the array ``value`` from being copied into ``tensor`` (a list of sentences)."""
    problems = []
    if tuple(value.shape) != tuple(tensor.shape):
        problems.append(f"size mismatch for {name}: the checkpoint has shape {tuple(value.shape)}, "
                        f"the model has shape {tuple(tensor.shape)}")
    if not np.can_cast(value.dtype, tensor.dtype, casting="same_kind"):  # what the copy may cast, checked first
        problems.append(f"dtype mismatch for {name}: the checkpoint has dtype {value.dtype}, "
                        f"which does not cast to the model's {tensor.dtype}")
    return problems


# ------------------------------------------------------------------ containers
class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))``.
    Children are named "0", "1", ..., or by the keys of one dict given instead
    (``Sequential(OrderedDict(fc=Linear(4, 8), act=ReLU()))``); index, slice, iterate and
    take ``len`` like a list."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], dict):
            named = args[0].items()
        else:
            named = ((str(index), module) for index, module in enumerate(args))
        for name, module in named:
            self.add_module(name, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):  # a Sequential of the slice, with the same names
            return type(self)(dict(list(self._modules.items())[index]))
        return self._modules[_key(self, index)]

    def __setitem__(self, index, module):
        _replace(self, index, module)

    def append(self, module):
        """Add ``module`` at the end, named by its position. Returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list's would be invisible)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __iadd__(self, modules):
        return self.extend(modules)

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (as list.insert); the children are renumbered."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        return self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[_key(self, index)]

    def __setitem__(self, index, module):
        _replace(self, index, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


def _replace(container, index, module):
    """container[index] = module, keeping the child's name and place."""
    if not isinstance(module, Module):
        raise TypeError(f"{type(container).__name__} can only hold Modules, got {type(module).__name__}")
    container._modules[_key(container, index)] = module


def _key(container, index):
    """The child name of a list-like container for an integer index (negative counts from the end)."""
    if not is_int(index):
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, got {type(index).__name__}")
    n = len(container)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of range for {type(container).__name__} of length {n}")
    return list(container._modules)[index % n]
