"""A name missing from minigen.nn or minigen.nn.functional answers with the nearest one there:
``AttributeError: module 'minigen.nn' has no attribute 'Conv3d'; did you mean 'Conv2d'?``"""
import difflib


def suggesting_getattr(module_name, namespace):
    """A module-level ``__getattr__`` (PEP 562, asked only for names the module lacks) whose
    AttributeError names the closest public name of ``namespace`` (the module's globals(), its
    ``__all__`` when it has one)."""
    def __getattr__(name):
        public = namespace.get("__all__") or [key for key in namespace if not key.startswith("_")]
        close = [] if name.startswith("__") else difflib.get_close_matches(name, public, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}{hint}")
    return __getattr__
