"""Argument checks for the doors of public functions: one call per argument, one message format.

Every check raises the built-in exception that fits, with one sentence that names the
function, the argument, what was expected and what came:

    {where}: {name} must be {expected}, got {value!r}

(a TypeError from check_number and check_bool adds the value's type). The teaching code
behind a door trusts what passed it.

    is_int(value)                                      an integer, not a bool
    check_int(where, name, value, lowest=1)            an integer >= lowest
    check_number(where, name, value)                   a real number (TypeError)
    check_nonnegative(where, name, value)              a number >= 0
    check_bool(where, name, value)                     True or False (TypeError)
    check_fraction(where, name, value)                 a number in [0, 1)
    fail(where, name, expected, value)                 the message itself, for any other condition
"""
import numbers

import numpy as np


def fail(where, name, expected, value, error=ValueError, show_type=False):
    """Raise ``error`` in the one format; show_type adds the value's type name in parentheses."""
    message = f"{where}: {name} must be {expected}, got {value!r}"
    raise error(message + f" ({type(value).__name__})" if show_type else message)


def is_int(value):
    """True for a Python or NumPy integer; False for a bool, which Python counts as an int."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(where, name, value, lowest=1, expected=None, error=ValueError):
    """``value`` as an int, after raising unless it is an integer (not a bool) >= lowest.

    expected: the message's words; by default "a positive int" for lowest 1, else
    "an int of at least {lowest}".
    """
    if not is_int(value) or value < lowest:
        fail(where, name, expected or ("a positive int" if lowest == 1 else f"an int of at least {lowest}"),
             value, error)
    return int(value)


def check_number(where, name, value):
    """Raise TypeError unless ``value`` is a real number (None, a string... are not)."""
    if not isinstance(value, numbers.Real):
        fail(where, name, "a number", value, TypeError, show_type=True)


def check_nonnegative(where, name, value):
    """Raise TypeError unless ``value`` is a number, ValueError unless it is >= 0."""
    check_number(where, name, value)
    if not value >= 0:
        fail(where, name, ">= 0", value)


def check_bool(where, name, value):
    """Raise TypeError unless ``value`` is True or False (a NumPy bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        fail(where, name, "True or False", value, TypeError, show_type=True)


def check_fraction(where, name, value):
    """Raise TypeError unless ``value`` is a number, ValueError unless it lies in [0, 1) (Adam's betas...)."""
    check_number(where, name, value)
    if not 0 <= value < 1:
        fail(where, name, "in [0, 1)", value)
