"""A small progress bar for long loops, in the spirit of tqdm, with no dependencies.

    bar = progress(loader, desc="epoch 3")
    for x, y in bar:
        loss = ...
        bar.set_postfix(loss=loss.item())

prints, on one line redrawn at most ten times a second, then once more at the end::

    epoch 3  120/469  [#####---------------]   26%  00:04<00:11  30.1it/s  loss=0.2315

It draws only when ``file`` is a terminal, so logs and CI output stay clean; pass
``disable=False`` to draw anyway, ``disable=True`` to stay silent.
"""
import numbers
import sys
import time

_clock = time.monotonic  # the tests swap in a fake clock
_WIDTH = 20  # characters of the bar


class progress:
    """Wrap ``iterable`` (or count by hand with ``update(n)``) and show how far it got.

    total: the number of steps (default ``len(iterable)`` when it has one; without it
    the bar shows the count and rate only). desc: a label in front. file: where to draw
    (default ``sys.stderr`` at the time of the call). disable: None draws only on a
    terminal. min_interval: seconds between redraws. unit: the name of one step;
    ``unit_scale=True`` writes counts as 1.2k, 3.4M (for bytes: ``unit="B"``).
    """

    def __init__(self, iterable=None, total=None, desc="", file=None, disable=None,
                 min_interval=0.1, unit="it", unit_scale=False):
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit, self.unit_scale = iterable, total, desc, unit, unit_scale
        self.file = sys.stderr if file is None else file
        self.disable = not (hasattr(self.file, "isatty") and self.file.isatty()) if disable is None else disable
        self.min_interval = min_interval
        self.n, self.postfix, self.closed = 0, {}, False
        self.start = self._last_draw = _clock()
        self._last_width = 0
        self._draw()

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n=1):
        """Count ``n`` more steps; redraw if ``min_interval`` has passed since the last drawing."""
        self.n += n
        now = _clock()
        if now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._draw()

    def set_postfix(self, **values):
        """Show ``name=value`` pairs after the bar (floats with 4 significant digits)."""
        self.postfix = {name: f"{value:.4g}" if _is_float(value) else str(value) for name, value in values.items()}

    def close(self):
        """Draw the final line and end it with a newline (once)."""
        if not self.closed:
            self.closed = True
            self._draw(end="\n")

    def _number(self, n):
        """A count or a rate as text: 1.2k, 3.4M with ``unit_scale``, else 120 or 30.1."""
        if self.unit_scale:
            for prefix in ("", "k", "M", "G"):
                if abs(n) < 999.5:
                    return f"{n:.3g}{prefix}"
                n /= 1000
            return f"{n:.3g}T"
        return str(n) if isinstance(n, int) else f"{n:.1f}"

    def _line(self):
        elapsed = _clock() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        parts = [self.desc] if self.desc else []
        if self.total:
            filled = int(_WIDTH * min(self.n / self.total, 1))
            remaining = f"<{_clock_format(max(self.total - self.n, 0) / rate)}" if rate > 0 else ""
            parts += [f"{self._number(self.n)}/{self._number(self.total)}",
                      f"[{'#' * filled}{'-' * (_WIDTH - filled)}]",
                      f"{100 * self.n / self.total:3.0f}%", _clock_format(elapsed) + remaining]
        else:
            parts += [f"{self._number(self.n)}{self.unit}", _clock_format(elapsed)]
        parts.append(f"{self._number(rate)}{self.unit}/s")
        parts += [f"{name}={value}" for name, value in self.postfix.items()]
        return "  ".join(parts)

    def _draw(self, end=""):
        if self.disable:
            return
        line = self._line()
        self.file.write("\r" + line.ljust(self._last_width) + end)  # pad to wipe a longer previous line
        self.file.flush()
        self._last_width = len(line)


def _is_float(value):
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def _clock_format(seconds):
    """``75.3`` -> ``"01:15"``; an hour or more as ``"1:02:03"``."""
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
