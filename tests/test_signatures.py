"""Every public callable takes PyTorch's positional arguments, in PyTorch's order (issue 14, item 7).

For each pair (minigen's callable, PyTorch's) the names of the parameters that can be given
by position must be the same, up to where PyTorch's become keyword-only (or private, like
softmax's ``_stacklevel``). The first tensor argument may be called x, input or self.
PyTorch's builtins have no Python signature; their native schemas (``aten::sum`` ...) give it,
and minigen must match one of the overloads.
"""
import inspect

import pytest

import minigen as mg
import minigen.nn.functional as F
from minigen import nn, optim

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SAME_NAME = {  # minigen's callables whose PyTorch twin has the same name in the same place
    mg: torch, F: TF, nn: torch.nn, nn.init: torch.nn.init, nn.utils: torch.nn.utils, optim: torch.optim,
    optim.lr_scheduler: torch.optim.lr_scheduler}
TOP_LEVEL = ["tensor", "zeros", "ones", "full", "arange", "eye", "randn", "rand", "zeros_like", "ones_like",
             "randn_like", "rand_like", "full_like", "save", "load", "manual_seed", "cat", "stack", "split"]
SCHEMAS = [  # minigen functions that are PyTorch builtins: compared with the native schema
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid",
    "relu", "clamp", "maximum", "minimum", "where", "sum", "mean", "var", "max", "min", "amax", "amin", "prod",
    "logsumexp", "argmax", "argmin", "softmax", "log_softmax", "reshape", "transpose", "permute", "squeeze",
    "unsqueeze", "flatten", "broadcast_to", "expand", "flip", "matmul", "dot", "eq", "ne", "lt", "le", "gt", "ge"]
FUNCTIONAL = ["linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "batch_norm", "dropout",
              "upsample", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "softmax", "log_softmax", "pad",
              "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss",
              "cross_entropy"]
FUNCTIONAL_SCHEMAS = {"conv2d": "conv2d", "conv_transpose2d": "conv_transpose2d.input", "avg_pool2d": "avg_pool2d",
                      "softplus": "softplus", "softmax": "softmax.int", "log_softmax": "log_softmax.int",
                      "linear": "linear"}
LAYERS = ["Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
          "ReLU", "LeakyReLU", "Softplus", "Flatten", "Unflatten", "Upsample", "Embedding",
          "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss", "Sequential",
          "ModuleList"]
MODULE_METHODS = ["register_parameter", "register_buffer", "add_module", "named_modules", "modules",
                  "named_children", "children", "named_parameters", "parameters", "named_buffers", "buffers",
                  "apply", "train", "eval", "requires_grad_", "zero_grad", "cpu", "cuda", "float", "double",
                  "load_state_dict"]
INIT = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_"]
OPTIM = ["SGD", "Adam", "AdamW", "RMSprop"]
SCHEDULERS = ["LambdaLR", "StepLR", "ExponentialLR", "CosineAnnealingLR"]
UTILS = ["clip_grad_norm_", "clip_grad_value_"]
TENSOR_NAMES = ("x", "input", "self", "tensor")
DOCUMENTED = {  # PyTorch's documented signatures where Python has none and the native schema differs
    "tensor": [["data"]],  # torch.tensor(data, *, dtype=None, ...)
    "max_pool2d": [["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]]}


def _positional(parameters, first_is_tensor):
    """Names that can be given by position, up to the first keyword-only or private one; the
    first tensor argument is called "input" whatever its name."""
    names = []
    for p in parameters:
        if p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) or p.name.startswith("_"):
            break
        names.append(p.name)
    if names and first_is_tensor and names[0] in TENSOR_NAMES:
        names[0] = "input"
    return names


def _of_callable(fn, first_is_tensor=True):
    parameters = list(inspect.signature(fn).parameters.values())
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
        first_is_tensor = False
    return _positional(parameters, first_is_tensor)


def _of_schema(name):
    """One list of positional names per overload of the native operator ``aten::name``."""
    op, _, overload = name.partition(".")
    overloads = []
    for schema in torch._C._jit_get_schemas_for_operator(f"aten::{op}"):
        if overload and schema.overload_name != overload:
            continue
        names = [a.name for a in schema.arguments if not a.kwarg_only]
        overloads.append(["input" if (k == 0 and n in TENSOR_NAMES) or n == "self" else n for k, n in enumerate(names)])
    return overloads


def _of_torch(name):
    """PyTorch's top-level ``name``: its Python signature, else its schemas, else its documentation."""
    try:
        return [_of_callable(getattr(torch, name))]
    except ValueError:  # a builtin
        return DOCUMENTED.get(name) or _of_schema(name)


def _cases():
    yield from ((f"minigen.{n}", getattr(mg, n), _of_torch(n)) for n in TOP_LEVEL)
    yield from ((f"minigen.{n}", getattr(mg, n), _of_schema(n)) for n in SCHEMAS)
    for n in FUNCTIONAL:
        theirs = (_of_schema(FUNCTIONAL_SCHEMAS[n]) if n in FUNCTIONAL_SCHEMAS else DOCUMENTED.get(n)
                  or [_of_callable(getattr(TF, n))])
        yield f"F.{n}", getattr(F, n), theirs
    yield from ((f"nn.{n}", getattr(nn, n), [_of_callable(getattr(torch.nn, n), False)]) for n in LAYERS)
    yield from ((f"Module.{n}", getattr(nn.Module, n), [_of_callable(getattr(torch.nn.Module, n))])
                for n in MODULE_METHODS)
    yield from ((f"nn.init.{n}", getattr(nn.init, n), [_of_callable(getattr(torch.nn.init, n))]) for n in INIT)
    yield from ((f"nn.utils.{n}", getattr(nn.utils, n), [_of_callable(getattr(torch.nn.utils, n), False)])
                for n in UTILS)
    yield from ((f"optim.{n}", getattr(optim, n), [_of_callable(getattr(torch.optim, n), False)]) for n in OPTIM)
    yield from ((f"optim.lr_scheduler.{n}", getattr(optim.lr_scheduler, n),
                 [_of_callable(getattr(torch.optim.lr_scheduler, n), False)]) for n in SCHEDULERS)
    yield from ((f"Optimizer.{n}", getattr(optim.Optimizer, n), [_of_callable(getattr(torch.optim.Optimizer, n))])
                for n in ("zero_grad", "step", "add_param_group", "load_state_dict"))


CASES = list(_cases())


@pytest.mark.parametrize("name, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_positional_parameters_are_pytorchs(name, ours, theirs):
    first_is_tensor = not inspect.isclass(ours)
    mine = _of_callable(ours, first_is_tensor)
    assert mine in theirs, f"{name}: positional parameters {mine}, PyTorch's {' or '.join(map(str, theirs))}"


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "argmax", "softmax", "reshape", "permute",
                                  "transpose", "split", "flatten", "expand", "clamp", "pow", "matmul"])
def test_tensor_methods_are_the_functions(name):
    assert getattr(mg.Tensor, name) is getattr(mg, name)
