"""Grad mode: whether operations on tensors that require grad are recorded; anomaly detection.

``with no_grad():`` (or ``@no_grad()``) turns recording off inside, ``enable_grad`` on;
``autograd.Function.apply`` reads ``_GradMode.enabled``. ``with detect_anomaly():`` makes the
backward engine check each gradient for NaN.
"""
import inspect


class _GradMode:
    enabled = True


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return _GradMode.enabled


class _grad_mode:
    """``with _grad_mode(flag):`` sets recording on or off inside, and restores it after."""

    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.saved, _GradMode.enabled = _GradMode.enabled, self.enabled

    def __exit__(self, *exc):
        _GradMode.enabled = self.saved


class _SetGradMode:
    """Context manager and decorator that sets the grad mode inside it."""

    enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        self._saved = []
        return self(func) if callable(func) else self

    def __enter__(self):
        self._saved.append(_GradMode.enabled)
        _GradMode.enabled = self.enabled

    def __exit__(self, *exc):
        _GradMode.enabled = self._saved.pop()

    def __call__(self, func):
        mode = type(self)
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(mode, func)

        def wrapper(*args, **kwargs):
            with mode():
                return func(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = func.__name__, func.__doc__, func
        return wrapper


def _generator_in_mode(mode, func):
    """A generator function whose every step (send, throw, close) runs inside ``mode()``;
    between steps, the caller's grad mode holds (as PyTorch does)."""
    def wrapper(*args, **kwargs):
        steps = func(*args, **kwargs)
        step, arg = steps.send, None
        while True:
            with mode():
                try:
                    value = step(arg)
                except StopIteration as stop:
                    return stop.value
            try:
                step, arg = steps.send, (yield value)
            except BaseException as error:  # throw() and close() go on to the inner generator
                step, arg = steps.throw, error

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = func.__name__, func.__doc__, func
    return wrapper


class no_grad(_SetGradMode):
    """``with no_grad():`` or ``@no_grad()``: operations inside record no graph."""

    enabled = False


class enable_grad(_SetGradMode):
    """``with enable_grad():`` or ``@enable_grad()``: recording on, even inside no_grad."""

    enabled = True


class _Anomaly:
    enabled = False


class detect_anomaly:
    """``with detect_anomaly():`` every backward inside checks each gradient it computes for NaN
    and raises a RuntimeError naming the op whose backward produced the first one (slower)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.saved, _Anomaly.enabled = _Anomaly.enabled, self.check_nan

    def __exit__(self, *exc):
        _Anomaly.enabled = self.saved
