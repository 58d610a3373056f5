"""Running an exercise's checks with the student's function swapped in, and saying what is wrong.

A check is a function ``check(candidate)`` whose docstring's first line names it. It
passes by returning and fails by raising ``CheckFailure`` with a message a student can act
on (which input, which entry, a guess at the mistake). While it runs, ``swapped`` has put
the candidate wherever minigen refers to the reference, so ``x * y`` calls a student's
``Mul.backward`` and ``CategoricalHMM.fit`` a student's ``forward_scaled``.
"""
import contextlib
import pathlib
import sys
import sysconfig
import traceback
from dataclasses import dataclass

import numpy as np

import minigen
from minigen import backend
from minigen.autograd import Tensor
from minigen.gradcheck import GradcheckError, gradcheck, gradgradcheck


class CheckFailure(AssertionError):
    """A check found the student's code wrong; the message says where and suggests why."""


# ------------------------------------------------------------------ swapping the student's function in
def _places(exercise):
    """(holder, name) of every place where minigen holds the exercise's current object.

    The owner (module or class) itself, and for a module-level function every loaded
    ``minigen.*`` module that imported it by name (``from minigen.ops.shape import sum_to``);
    the exercises package itself is left out, so its checks always see the references.
    """
    current = vars(exercise.owner)[exercise.attr]
    places = [(exercise.owner, exercise.attr)]
    if isinstance(exercise.owner, type):
        return places
    for module_name, module in list(sys.modules.items()):
        if module is None or module is exercise.owner or not module_name.startswith("minigen.") \
                or module_name.startswith("minigen.exercises"):
            continue
        places += [(module, name) for name, value in list(vars(module).items()) if value is current]
    return places


def install(exercise, candidate):
    """Put ``candidate`` in every place of the exercise's reference; returns what was there, to restore."""
    saved = [(holder, name, vars(holder)[name]) for holder, name in _places(exercise)]
    for holder, name, _ in saved:
        setattr(holder, name, candidate)
    return saved


@contextlib.contextmanager
def swapped(exercise, candidate):
    """``with swapped(exercise, f):`` minigen runs ``f`` in place of the reference, restored after."""
    saved = install(exercise, candidate)
    try:
        yield
    finally:
        for holder, name, original in saved:
            setattr(holder, name, original)


# ------------------------------------------------------------------ running checks
@dataclass(frozen=True)
class Result:
    check: str      # the check's title
    passed: bool
    message: str    # why it failed ("" when it passed)


NOT_IMPLEMENTED = "not implemented yet: the function still raises NotImplementedError"


def run_checks(exercise, candidate):
    """Run every check of ``exercise`` on ``candidate``; a list of Result, one per check.

    Stops at the first NotImplementedError (the remaining checks could only say the same).
    """
    return list(iter_checks(exercise, candidate))


def iter_checks(exercise, candidate):
    """The Results of run_checks, one by one as each check ends."""
    for check in exercise.checks:
        minigen.manual_seed(0)
        try:
            with swapped(exercise, candidate):
                check(candidate)
        except NotImplementedError:
            yield Result(title(check), False, NOT_IMPLEMENTED)
            return
        except (CheckFailure, GradcheckError) as failure:
            yield Result(title(check), False, str(failure))
        except (Exception, SystemExit) as error:  # the student's code raised: say what, and where in their file
            yield Result(title(check), False, describe_error(error))
        else:
            yield Result(title(check), True, "")


def title(check):
    """A check's title: the first line of its docstring."""
    return check.__doc__.strip().splitlines()[0]


def describe_error(error):
    """'raised TypeError: ... (at exercises/x.py line 12: <the line>)' for an exception from student code."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _is_student_code(f.filename)]
    where = f" (at {frames[-1].filename} line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    message = error
    if isinstance(error, SyntaxError):  # the file did not compile, so no line of it ran: the error says where
        message, where = error.msg, f" (at {error.filename} line {error.lineno}: {(error.text or '').strip()})"
    hint = ""
    if isinstance(error, SystemExit):
        hint = "\n  hint: sys.exit() and exit() end the program: a check needs your function to return its answer"
    if isinstance(error, RecursionError):
        hint = ("\n  hint: a function that calls itself without end (directly, or through minigen, where your "
                "function now stands in for minigen's)? Deep graphs need an explicit stack (a list), not recursion")
    return f"raised {type(error).__name__}: {message}{where}{hint}"


def _is_student_code(filename):
    """Not minigen's own code, nor Python's (frozen modules too) or an installed package's."""
    if filename.startswith("<"):
        return False
    path = pathlib.Path(filename).resolve()
    return not any(path.is_relative_to(root) for root in _LIBRARY_ROOTS)


