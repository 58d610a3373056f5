"""The tour: every demo is in it, and it prints one line per demo (the fast demos here;
the MNIST demos' quick modes have their own tests)."""
import pathlib
import sys

DEMOS_DIR = pathlib.Path(__file__).parents[1] / "demos"
sys.path.insert(0, str(DEMOS_DIR))
import tour  # noqa: E402

FAST = ["autograd_tour", "markov_weather", "bayes_classifier", "hmm_pen_digits"]


def test_the_tour_runs_every_demo():
    demos = {p.stem for p in DEMOS_DIR.glob("*.py")} - {"common", "tour"}
    assert set(tour.NAMES) == demos


def test_the_tour_prints_one_line_per_demo_with_its_headline(tmp_path, capsys):
    results = tour.main(["--only", *FAST, "--out", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == FAST and lines[-1].startswith("tour done")
    assert "0.0144" in lines[1] and f"{results['bayes_classifier']['shared_test_accuracy']:.1%}" in lines[2]
    for name in FAST[1:]:
        assert (tmp_path / name / "metrics.json").exists() and str(tmp_path / name) in lines[FAST.index(name)]
    assert "fitted y = " in (tmp_path / "autograd_tour" / "log.txt").read_text()
