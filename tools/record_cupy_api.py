"""Record the names and parameter names of CuPy's public API into tests/cupy_api.json.

    python tools/record_cupy_api.py [OUTPUT]      # default: tests/cupy_api.json

The record is what tests/strict_cupy.py (the CuPy stand-in of the CPU test runs) lets
minigen use: a name that is not in it does not exist there, and a keyword that a recorded
parameter list lacks is refused. CuPy imports without a GPU, so this runs on any machine
with CuPy installed; run it again after upgrading CuPy and commit the new record.

For each namespace the record holds ``callables`` (name -> parameter names, or null when
neither inspect.signature nor the first line of the docstring gives one) and ``values``
(the other names). Parameter names are joined by ", " as Python spells a signature: ``/`` ends
the positional-only parameters, ``*`` starts the keyword-only ones, ``*args`` and
``**kwargs`` are the variadic ones; ``self`` is left out of methods; defaults are left out.
"""
import inspect
import json
import pathlib
import re
import sys

import cupy
import cupy.cuda.runtime
import cupy.lib.stride_tricks

DEFAULT_OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "cupy_api.json"
ABOUT = ("Public names of CuPy and their parameter names, written by tools/record_cupy_api.py "
         "and read by tests/strict_cupy.py. callables: name -> parameter names joined by ', ' "
         "('/' ends the positional-only ones, '*' starts the keyword-only ones, defaults left out), "
         "or null when the signature is unknown (no inspect.signature and no 'name(...)' first "
         "docstring line); values: the names that are not callable.")
_DOC_SIGNATURE = re.compile(r"^[\w.]*?\w+\((.*)\)(\s*->.*)?$")  # "ufunc.at(self, a, indices, b=None)"


def namespaces():
    """(record key, object, include dunder names) for everything the record covers."""
    return [
        ("cupy", cupy, False),
        ("cupy.linalg", cupy.linalg, False),
        ("cupy.random", cupy.random, False),
        ("cupy.fft", cupy.fft, False),
        ("cupy.lib", cupy.lib, False),
        ("cupy.lib.stride_tricks", cupy.lib.stride_tricks, False),
        ("cupy.cuda", cupy.cuda, False),
        ("cupy.cuda.runtime", cupy.cuda.runtime, False),
        ("cupy.cuda.Device", cupy.cuda.Device, True),
        ("cupy.ndarray", cupy.ndarray, True),
        ("cupy.ufunc", type(cupy.add), True),
    ]


def split_parameters(text):
    """``"a, b=(1, 2), *, c='x,y'"`` -> the parameter names ``["a", "b", "*", "c"]``."""
    pieces, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append(current)
            current = ""
            continue
        current += char
    pieces.append(current)
    names = []
    for piece in pieces:
        words = piece.split("=")[0].split(":")[0].replace("\\", "").split()
        if words:
            names.append(words[-1])  # Cython's "_ndarray_base b" -> "b"
    return names[1:] if names[:1] in (["self"], ["$self"]) else names


def parameters(obj):
    """The parameter names of a callable, joined by ", " (see split_parameters), or None when unknown."""
    try:
        text = str(inspect.signature(obj))
        return ", ".join(split_parameters(text[1:text.rindex(")")]))
    except (TypeError, ValueError):
        pass
    first_line = (getattr(obj, "__doc__", None) or "").strip().split("\n")[0]
    match = _DOC_SIGNATURE.match(first_line)
    return None if match is None else ", ".join(split_parameters(match.group(1)))


def record_namespace(obj, with_dunders):
    """{"callables": {name: parameters}, "values": [names]} for the public names of ``obj``."""
    callables, values = {}, []
    for name in sorted(dir(obj)):
        if name.startswith("_") and not (with_dunders and name.startswith("__")):
            continue
        try:
            member = getattr(obj, name)
        except AttributeError:  # a lazily loaded submodule that is not installed
            continue
        if callable(member):
            callables[name] = parameters(member)
        else:
            values.append(name)
    return {"callables": callables, "values": values}


def record():
    """The whole record, as a JSON-ready dict."""
    return {"about": ABOUT, "cupy_version": cupy.__version__,
            "namespaces": {key: record_namespace(obj, dunders) for key, obj, dunders in namespaces()}}


def main(argv):
    output = pathlib.Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    output.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main(sys.argv)
