"""The tour: every demo is in it, and it prints one line per demo (the fast demos here;
the MNIST demos' quick modes have their own tests)."""
import io
import pathlib
import sys
import types

import pytest

from minigen.progress import progress

DEMOS_DIR = pathlib.Path(__file__).parents[1] / "demos"
sys.path.insert(0, str(DEMOS_DIR))
import tour  # noqa: E402

FAST = ["autograd_tour", "markov_weather", "bayes_classifier", "hmm_pen_digits"]


def test_the_tour_runs_every_demo():
    demos = {p.stem for p in DEMOS_DIR.glob("*.py")} - {"__init__", "common", "tour"}
    assert set(tour.NAMES) == demos


def test_the_tour_prints_one_line_per_demo_with_its_headline(tmp_path, capsys):
    results = tour.main(["--only", *FAST, "--out", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == FAST and lines[-1].startswith("tour done")
    assert "0.0144" in lines[1] and f"{results['bayes_classifier']['shared_test_accuracy']:.1%}" in lines[2]
    for name in FAST[1:]:
        assert (tmp_path / name / "metrics.json").exists() and str(tmp_path / name) in lines[FAST.index(name)]
    assert "fitted y = " in (tmp_path / "autograd_tour" / "log.txt").read_text()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def fake_demo(main):
    return types.SimpleNamespace(main=main)


def only(monkeypatch, name, main):
    """The tour with one demo, ``name``, whose main is ``main``."""
    monkeypatch.setattr(tour, "DEMOS", [(name, fake_demo(main), lambda metrics: "headline", {"out"})])


def test_a_demos_log_is_written_line_by_line_while_it_runs(tmp_path, monkeypatch):
    seen = []

    def main(argv):
        print("epoch 1: loss 0.5")
        seen.append((tmp_path / "fake" / "log.txt").read_text())
        return {}
    only(monkeypatch, "fake", main)
    tour.main(["--out", str(tmp_path)])
    assert seen == ["epoch 1: loss 0.5\n"]


def test_on_a_terminal_a_demos_progress_bars_are_drawn_on_its_line_and_wiped(tmp_path, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    def main(argv):
        sum(progress(range(3), desc="epoch 1/3"))
        print("a line for the log")
        return {}
    only(monkeypatch, "fake", main)
    tour.main(["--out", str(tmp_path)])
    drawn = terminal.getvalue()
    assert "\rfake               epoch 1/3  3/3  [####################]  100%" in drawn
    assert drawn.endswith("\r") and drawn.split("\r")[-2].strip() == ""  # wiped before the tour's line
    assert (tmp_path / "fake" / "log.txt").read_text() == "a line for the log\n"
    assert capsys.readouterr().out.startswith("fake               headline")


def test_the_tour_says_when_the_dcgan_first_trains_its_judge(tmp_path, monkeypatch, capsys):
    only(monkeypatch, "dcgan_mnist", lambda argv: {})
    monkeypatch.setattr(tour, "cache_path", lambda: tmp_path / "judge" / "none-yet.npz")
    tour.main(["--out", str(tmp_path)])
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("dcgan_mnist        first trains the judge that scores its samples, once")


def test_ctrl_c_stops_the_tour_with_one_line_naming_the_demo(tmp_path, monkeypatch):
    def main(argv):
        raise KeyboardInterrupt("fake: continue with: python demos/fake.py --resume")
    only(monkeypatch, "fake", main)
    with pytest.raises(KeyboardInterrupt) as stop:
        tour.main(["--out", str(tmp_path)])
    assert str(stop.value) == (f"tour: stopped in fake ({tmp_path / 'fake' / 'log.txt'}): "
                               "fake: continue with: python demos/fake.py --resume")
