"""The base class of every optimizer: parameter groups, per-parameter state, checkpoints.

An optimizer holds ``param_groups``, a list of dicts: each has ``"params"`` (the Tensors
it updates) and its options (``"lr"``, ``"momentum"``...), the ones a group leaves out
filled from ``defaults``. ``state`` maps each parameter to a dict of what its update
remembers between steps (a momentum buffer, Adam's moments, the step count), kept as raw
arrays on the parameter's device.

``step()`` walks every parameter that has a gradient and calls the subclass's
``update(param, grad, state, group)`` on raw arrays: one equation per line, applied in
place to ``param``, so the Tensor a model holds stays the same object. A group with
``maximize=True`` hands ``update`` the gradient of -f, so the same lines climb f. A new
optimizer is a subclass with ``__init__`` (its defaults), ``check`` (its options) and ``update``.
"""
from minigen import backend
from minigen.autograd import Tensor, enable_grad, mark_written, no_grad
from minigen.nn.utils import zero_grads


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    params: an iterable of leaf Tensors, or of dicts ``{"params": [...], "lr": ...}`` (one
    parameter group each, with its own options). defaults: the options of a group that
    does not give them. Tensors that do not require grad (a frozen layer) are accepted,
    as PyTorch does: they get no ``.grad``, so ``step()`` leaves them alone.

    Raises ValueError for an empty parameter list, TypeError for a single Tensor, a set
    (its order changes between runs) or anything that is not a Tensor.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params given to the optimizer should be an iterable of Tensors or dicts, "
                            "got a single Tensor; wrap it in a list: [tensor]")
        self.defaults = defaults
        self.check(defaults)
        self.state = {}  # parameter (Tensor) -> {name: raw array or number}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def check(self, options):
        """Raise ValueError for an option out of its range (subclasses say which)."""

    def update(self, param, grad, state, group):
        """Update the raw array ``param`` in place from ``grad``; ``state`` persists between steps."""
        raise NotImplementedError

    def add_param_group(self, param_group):
        """Append a group ``{"params": ..., option: value}``; options it lacks come from ``defaults``.

        Raises TypeError for a param that is not a Tensor, ValueError for one that is not a
        leaf or already belongs to a group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters must be in an ordered collection (a list), not a set: "
                            "the order of a set changes between runs")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but params[{i}] is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"params[{i}] (shape {p.shape}) is not a leaf: it was computed from other "
                                 "tensors; optimize the leaves, or .detach().requires_grad_() it")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if id(p) in seen:
                raise ValueError(f"a parameter (shape {p.shape}) appears twice in the parameter groups")
            seen.add(id(p))
        group = {**self.defaults, **param_group, "params": params}
        self.check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set each ``.grad`` to None (default) or to zeros."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; parameters without one are skipped.

        closure: optional function that recomputes and returns the loss (gradients on);
        its result is returned. A group with ``maximize=True`` ascends: its update gets -grad.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():  # raw arrays record nothing; this also covers subclasses written with Tensor ops
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    with backend.device_scope(p.device):
                        grad = -p.grad.data if group.get("maximize", False) else p.grad.data  # max f = min -f
                        self.update(p.data, grad, self.state.setdefault(p, {}), group)
                    mark_written(p)  # graphs that saved p's old values now refuse to backward
        return loss

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self):
        """A snapshot ``{"state": {index: {name: value}}, "param_groups": [{options, "params": [index]}]}``.

        Parameters are numbered 0, 1, ... through the groups in order. Arrays of the state
        are copied into Tensors (later steps do not change the snapshot); counts stay ints.
        """
        index_of, param_groups = {}, []
        for group in self.param_groups:
            for p in group["params"]:
                index_of[id(p)] = len(index_of)
            param_groups.append({**group, "params": [index_of[id(p)] for p in group["params"]]})
        state = {index_of[id(p)]: {name: _snapshot(value) for name, value in values.items()}
                 for p, values in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: the groups' options and each parameter's state.

        The parameters stay this optimizer's own, matched by position; state arrays are
        copied to each parameter's device and dtype. Raises ValueError when the number of
        groups, a group's size, or a state array's shape does not match, or an option is out of range.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            got = f"keys {sorted(map(str, state_dict))}" if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError("load_state_dict: expected a dict with keys 'state' and 'param_groups' (from "
                             f"optimizer.state_dict()), got {got}")
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(f"load_state_dict: the state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(groups)}")
        for k, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"load_state_dict: parameter group {k} has {len(saved['params'])} parameters "
                                 f"in the state dict, {len(group['params'])} in this optimizer")
            self.check(saved)
        param_of = {index: p for group, saved in zip(groups, saved_groups)
                    for index, p in zip(saved["params"], group["params"])}
        state = {}
        for index, values in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"load_state_dict: the state dict has state for parameter {index}, "
                                 f"but its groups hold parameters {sorted(param_of)}")
            p = param_of[index]
            state[p] = {name: _to_param(p, name, value) for name, value in values.items()}
        self.state = state
        self.param_groups = [{**saved, "params": group["params"]} for group, saved in zip(groups, saved_groups)]

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {k}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines + [")"])


def _snapshot(value):
    """A state value as it is now: an array copied into a Tensor on its own device, others as they are."""
    if not backend.is_array(value):
        return value
    with backend.device_scope(backend.device_of(value)):  # CuPy copies onto the current device
        return Tensor(value.copy())


def _to_param(p, name, value):
    """A saved state value for parameter ``p``: arrays as copies on its device, floats in its dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if not backend.is_array(value):
        return value
    if value.shape != p.shape:
        raise ValueError(f"load_state_dict: state {name!r} has shape {value.shape}, its parameter {p.shape}")
    with backend.device_scope(p.device):
        value = backend.to_device(value, p.device)
        return value.astype(p.dtype if value.dtype.kind == "f" else value.dtype, copy=True)
