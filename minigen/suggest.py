"""A missing name answers with the nearest one there is: ``Tensor has no 'detatch'; did you mean
'detach'?``, ``module 'minigen.nn' has no attribute 'Conv3d'; did you mean 'Conv2d'?``."""
import difflib


def did_you_mean(name, names):
    """``"; did you mean 'x'?"`` for the name of ``names`` closest to ``name``, or ``""``."""
    close = [] if name.startswith("__") else difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def suggesting_getattr(module_name, namespace):
    """A module-level ``__getattr__`` (PEP 562, asked only for names the module lacks) whose
    AttributeError names the closest public name of ``namespace`` (the module's globals(), its
    ``__all__`` when it has one)."""
    def __getattr__(name):
        public = namespace.get("__all__") or [key for key in namespace if not key.startswith("_")]
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}{did_you_mean(name, public)}")
    return __getattr__