_LIBRARY_ROOTS = [pathlib.Path(minigen.__file__).resolve().parent] + [
    pathlib.Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"]}]


@contextlib.contextmanager
def case(description):
    """Prefix any failure inside with the case it happened in (``with case("x (3, 1) * y (4,)"):``)."""
    try:
        yield
    except NotImplementedError:
        raise
    except (CheckFailure, GradcheckError) as failure:
        if isinstance(failure.__cause__, NotImplementedError):  # gradcheck wraps the errors of backward
            raise failure.__cause__
        raise CheckFailure(f"{description}:\n{failure}") from None
    except Exception as error:
        raise CheckFailure(f"{description}: {describe_error(error)}") from None


# ------------------------------------------------------------------ comparing
def fail(message):
    raise CheckFailure(message)


def as_numpy(value):
    """A Tensor, CuPy or NumPy array or number as a NumPy array."""
    if isinstance(value, Tensor):
        value = value.data
    return backend.to_host(value) if backend.is_array(value) else np.asarray(value)


def value_hint(got, expected):
    """A guess at the mistake that turns ``expected`` into ``got``, or ''."""
    if not np.isfinite(got).all() and np.isfinite(expected).all():
        return "you return inf or nan where the answer is finite: an overflowing exp, the log of 0, or 0/0?"
    finite = np.isfinite(expected) & np.isfinite(got)
    g, e = got[finite], expected[finite]
    if g.size == 0 or not np.any(e):
        return ""
    if np.allclose(g, -e, rtol=1e-4, atol=1e-8):
        return "the sign is flipped"
    if got.ndim >= 2 and got.shape[-1] == got.shape[-2] and np.allclose(got, np.swapaxes(expected, -1, -2)):
        return "transposed: rows and columns swapped?"
    scale = np.vdot(g, e) / np.vdot(e, e)
    if np.allclose(g, scale * e, rtol=1e-4, atol=1e-8) and not np.isclose(scale, 1.0):
        return f"off by a constant factor: yours = {scale:.4g} x expected (a missing 1/2, 2 or 1/n?)"
    return ""


def hint_when(got, wrong, hint):
    """``hint`` when ``got`` is the wrong answer ``wrong`` that it explains, else '' (a hint must not mislead)."""
    got, wrong = as_numpy(got), as_numpy(wrong)
    return hint if got.shape == wrong.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-8) else ""


def compare(what, got, expected, atol=1e-8, rtol=1e-6, hint="", shape_hint=""):
    """Fail unless ``got`` has ``expected``'s shape and values; the message names the worst entry.

    ``hint`` is a guess for wrong values, ``shape_hint`` one for a wrong shape (the other would mislead there).
    """
    got, expected = as_numpy(got), as_numpy(expected)
    if got.shape != expected.shape:
        guess = " (transposed?)" if got.shape == expected.shape[::-1] else ""
        fail(f"{what}: got shape {got.shape}, expected {expected.shape}{guess}"
             + (f"\n  hint: {shape_hint}" if shape_hint else ""))
    same = np.isclose(got, expected, atol=atol, rtol=rtol) | (np.isnan(got) & np.isnan(expected))
    if same.all():
        return
    error = np.where(same, -1.0, np.nan_to_num(np.abs(got - expected), nan=np.inf, posinf=np.inf))
    worst = np.unravel_index(np.argmax(error), got.shape)
    lines = [f"{what}: {int((~same).sum())} of {same.size} entries differ; worst at index "
             f"{tuple(int(i) for i in worst)}: got {got[worst]:.6g}, expected {expected[worst]:.6g}"]
    for guess in (value_hint(got.astype(float), expected.astype(float)), hint):
        if guess:
            lines.append(f"  hint: {guess}")
    if got.size <= 24:
        lines += [f"  got:      {np.array2string(got, precision=4)}",
                  f"  expected: {np.array2string(expected, precision=4)}"]
    fail("\n".join(lines))


def leaf(rng, *shape, low=None, high=None):
    """A float64 Tensor that requires grad: standard normal, or uniform in [low, high)."""
    data = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=True)


def check_gradients(what, fn, inputs, second=False):
    """gradcheck (and gradgradcheck with ``second``) of fn at inputs; the failure names ``what``."""
    with case(what):
        gradcheck(fn, inputs)
        if second:
            gradgradcheck(fn, inputs)
