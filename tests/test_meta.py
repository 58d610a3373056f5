"""Rules about the code itself: every op is in the table; only backend imports CuPy; ops take
their array module from the backend; lower layers never import higher ones."""
import ast
import inspect
import pathlib

import minigen
import minigen.ops
from op_specs import SPECS

PACKAGE = pathlib.Path(minigen.__file__).parent
# The order of layers: a module may import only from its own layer or those before it.
LAYERS = ["suggest", "checks", "tempfiles", "backend", "dtypes", "grad_mode", "autograd", "ops", "creation", "gradcheck", "progress", "serialization", "data", "nn", "optim",
          "models", "exercises"]


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_every_differentiable_op_has_a_spec():
    covered = {spec.name for spec in SPECS if spec.differentiable}
    missing = set(minigen.ops.DIFFERENTIABLE) - covered
    assert not missing, f"ops without an entry in tests/op_specs.py: {sorted(missing)}"


def test_every_inplace_op_has_a_spec():
    covered = {spec.name for spec in SPECS if spec.differentiable}
    missing = set(minigen.ops.INPLACE) - covered
    assert not missing, f"in-place ops without an entry in tests/op_specs_inplace.py: {sorted(missing)}"


def test_every_op_without_gradient_has_a_forward_spec():
    covered = {spec.name for spec in SPECS if not spec.differentiable}
    missing = set(minigen.ops.NOT_DIFFERENTIABLE) - covered
    assert not missing, f"ops without a forward entry in tests/op_specs.py: {sorted(missing)}"


def test_every_public_function_of_the_op_modules_is_listed():
    listed = set(minigen.ops.DIFFERENTIABLE) | set(minigen.ops.NOT_DIFFERENTIABLE) | set(minigen.ops.INPLACE)
    helpers = {"normalize_dim", "broadcast_shape", "output_size", "as_pair", "accepts_one_image", "as_operands",
               "as_floating", "constant"}  # not ops
    for module in (minigen.ops.elementwise, minigen.ops.activation, minigen.ops.reduce, minigen.ops.shape, minigen.ops.linalg,
                   minigen.ops.conv, minigen.ops.discrete, minigen.ops.indexing, minigen.ops.inplace):
        public = {name for name, obj in vars(module).items()
                  if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_")}
        unlisted = public - listed - helpers
        assert not unlisted, f"{module.__name__} defines ops not listed in minigen.ops: {sorted(unlisted)}"


def test_only_backend_imports_cupy():
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if path.name != "backend.py"
                 and any(name.split(".")[0] in ("cupy", "cupyx") for name in _imported_modules(path))]
    assert not offenders, f"only minigen/backend.py may import CuPy; also imported in {offenders}"


def test_ops_use_numpy_only_for_shapes_and_dtypes():
    """Array math in ops goes through ``backend.array_module(x)`` so it runs on CuPy too."""
    allowed = {"argsort", "broadcast_shapes", "cumsum", "integer", "ndarray", "asarray", "dtype", "float32", "float64"}
    for path in (PACKAGE / "ops").glob("*.py"):
        used = {node.attr for node in ast.walk(_tree(path))
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np"}
        assert used <= allowed, f"{path.name} calls numpy directly for {sorted(used - allowed)}: use backend.array_module"


def test_lower_layers_never_import_higher_ones():
    for path in PACKAGE.rglob("*.py"):
        layer = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if layer not in LAYERS:
            continue
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[0] == "minigen" and len(parts) > 1 and parts[1] in LAYERS:
                assert LAYERS.index(parts[1]) <= LAYERS.index(layer), f"{path.name} (layer {layer}) imports {name}"


def test_every_public_function_of_nn_functional_has_a_spec():
    import minigen.nn.functional as F
    covered = {spec.name for spec in SPECS}
    public = {name for name, obj in vars(F).items()
              if inspect.isfunction(obj) and obj.__module__ == F.__name__ and not name.startswith("_")}
    missing = (public | set(F.__all__)) - covered  # __all__: those defined elsewhere too (resampling.py)
    assert not missing, f"minigen.nn.functional functions without an entry in the op-spec table: {sorted(missing)}"
