"""minigen.progress: a bar that counts, redraws at most every min_interval, and ends its line."""
import io

import pytest

from minigen import progress as progress_module
from minigen.progress import progress


class FakeClock:
    """A clock that stands still until the test moves it."""

    now = 0.0

    def __call__(self):
        return self.now


def _draws(text):
    return text.count("\r")


def test_it_yields_every_item_and_ends_with_the_final_count():
    out = io.StringIO()
    assert list(progress(range(7), desc="train", file=out, disable=False)) == list(range(7))
    final = out.getvalue().split("\r")[-1]
    assert final.startswith("train  7/7  [####################]  100%") and final.endswith("it/s\n")


def test_set_postfix_shows_values_after_the_bar():
    out = io.StringIO()
    bar = progress(range(3), file=out, disable=False)
    for step in bar:
        bar.set_postfix(loss=1 / 3, step=step)
    assert out.getvalue().rstrip().endswith("loss=0.3333  step=2")


def test_redraws_are_throttled_to_min_interval(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "_clock", clock)
    out = io.StringIO()
    for _ in progress(range(100), file=out, disable=False, min_interval=0.1):
        clock.now += 0.03  # 100 steps in 3 s: a redraw every fourth step
    assert _draws(out.getvalue()) == 1 + 25 + 1  # the first line, the redraws, the final line


def test_without_a_total_it_shows_count_and_rate(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "_clock", clock)
    out = io.StringIO()
    for _ in progress(iter(range(4)), file=out, disable=False, unit="img"):
        clock.now += 0.5
    assert out.getvalue().split("\r")[-1].startswith("4img  00:02  2.0img/s")


def test_unit_scale_writes_kilo_and_mega():
    out = io.StringIO()
    with progress(total=9_912_422, file=out, disable=False, unit="B", unit_scale=True) as bar:
        bar.update(4_956_211)
    assert "4.96M/9.91M" in out.getvalue().split("\r")[-1]


@pytest.mark.parametrize("disable", [None, True])
def test_it_stays_silent_off_a_terminal_or_when_disabled(disable):
    out = io.StringIO()  # not a TTY
    assert sum(progress(range(5), file=out, disable=disable)) == 10
    assert out.getvalue() == ""


def test_breaking_out_of_the_loop_still_ends_the_line():
    out = io.StringIO()
    bar = progress(range(10), file=out, disable=False)
    for step in bar:
        if step == 2:
            break
    bar.close()
    assert out.getvalue().endswith("\n") and out.getvalue().count("\n") == 1
